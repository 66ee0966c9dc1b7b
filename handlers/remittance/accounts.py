"""The link between a caller and an account with a balance provider, with the PIN's salt and hash.

One Redis hash per caller pseudonym: provider name, account reference, PIN salt and hash, and the number to send
the balance to when the provider is slow (the SMS fallback runs in a worker, long after the USSD session).
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from redis_reply import fields

from ..keys import account_key
from .pins import hash_pin


@dataclass(frozen=True)
class Account:
    provider: str
    account: str
    salt: bytes
    pin_hash: bytes
    phone: str


def link(connection: Redis, caller: str, *, provider: str, account: str, pin: str, phone: str) -> None:
    """Link (or re-link) the caller's number to an account with a new PIN."""
    salt, digest = hash_pin(pin)
    connection.hset(account_key(caller), mapping={
        "provider": provider, "account": account, "salt": salt.hex(), "hash": digest.hex(), "phone": phone,
    })


def get(connection: Redis, caller: str) -> Account | None:
    raw = fields(connection.hgetall(account_key(caller)))
    if not raw:
        return None
    return Account(
        provider=raw["provider"],
        account=raw["account"],
        salt=bytes.fromhex(raw["salt"]),
        pin_hash=bytes.fromhex(raw["hash"]),
        phone=raw["phone"],
    )
