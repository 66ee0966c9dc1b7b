"""Caller pseudonyms: a keyed hash of the phone number, so no session or profile key holds a number.

The key (pepper) is made once per installation and kept in Redis, so every web process and worker derives the
same pseudonym for the same number, and a copy of the keys alone does not reveal who called.
"""

from __future__ import annotations

import hashlib
import secrets

from redis import Redis

from .keys import PEPPER_KEY


def load_pepper(connection: Redis) -> bytes:
    """The installation's pepper, created on first use. Call once at start, not per request."""
    connection.set(PEPPER_KEY, secrets.token_hex(32), nx=True)
    value = connection.get(PEPPER_KEY)
    if value is None:  # pragma: no cover - only if someone deletes it between the two calls
        raise RuntimeError(f"Redis key {PEPPER_KEY!r} vanished while starting; start again.")
    return bytes.fromhex(value.decode() if isinstance(value, bytes) else value)


def caller_key(phone: str, pepper: bytes) -> str:
    """A stable pseudonym for ``phone`` (E.164), 32 hex characters."""
    return hashlib.blake2b(phone.encode(), key=pepper[:64], digest_size=16).hexdigest()
