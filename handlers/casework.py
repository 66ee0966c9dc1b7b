"""Casework kept for agencies: call-back tickets (emergency help) and reports (abuse, unpaid wages, trafficking).

One Redis hash per case, keyed by its short reference code, with a TTL (the retention period), plus a sorted set
per kind that lists references by creation time for the agency API. A case is made once per USSD session: the
session id maps to the reference, so a repeated or resumed step updates the same case instead of making another.
That mapping lives :data:`SESSION_TTL`, not the retention period: the provider's own records map a session id to
the caller's number, so a mapping kept as long as the case would tie the case to the number.

What is stored: the category or topic, language, host and home country, the caller's number *masked*, and for a
report the free text the caller chose to give, encrypted (:data:`ENCRYPTED`, :meth:`identity.keyring.Keyring.encrypt`,
bound to the case and field so it cannot be moved to another record) and decrypted only when an agency reads the
case. A call-back cannot be made without the number, so a ticket keeps it sealed under a separate key that
expires after ``contact_ttl`` (default 3 days); nothing else keeps it. Nothing here logs a case's content or a
number.

Routing: a case is listed under its caller's host country and home country, and an agency sees the cases of the
countries its key (or its console user) names: :func:`list_for`, :func:`get_for` and :func:`update` take those
countries, so the API and the console share one rule. A case of another country is "not found", never
"forbidden", so an agency cannot learn that it exists.

Status workflow (:data:`TRANSITIONS`): ``open`` → ``in_progress`` or ``closed``; ``in_progress`` → ``open`` (handed
back) or ``closed``; ``closed`` → ``open`` (reopened). A note can be added at any status. Every change is kept in
the case's history (when, who, from, to, the note, encrypted), which lives as long as the case.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from identity.keyring import Keyring
from redis_reply import Fields, texts

from .keys import (
    case_contact_key,
    case_country_index_key,
    case_history_key,
    case_index_key,
    case_key,
    case_session_key,
)

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
STATUSES = ("open", "in_progress", "closed")
#: Which status may follow which (a note alone never changes the status).
TRANSITIONS = {"open": ("in_progress", "closed"), "in_progress": ("open", "closed"), "closed": ("open",)}
MAX_NOTE = 2000
#: The caller's own words, typed or recorded (a voice report keeps the recording's URL, which fetches the audio):
#: kept encrypted at rest.
ENCRYPTED = frozenset({"text", "recording_url"})


class CaseNotFound(LookupError):
    """No such case, past its retention, or not of the asking agency's countries."""


class TransitionRefused(ValueError):
    """The case's status cannot move to the one asked (see :data:`TRANSITIONS`)."""


@dataclass(frozen=True)
class Case:
    ref: str
    kind: str
    created_at: datetime
    fields: Mapping[str, str]

    @property
    def status(self) -> str:
        status = self.fields.get("status", "open")
        return status if status in STATUSES else "open"  # cases made before the workflow said "new"

    @property
    def countries(self) -> set[str]:
        return {c for c in (self.fields.get("host_country"), self.fields.get("home_country")) if c}

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"ref": self.ref, "kind": self.kind, "created_at": self.created_at.isoformat()}
        out.update(self.fields)
        out["status"] = self.status
        if "updated_at" in self.fields:  # stored as epoch seconds; the API's timestamps are ISO-8601 with an offset
            out["updated_at"] = datetime.fromtimestamp(float(self.fields["updated_at"]), tz=UTC).isoformat()
        return out


def new_ref(kind: str) -> str:
    return _PREFIX[kind] + "-" + "".join(secrets.choice(_ALPHABET) for _ in range(6))


