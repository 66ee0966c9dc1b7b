"""Agency API keys: random tokens of which only a SHA-256 hash is stored.

A key carries 256 bits of randomness, so a fast hash is enough (a slow password hash protects guessable
secrets, which these are not). The record says which agency the key speaks for, what it may do (scopes) and
whose casework it handles (countries). Each key also has a short public id, so it can be listed and revoked
without ever being shown again; revoking deletes the record, so the very next request with it gets 401.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from identity.codes import country_code
from redis_reply import fields, optional_text

from . import keys

#: Every scope a key can hold.
SCOPES = ("broadcasts", "subscribers", "reports", "cap", "registry")
#: What a key created without ``--scopes`` gets: everything but ``reports``, which reads people's reports and
#: call-back numbers and must be asked for by name (CONTRACT §3).
DEFAULT_SCOPES = tuple(s for s in SCOPES if s != "reports")
KEY_PREFIX = "gw_"
#: "Last used" is written at most this often per key, so a busy key costs one write a minute, not one a request.
LAST_USED_RESOLUTION_S = 60


@dataclass(frozen=True)
class ApiKey:
    agency: str
    scopes: tuple[str, ...]
    countries: tuple[str, ...] = ()
    id: str = ""
    created_at: str = ""
    last_used: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "agency": self.agency, "scopes": list(self.scopes), "countries": list(self.countries),
                "created_at": self.created_at, "last_used": self.last_used}


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _csv(values: Iterable[str] | None) -> list[str]:
    return [v.strip() for v in values or () if v.strip()]


def create_key(connection: Redis, agency: str, scopes: Iterable[str] | None = None,
               countries: Iterable[str] | None = None) -> tuple[str, ApiKey]:
    """A new key for ``agency``; returns the key (shown once) and its record.

    Raises:
        ValueError: an unknown scope or country, or an unusable agency name.
    """
    agency = agency.strip()
    if not agency or len(agency) > 100 or any(c in agency for c in "{}:\n"):
        raise ValueError("The agency name must be 1-100 characters without braces, colons or newlines.")
    chosen = tuple(dict.fromkeys(_csv(scopes))) if scopes is not None else DEFAULT_SCOPES
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise ValueError(f"Unknown scope(s) {unknown or chosen}; choose from {', '.join(SCOPES)}.")
    codes = []
    for given in _csv(countries):
        code = country_code(given)
        if code is None:
            raise ValueError(f"{given[:10]!r} is not an ISO 3166-1 country code (e.g. KE or KEN).")
        codes.append(code)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = "k_" + secrets.token_hex(6)
    record = ApiKey(agency, chosen, tuple(dict.fromkeys(codes)), key_id, datetime.now(UTC).isoformat())
    pipe = connection.pipeline(transaction=True)
    pipe.hset(keys.api_key(_hash(key)), mapping={
        "id": key_id, "agency": agency, "scopes": ",".join(record.scopes), "countries": ",".join(record.countries),
        "created_at": record.created_at,
    })
    pipe.hset(keys.api_key_ids(), key_id, _hash(key))
    pipe.execute()
    return key, record


def _record(raw: dict[str, str]) -> ApiKey:
    used = raw.get("last_used")
    return ApiKey(agency=raw["agency"], scopes=tuple(s for s in raw.get("scopes", "").split(",") if s),
                  countries=tuple(c for c in raw.get("countries", "").split(",") if c), id=raw.get("id", ""),
                  created_at=raw.get("created_at", ""),
                  last_used=datetime.fromtimestamp(float(used), UTC).isoformat() if used else None)


def lookup(connection: Redis, key: str) -> ApiKey | None:
    """The record for ``key``, or None when no such key exists (never made, or revoked). Notes when it was
    used (at most once a minute)."""
    if not key or len(key) > 200:
        return None
    record_key = keys.api_key(_hash(key))
    raw = fields(connection.hgetall(record_key))
    if not raw:
        return None
    now = time.time()
    if now - float(raw.get("last_used") or 0) >= LAST_USED_RESOLUTION_S:
        # Only while the record exists: a revoke between the read and this write must not bring it back.
        connection.register_script(_TOUCH)(keys=[record_key], args=[repr(now)])
    return _record(raw)


# KEYS: a key's record. ARGV: now. Set last_used only on a record that still exists (never resurrect a revoked key).
_TOUCH = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'last_used', ARGV[1]) end
return 1
"""


def list_keys(connection: Redis, agency: str | None = None) -> list[ApiKey]:
    """Every key (or one agency's), oldest first; never the key itself, which is not stored."""
    hashes = fields(connection.hgetall(keys.api_key_ids()))
    pipe = connection.pipeline(transaction=False)
    for key_hash in hashes.values():
        pipe.hgetall(keys.api_key(key_hash))
    found = [_record(fields(raw)) for raw in pipe.execute() if raw]
    return sorted((k for k in found if agency is None or k.agency == agency), key=lambda k: k.created_at)


def revoke(connection: Redis, key_id: str, agency: str | None = None) -> bool:
    """Delete the key with this id (only if it belongs to ``agency``, when given); True when one was revoked.
    Takes effect on the next request: authentication reads the record every time."""
    key_hash = optional_text(connection.hget(keys.api_key_ids(), key_id))
    if key_hash is None:
        return False
    if agency is not None and optional_text(connection.hget(keys.api_key(key_hash), "agency")) != agency:
        return False
    pipe = connection.pipeline(transaction=True)
    pipe.delete(keys.api_key(key_hash))
    pipe.hdel(keys.api_key_ids(), key_id)
    pipe.execute()
    return True
