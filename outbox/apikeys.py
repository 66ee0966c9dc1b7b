"""Agency API keys: random tokens of which only a SHA-256 hash is stored.

A key carries 256 bits of randomness, so a fast hash is enough (a slow password hash protects guessable
secrets, which these are not). The record says which agency the key speaks for and what it may do.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from redis_reply import fields

from . import keys

#: Every scope a key can hold; a key created without ``--scopes`` gets them all (CONTRACT §3).
SCOPES = ("broadcasts", "subscribers", "reports", "cap")
KEY_PREFIX = "gw_"


@dataclass(frozen=True)
class ApiKey:
    agency: str
    scopes: tuple[str, ...]


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(connection: Redis, agency: str, scopes: Iterable[str] | None = None) -> tuple[str, ApiKey]:
    """A new key for ``agency``; returns the key (shown once) and its record.

    Raises:
        ValueError: an unknown scope or an empty agency name.
    """
    agency = agency.strip()
    if not agency or len(agency) > 100 or any(c in agency for c in "{}:\n"):
        raise ValueError("The agency name must be 1-100 characters without braces, colons or newlines.")
    chosen = tuple(dict.fromkeys(s.strip() for s in scopes if s.strip())) if scopes is not None else SCOPES
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise ValueError(f"Unknown scope(s) {unknown or chosen}; choose from {', '.join(SCOPES)}.")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    connection.hset(keys.api_key(_hash(key)), mapping={
        "agency": agency, "scopes": ",".join(chosen), "created_at": datetime.now(UTC).isoformat(),
    })
    return key, ApiKey(agency, chosen)


def lookup(connection: Redis, key: str) -> ApiKey | None:
    """The record for ``key``, or None when no such key exists."""
    if not key or len(key) > 200:
        return None
    raw = connection.hgetall(keys.api_key(_hash(key)))
    if not raw:
        return None
    record = fields(raw)
    return ApiKey(record["agency"], tuple(s for s in record.get("scopes", "").split(",") if s))