def upsert(connection: Redis, kind: str, session_id: str, fields: Mapping[str, str], *, ttl: int,
           keyring: Keyring, contact: str | None = None, contact_ttl: int = 0) -> str:
    """Create the session's case, or update it if this session made one already; returns its reference.

    ``fields`` are strings; an empty value removes the field. ``ttl`` is the case's retention; the session id's
    mapping to it keeps only :data:`SESSION_TTL`. ``contact`` (a full number, call-backs only) is kept apart for
    ``contact_ttl`` seconds, sealed.
    """
    session_key = case_session_key(kind, session_id)
    candidate = new_ref(kind)
    # SET NX makes the first request of a session the one that names the case, even if two race.
    connection.set(session_key, candidate, nx=True, ex=SESSION_TTL)
    raw = connection.get(session_key)
    ref = raw.decode() if isinstance(raw, bytes) else str(raw or candidate)
    key = case_key(kind, ref)
    now = time.time()
    keep: Fields = {k: keyring.encrypt(v, context=_context(kind, ref, k)) if k in ENCRYPTED else v
                    for k, v in fields.items() if v}
    drop = [k for k, v in fields.items() if not v]
    pipe = connection.pipeline(transaction=True)
    pipe.hsetnx(key, "created_at", f"{now:.3f}")
    pipe.hsetnx(key, "status", "open")  # a repeated step of the session never undoes an agency's status change
    if keep:
        pipe.hset(key, mapping=keep)
    if drop:
        pipe.hdel(key, *drop)
    pipe.expire(key, ttl)
    pipe.expire(session_key, SESSION_TTL)
    for index in [case_index_key(kind)] + [case_country_index_key(kind, c) for c in _countries_of(fields)]:
        pipe.zadd(index, {ref: now}, nx=True)
        pipe.expire(index, ttl)  # an index lives as long as its newest case
    if contact:
        pipe.set(case_contact_key(kind, ref), keyring.seal(contact), ex=contact_ttl)
    pipe.execute()
    return ref


def _context(kind: str, ref: str, field: str) -> str:
    return f"case:{kind}:{ref}:{field}"


def get(connection: Redis, kind: str, ref: str, *, keyring: Keyring) -> Case | None:
    """One case, or None when unknown or past its retention; its caller's words decrypted and its contact number
    opened (only agencies read cases)."""
    pipe = connection.pipeline(transaction=False)
    pipe.hgetall(case_key(kind, ref))
    pipe.get(case_contact_key(kind, ref))
    raw, contact = pipe.execute()
    if not raw or b"created_at" not in raw:
        return None
    fields = {k.decode(): v.decode() for k, v in raw.items() if k != b"created_at"}
    for name in ENCRYPTED & fields.keys():
        fields[name] = keyring.decrypt(fields[name], context=_context(kind, ref, name))
    if contact:
        fields["phone"] = keyring.unseal(contact.decode())
    created = datetime.fromtimestamp(float(raw[b"created_at"]), tz=UTC)
    return Case(ref=ref, kind=kind, created_at=created, fields=fields)


def _countries_of(fields: Mapping[str, str]) -> list[str]:
    return sorted({c for c in (fields.get("host_country"), fields.get("home_country")) if c})


def newest(connection: Redis, kind: str, *, keyring: Keyring, limit: int = 50, before: float | None = None,
           retention: int | None = None) -> list[Case]:
    """Every agency's cases, newest first (operators and tests; agencies use :func:`list_for`)."""
    return _from_index(connection, kind, case_index_key(kind), keyring=keyring, limit=limit, before=before,
                       retention=retention)


def list_for(connection: Redis, kind: str, countries: Iterable[str], *, keyring: Keyring, limit: int = 50,
             before: float | None = None, retention: int | None = None) -> list[Case]:
    """The cases of callers whose host or home country is among ``countries``, newest first, each once."""
    merged: dict[str, Case] = {}
    for country in sorted(set(countries)):
        for case in _from_index(connection, kind, case_country_index_key(kind, country), keyring=keyring,
                                limit=limit, before=before, retention=retention):
            merged[case.ref] = case
    return sorted(merged.values(), key=lambda c: c.created_at, reverse=True)[:limit]


