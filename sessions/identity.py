"""Caller pseudonyms: a keyed hash of the phone number, so no session or profile key holds a number.

The key (pepper) comes from the operator's secret (``GATEWAY_SECRET``) when set, so a copy of Redis alone reveals
no number; otherwise it is made once per installation and kept in Redis, so every web process and worker still
derives the same pseudonym for the same number.
"""

from __future__ import annotations

import hashlib
import secrets

from redis import Redis

from .keys import PEPPER_KEY


def pepper_from_secret(secret: str) -> bytes:
    """The pepper derived from an operator's secret (any length)."""
    return hashlib.sha256(b"feature-phone-gateway pepper\0" + secret.encode()).digest()


def load_pepper(connection: Redis) -> bytes:
    """The installation's pepper kept in Redis, created on first use. Call once at start, not per request."""
    connection.set(PEPPER_KEY, secrets.token_hex(32), nx=True)
    value = connection.get(PEPPER_KEY)
    if value is None:  # pragma: no cover - only if someone deletes it between the two calls
        raise RuntimeError(f"Redis key {PEPPER_KEY!r} vanished while starting; start again.")
    return bytes.fromhex(value.decode() if isinstance(value, bytes) else value)


def caller_key(phone: str, pepper: bytes) -> str:
    """A stable pseudonym for ``phone`` (E.164), 32 hex characters."""
    return hashlib.blake2b(phone.encode(), key=pepper[:64], digest_size=16).hexdigest()
