"""This process's copy of the sessions it saved last: the second and later requests of a session usually come
back to the same web process, and then need no load from Redis, only a compare-and-set save (one round trip
instead of two). Redis stays the source of truth: a stale copy fails the compare-and-set and the request takes
the locked path.

Entries are tuples of strings and numbers, the state kept as its JSON text: the garbage collector does not track
such tuples, whereas 20,000 cached state dicts made every full collection walk hundreds of thousands of objects
and tripled the server's p99 latency (bench/README.md).
"""

from __future__ import annotations

import threading
import time

from .session import Session

#: Sessions kept per process; the oldest goes first. About 1 KB each.
MAX_SESSIONS = 20_000

_Entry = tuple[float, str, str, int, str, str, str, str]


class LocalSessions:
    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self._items: dict[str, _Entry] = {}
        self._languages: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str, caller: str) -> Session | None:
        item = self._items.get(session_id)
        if item is None or item[0] < time.monotonic() or item[1] != caller:
            return None
        _, _, version, handled_len, digest, response, lang, state = item
        return Session(id=session_id, caller=caller, state=state or None, handled_len=handled_len,
                       handled_digest=digest, last_response=response, lang=lang or None, version=version)

    def put(self, session: Session, ttl: float) -> None:
        """Keep ``session`` (as saved) for ``ttl`` seconds: no longer than Redis keeps it."""
        item = (time.monotonic() + ttl, session.caller, session.version, session.handled_len,
                session.handled_digest, session.last_response or "", session.lang or "", session.state or "")
        with self._lock:
            self._items.pop(session.id, None)
            self._items[session.id] = item
            while len(self._items) > self.max_sessions:
                self._items.pop(next(iter(self._items)))

    def remember_language(self, caller: str, lang: str) -> None:
        """A caller's remembered language, so their next first screen can be proposed (see SessionStore.open)."""
        with self._lock:
            self._languages.pop(caller, None)
            self._languages[caller] = lang
            while len(self._languages) > self.max_sessions * 5:
                self._languages.pop(next(iter(self._languages)))

    def language_of(self, caller: str) -> str | None:
        return self._languages.get(caller)

    def forget(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)