def _from_index(connection: Redis, kind: str, index: str, *, keyring: Keyring, limit: int, before: float | None,
                retention: int | None) -> list[Case]:
    """Cases of one index newest first. References whose case has expired are dropped as they are met."""
    if retention:
        connection.zremrangebyscore(index, "-inf", time.time() - retention)
    top = "+inf" if before is None else f"({before}"
    refs = texts(connection.zrevrangebyscore(index, top, "-inf", start=0, num=limit))
    out, gone = [], []
    for ref in refs:
        case = get(connection, kind, ref, keyring=keyring)
        if case is None:
            gone.append(ref)
        else:
            out.append(case)
    if gone:
        connection.zrem(index, *gone)
    return out


def get_for(connection: Redis, kind: str, ref: str, countries: Iterable[str], *, keyring: Keyring) -> Case:
    """One case, if its host or home country is among ``countries``.

    Raises:
        CaseNotFound: unknown, past its retention, or of other countries (told apart from nothing).
    """
    case = get(connection, kind, ref, keyring=keyring) if kind in KINDS and len(ref) <= 20 else None
    if case is None or not case.countries & set(countries):
        raise CaseNotFound(f"No {kind} with reference {ref[:20]!r} (it may have passed its retention).")
    return case


def update(connection: Redis, kind: str, ref: str, countries: Iterable[str], *, by: str, keyring: Keyring,
           status: str | None = None, note: str | None = None) -> Case:
    """Move a case along the workflow and/or add a note, keeping who did what in its history.

    Raises:
        CaseNotFound: as :func:`get_for`.
        TransitionRefused: ``status`` may not follow the case's status.
        ValueError: neither a status nor a note, an unknown status, or a note too long.
    """
    if status is None and not note:
        raise ValueError("give a status, a note, or both")
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    if note is not None and len(note) > MAX_NOTE:
        raise ValueError(f"a note may be at most {MAX_NOTE} characters")
    case = get_for(connection, kind, ref, countries, keyring=keyring)
    target = status or case.status
    if target != case.status and target not in TRANSITIONS[case.status]:
        allowed = " or ".join(TRANSITIONS[case.status])
        raise TransitionRefused(f"a {case.status} case can move to {allowed}, not to {target}")
    entry = json.dumps({"at": time.time(), "by": by, "from": case.status, "to": target,
                        "note": keyring.encrypt(note, context=_note_context(kind, ref)) if note else ""})
    moved = connection.register_script(_UPDATE)(
        keys=[case_key(kind, ref), case_history_key(kind, ref)],
        args=[case.fields.get("status", ""), target, entry, f"{time.time():.3f}"])
    if not moved:  # someone else changed it meanwhile: judge the transition again on what is there now
        return update(connection, kind, ref, countries, by=by, keyring=keyring, status=status, note=note)
    return get_for(connection, kind, ref, countries, keyring=keyring)


def _note_context(kind: str, ref: str) -> str:
    return f"case-note:{kind}:{ref}"


# KEYS: the case, its history. ARGV: the status read, the new status, a history entry, now. Writes only if the
# status is still the one read (compare-and-set), so two agents cannot both move a case from the same state. The
# history lives exactly as long as the case.
_UPDATE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local current = redis.call('HGET', KEYS[1], 'status') or ''
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated_at', ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
"""


def history(connection: Redis, kind: str, ref: str, keyring: Keyring) -> list[dict[str, object]]:
    """A case's changes, oldest first: when, who, from, to, and the note (decrypted)."""
    out: list[dict[str, object]] = []
    for raw in texts(connection.lrange(case_history_key(kind, ref), 0, -1)):
        entry = json.loads(raw)
        note = entry.get("note") or ""
        out.append({"at": datetime.fromtimestamp(float(entry["at"]), UTC).isoformat(), "by": entry["by"],
                    "from": entry["from"], "to": entry["to"],
                    "note": keyring.decrypt(note, context=_note_context(kind, ref)) if note else ""})
    return out
