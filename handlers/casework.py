"""Casework kept for agencies: call-back tickets (emergency help) and reports (abuse, unpaid wages, trafficking).

One Redis hash per case, keyed by its short reference code, with a TTL (the retention period), plus a sorted set
per kind that lists references by creation time for the agency API. A case is made once per USSD session: the
session id maps to the reference, so a repeated or resumed step updates the same case instead of making another.
That mapping lives :data:`SESSION_TTL`, not the retention period: the provider's own records map a session id to
the caller's number, so a mapping kept as long as the case would tie the case to the number.

What is stored: the category or topic, language, host and home country, the caller's number *masked*, and for a
report the free text the caller chose to give. A call-back cannot be made without the number, so a ticket keeps
the full number under a separate key that expires after ``contact_ttl`` (default 3 days); nothing else keeps it.
Nothing here logs a case's content or a number.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from redis_reply import Fields, texts

from .keys import case_contact_key, case_index_key, case_key, case_session_key

CALLBACK = "callback"
REPORT = "report"
KINDS = (CALLBACK, REPORT)
_PREFIX = {CALLBACK: "C", REPORT: "R"}
# No 0/O, 1/I/L: a reference is read off a small screen and said over the phone.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#: Longest free text a report keeps (the input screen enforces it too).
MAX_TEXT = 140
#: How long a session id still maps to its case: longer than any USSD session (the network ends one within
#: minutes), far shorter than the retention period. Refreshed at each step that touches the case.
SESSION_TTL = 10 * 60


@dataclass(frozen=True)
class Case:
    ref: str
    kind: str
    created_at: datetime
    fields: Mapping[str, str]

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"ref": self.ref, "kind": self.kind, "created_at": self.created_at.isoformat()}
        out.update(self.fields)
        return out


def new_ref(kind: str) -> str:
    return _PREFIX[kind] + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def upsert(connection: Redis, kind: str, session_id: str, fields: Mapping[str, str], *, ttl: int,
           contact: str | None = None, contact_ttl: int = 0) -> str:
    """Create the session's case, or update it if this session made one already; returns its reference.

    ``fields`` are strings; an empty value removes the field. ``ttl`` is the case's retention; the session id's
    mapping to it keeps only :data:`SESSION_TTL`. ``contact`` (a full number, call-backs only) is kept apart for
    ``contact_ttl`` seconds.
    """
    session_key = case_session_key(kind, session_id)
    candidate = new_ref(kind)
    # SET NX makes the first request of a session the one that names the case, even if two race.
    connection.set(session_key, candidate, nx=True, ex=SESSION_TTL)
    raw = connection.get(session_key)
    ref = raw.decode() if isinstance(raw, bytes) else str(raw or candidate)
    key = case_key(kind, ref)
    now = time.time()
    keep: Fields = {k: v for k, v in fields.items() if v}
    drop = [k for k, v in fields.items() if not v]
    pipe = connection.pipeline(transaction=True)
    pipe.hsetnx(key, "created_at", f"{now:.3f}")
    if keep:
        pipe.hset(key, mapping=keep)
    if drop:
        pipe.hdel(key, *drop)
    pipe.expire(key, ttl)
    pipe.expire(session_key, SESSION_TTL)
    pipe.zadd(case_index_key(kind), {ref: now}, nx=True)
    if contact:
        pipe.set(case_contact_key(kind, ref), contact, ex=contact_ttl)
    pipe.execute()
    return ref


def get(connection: Redis, kind: str, ref: str) -> Case | None:
    """One case, or None when unknown or past its retention."""
    pipe = connection.pipeline(transaction=False)
    pipe.hgetall(case_key(kind, ref))
    pipe.get(case_contact_key(kind, ref))
    raw, contact = pipe.execute()
    if not raw or b"created_at" not in raw:
        return None
    fields = {k.decode(): v.decode() for k, v in raw.items() if k != b"created_at"}
    if contact:
        fields["phone"] = contact.decode()
    created = datetime.fromtimestamp(float(raw[b"created_at"]), tz=UTC)
    return Case(ref=ref, kind=kind, created_at=created, fields=fields)


def newest(connection: Redis, kind: str, *, limit: int = 50, before: float | None = None,
           retention: int | None = None) -> list[Case]:
    """Cases newest first. References whose case has expired are dropped from the index as they are met."""
    index = case_index_key(kind)
    if retention:
        connection.zremrangebyscore(index, "-inf", time.time() - retention)
    top = "+inf" if before is None else f"({before}"
    refs = texts(connection.zrevrangebyscore(index, top, "-inf", start=0, num=limit))
    out, gone = [], []
    for ref in refs:
        case = get(connection, kind, ref)
        if case is None:
            gone.append(ref)
        else:
            out.append(case)
    if gone:
        connection.zrem(index, *gone)
    return out
