"""PIN checks: a salted slow hash (scrypt), and a lockout that outlives the session.

A PIN is 4 digits: 10,000 guesses. What protects it is the lockout: :data:`MAX_TRIES` wrong PINs in a row lock
the number for :data:`LOCK_S` seconds, counted per caller pseudonym in Redis, so hanging up and dialling again
does not reset it. The hash is scrypt (n=2**14, r=8, p=1: about 50 ms), so a copy of Redis does not hand over
PINs cheaply either; the salt is per account.

The PIN itself is a function argument and nothing else: never stored, logged, or put in a session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from redis import Redis

from ..keys import pin_failures_key, pin_lock_key

MAX_TRIES = 3
LOCK_S = 30 * 60
_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """``(salt, hash)`` for a PIN; a fresh 16-byte salt when none is given."""
    salt = salt or secrets.token_bytes(16)
    return salt, hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def matches(pin: str, salt: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(hash_pin(pin, salt)[1], expected)


@dataclass(frozen=True)
class Lockout:
    """Whether a caller is locked out, and for how many more seconds."""

    locked: bool
    seconds_left: int = 0


def lockout(connection: Redis, caller: str) -> Lockout:
    ttl = connection.ttl(pin_lock_key(caller))
    if ttl is not None and ttl > 0:
        return Lockout(True, int(ttl))
    return Lockout(False)


def record_failure(connection: Redis, caller: str) -> int:
    """Count one wrong PIN; returns the tries left (0 means the number is now locked)."""
    key = pin_failures_key(caller)
    pipe = connection.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, LOCK_S)
    failures, _ = pipe.execute()
    if failures >= MAX_TRIES:
        pipe = connection.pipeline(transaction=True)
        pipe.set(pin_lock_key(caller), "1", ex=LOCK_S)
        pipe.delete(key)
        pipe.execute()
        return 0
    return MAX_TRIES - int(failures)


def record_success(connection: Redis, caller: str) -> None:
    connection.delete(pin_failures_key(caller))
