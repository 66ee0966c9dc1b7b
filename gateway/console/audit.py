"""The audit trail: who sent, cancelled, revealed or changed what, per agency, readable by its admins.

One Redis stream per agency (``console:audit:{<agency>}``), capped near :data:`MAX_ENTRIES`: a stream is
append-only for the console (nothing here edits an entry), ordered by time, and its ids are the timestamps.
An entry names the actor, the action and its target (a broadcast id, a case reference, an email): never a full
phone number, a report's text or a password, since admins read it and it outlives the cases it mentions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis import Redis

from redis_reply import fields as hash_fields
from redis_reply import text

MAX_ENTRIES = 100_000
#: Kept this long after the agency's last audited action.
TTL_S = 400 * 24 * 3600


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


def key(agency: str) -> str:
    return f"console:audit:{{{agency}}}"


def record(connection: Redis, agency: str, actor: str, action: str, target: str = "", detail: str = "") -> None:
    pipe = connection.pipeline(transaction=False)
    pipe.xadd(key(agency), {"actor": actor, "action": action, "target": target[:200], "detail": detail[:300]},
              maxlen=MAX_ENTRIES, approximate=True)
    pipe.expire(key(agency), TTL_S)
    pipe.execute()


def recent(connection: Redis, agency: str, *, limit: int = 200, action: str | None = None) -> list[Entry]:
    """Newest first; ``action`` keeps only entries of that action."""
    out = []
    for entry_id, raw in connection.xrevrange(key(agency), count=limit if action is None else limit * 20) or []:
        f = hash_fields(raw or {})
        if action is not None and f.get("action") != action:
            continue
        millis = int(text(entry_id or b"0-0").split("-")[0])
        out.append(Entry(datetime.fromtimestamp(millis / 1000, UTC), f.get("actor", ""), f.get("action", ""),
                         f.get("target", ""), f.get("detail", "")))
        if len(out) >= limit:
            break
    return out
