"""The link between a caller and an account with a balance provider, with the PIN's salt and keyed hash.

One Redis hash per caller pseudonym: provider name, account reference, PIN salt and hash (keyed by the secret:
:meth:`identity.keyring.Keyring.pin_hash`), and the number to send the balance to when the provider is slow,
sealed (the SMS fallback runs in a worker, long after the USSD session, and nothing else needs the number). The
record lives :data:`ACCOUNT_TTL_S` after its last use: an account nobody checks for that long is linked again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from redis import Redis

from identity.keyring import Keyring
from redis_reply import fields

from ..keys import account_key
from . import pins

#: An account link not used for this long lapses; each balance check renews it.
ACCOUNT_TTL_S = 400 * 24 * 3600


@dataclass(frozen=True)
class Account:
    provider: str
    account: str
    salt: bytes
    #: Empty once too many lockouts asked for the account to be linked again.
    pin_hash: bytes
    #: The number, sealed (:meth:`identity.keyring.Keyring.seal`).
    sealed_phone: str

    @property
    def needs_relink(self) -> bool:
        return not self.pin_hash


def link(connection: Redis, keyring: Keyring, phone: str, *, provider: str, account: str, pin: str) -> None:
    """Link (or re-link) the caller's number to an account with a new PIN; earlier lockouts are forgotten."""
    caller = keyring.pseudonym(phone)
    salt = secrets.token_bytes(16)
    pipe = connection.pipeline(transaction=True)
    pipe.hset(account_key(caller), mapping={
        "provider": provider, "account": account, "salt": salt.hex(), "hash": keyring.pin_hash(pin, salt).hex(),
        "to": keyring.seal(phone),
    })
    pipe.expire(account_key(caller), ACCOUNT_TTL_S)
    pipe.execute()
    pins.forget(connection, caller)


def get(connection: Redis, caller: str) -> Account | None:
    raw = fields(connection.hgetall(account_key(caller)))
    if not raw:
        return None
    return Account(
        provider=raw["provider"],
        account=raw["account"],
        salt=bytes.fromhex(raw["salt"]),
        pin_hash=bytes.fromhex(raw.get("hash", "")),
        sealed_phone=raw["to"],
    )


def renew(connection: Redis, caller: str) -> None:
    """A right PIN: the link is in use, so it lives another :data:`ACCOUNT_TTL_S`."""
    connection.expire(account_key(caller), ACCOUNT_TTL_S)


def require_relink(connection: Redis, caller: str) -> None:
    """Too many lockouts: drop the PIN hash, so no PIN opens the account until it is linked again."""
    connection.hdel(account_key(caller), "hash")
