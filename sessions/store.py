"""USSD session state in Redis: one hash per session with a TTL, a replay cache, resume-after-drop and a
per-session lock, in one round trip to load and one to save.

Africa's Talking sends every input of the session so far in ``text`` (``1*2*0000``), PINs included. The store
therefore never keeps ``text``: it keeps the length and a digest of the part already handled, which is enough
to tell a repeated request (same text: answer from the replay cache, act once), the next one (text extends the
handled part: the new input is the rest) and a rewritten one (anything else).

Concurrent requests of one session are serialised by a lock taken in the same pipeline that loads the state;
a request that finds the lock taken waits for it and then, usually, answers from the replay cache.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis

from .keys import lock_key, profile_key, resume_key, state_key
from .local import LocalSessions

#: A lock outlives any request AT still waits for (its application timeout is 15 s, a balance deadline at most
#: 10 s); if a process dies holding it, the session is free again after this.
LOCK_MS = 15_000
#: How long a request waits for a concurrent one of the same session before giving up (AT gives up at 10-15 s).
LOCK_WAIT_S = 8.0
_LOCK_POLL_S = 0.02
#: A caller's language is kept this long after their last call.
PROFILE_TTL = 400 * 24 * 3600

# Lock and load in one round trip: nil when another request of the session holds the lock. With a proposed first
# screen (ARGV[3..]), a new session whose caller has no resume point and the expected language is created with it
# instead, and 1 is returned: the whole first request in one round trip.
_LOAD = """
if ARGV[3] and redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0
    and redis.call('EXISTS', KEYS[3]) == 0 and (redis.call('HGET', KEYS[4], 'lang') or '') == ARGV[3] then
  redis.call('HSET', KEYS[1], 'st', ARGV[4], 'hl', 0, 'hd', ARGV[6], 'r', ARGV[5], 'v', ARGV[7])
  redis.call('EXPIRE', KEYS[1], ARGV[8])
  return 1
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[3]), redis.call('HGET', KEYS[4], 'lang')}
"""

# Save, move the resume point, remember the language, release the lock (only if still ours): one round trip.
# With an expected version (ARGV[12]) it is a compare-and-set instead: it saves only if nobody saved since and no
# request holds the lock, and returns 0 otherwise.
_SAVE = """
if ARGV[12] ~= '' then
  if redis.call('HGET', KEYS[1], 'v') ~= ARGV[12] or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
elseif redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0  -- the lock expired under a request that took too long; whoever holds it now decides
end
redis.call('HSET', KEYS[1], 'st', ARGV[3], 'hl', ARGV[4], 'hd', ARGV[5], 'r', ARGV[6], 'v', ARGV[13])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if ARGV[7] == 'set' then redis.call('SET', KEYS[3], ARGV[8], 'EX', ARGV[9])
elseif ARGV[7] == 'del' then redis.call('DEL', KEYS[3]) end
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[4], 'lang', ARGV[10])
  redis.call('EXPIRE', KEYS[4], ARGV[11])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True)
class FirstScreen:
    """What a new session's first answer will be if the caller has no resume point and their remembered language
    is ``lang`` ("" for none): :meth:`SessionStore.open` then saves it in the same round trip."""

    lang: str
    state: dict[str, Any]
    response: str


class SessionBusy(Exception):
    """Another request of the same session held the lock for longer than :data:`LOCK_WAIT_S`."""


@dataclass
class Session:
    """One loaded session. ``state`` is None for a session seen for the first time."""

    id: str
    caller: str
    token: str
    state: dict[str, Any] | None
    handled_len: int
    handled_digest: str
    last_response: str | None
    resume: dict[str, Any] | None
    lang: str | None
    #: Changes on every save; a compare-and-set save names the version it started from.
    version: str = ""
    #: Keys the digests of ``text``: never stored, so a copy of Redis cannot test PINs against them.
    key: bytes = field(default=b"", repr=False)
    #: Created from a :class:`FirstScreen` by :meth:`SessionStore.open`: already saved, and not locked.
    created: bool = False

    def replay(self, text: str) -> str | None:
        """The answer already given to this exact ``text``, if this request repeats the previous one."""
        if self.last_response is not None and len(text) == self.handled_len and _digest(self.key, self.id, text) == (
            self.handled_digest
        ):
            return self.last_response
        return None

    def new_input(self, text: str) -> str | None:
        """What follows the handled part of ``text`` (may hold ``*`` if inputs were sent together), or None when
        ``text`` does not extend what was handled (the phone rewrote or skipped earlier inputs)."""
        if self.state is None:
            return text
        n = self.handled_len
        if n == 0:
            return text
        if len(text) > n + 1 and text[n] == "*" and _digest(self.key, self.id, text[:n]) == self.handled_digest:
            return text[n + 1 :]
        return None


def _digest(key: bytes, session_id: str, text: str) -> str:
    """A digest of the inputs handled so far. ``text`` may hold a PIN: the key (the installation's pepper) is what
    keeps the 10,000 possible PINs from being tried against a stored digest."""
    return hashlib.blake2b(f"{session_id}\0{text}".encode(), key=key[:64], digest_size=12).hexdigest()


class SessionStore:
    def __init__(self, connection: Redis, *, ttl: int, resume_ttl: int, pepper: Callable[[], bytes]) -> None:
        self.connection = connection
        self.pepper = pepper
        self.ttl = ttl
        self.resume_ttl = resume_ttl
        # Scripts run by EVALSHA (loaded on first NOSCRIPT), never inside a pipeline: redis-py would send
        # SCRIPT EXISTS before every pipeline, a third round trip.
        self.local = LocalSessions(ttl=ttl)
        self._load = connection.register_script(_LOAD)
        self._save = connection.register_script(_SAVE)
        self._release = connection.register_script(_RELEASE)

    @staticmethod
    def _keys(session_id: str, caller: str) -> list[str]:
        return [state_key(caller, session_id), lock_key(caller, session_id), resume_key(caller), profile_key(caller)]

    def open(self, session_id: str, caller: str, first: FirstScreen | None = None) -> Session:
        """Lock and load a session, waiting for a concurrent request of the same session to finish; or, given the
        ``first`` screen a new session would show and the guess it was made on right, create it (``created``)."""
        token = secrets.token_hex(8)
        keys = self._keys(session_id, caller)
        args: list[Any] = [token, LOCK_MS]
        if first is not None:
            version, encoded = secrets.token_hex(6), _dumps(first.state)
            args += [first.lang, encoded, first.response, _digest(self.pepper(), session_id, ""), version, self.ttl]
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            loaded = self._load(keys=keys, args=args)
            if loaded == 1 and first is not None:
                session = Session(session_id, caller, "", first.state, 0, args[5], first.response, None,
                                  first.lang or None, version, self.pepper(), created=True)
                self.local.put(session, encoded)
                return session
            if loaded is not None:
                break
            if time.monotonic() > deadline:
                raise SessionBusy(f"Session lock {keys[1]!r} is held; the caller will retry.")
            time.sleep(_LOCK_POLL_S)
        flat, resume, lang = loaded
        raw = dict(zip(flat[::2], flat[1::2], strict=True))
        if lang:
            self.local.remember_language(caller, lang.decode())
        return Session(
            id=session_id,
            caller=caller,
            token=token,
            state=json.loads(raw[b"st"]) if raw.get(b"st") else None,
            handled_len=int(raw.get(b"hl", 0)),
            handled_digest=raw.get(b"hd", b"").decode(),
            last_response=raw[b"r"].decode() if b"r" in raw else None,
            resume=json.loads(resume) if resume else None,
            lang=lang.decode() if lang else None,
            version=raw.get(b"v", b"").decode(),
            key=self.pepper(),
        )

    def save(self, session: Session, *, text: str, state: dict[str, Any], response: str, ended: bool,
             resume: bool | None, compare: bool = False) -> bool:
        """Store the new state and the answer given to ``text`` and release the lock. The caller's resume point
        is set to this state (``resume=True``), cleared (``False``, or when the session ``ended``) or left as it
        is (``None``: the caller is looking at the resume offer itself).

        With ``compare``, the session was not locked (it came from :meth:`cached`): the save happens only if the
        session is still at ``session.version`` and unlocked, and False says it was not.
        """
        encoded = _dumps(state)
        version = secrets.token_hex(6)
        digest = _digest(session.key, session.id, text)
        if ended or resume is False:
            mode = "del"
        elif resume:
            mode = "set"  # the resume point is the state itself (the engine restores only what it needs)
        else:
            mode = "keep"
        lang = state.get("l") or ""
        saved = self._save(
            keys=self._keys(session.id, session.caller),
            args=[
                session.token, self.ttl, encoded, len(text), digest, response, mode,
                encoded if mode == "set" else "", self.resume_ttl, lang if lang != session.lang else "", PROFILE_TTL,
                session.version if compare else "", version,
            ],
        )
        if not saved:
            self.local.forget(session.id)
            return False
        self.local.put(Session(session.id, session.caller, "", None, len(text), digest, response, None,
                               lang or session.lang, version), encoded)
        if lang:
            self.local.remember_language(session.caller, lang)
        return True

    def known_language(self, caller: str) -> str | None:
        """The language this process last saw remembered for ``caller``; a guess that :meth:`open` verifies."""
        return self.local.language_of(caller)

    def cached(self, session_id: str, caller: str) -> Session | None:
        """This process's copy of a session it saved last, or None. Not locked: save it with ``compare=True``."""
        session = self.local.get(session_id, caller)
        if session is not None:
            session.key = self.pepper()
        return session

    def release(self, session: Session) -> None:
        """Free the lock without saving (the request failed)."""
        self._release(keys=[lock_key(session.caller, session.id)], args=[session.token])

    def state_of(self, caller: str, session_id: str) -> dict[str, Any] | None:
        """A session's state (for end-of-session statistics), or None once it expired."""
        raw = self.connection.hget(state_key(caller, session_id), "st")
        return json.loads(raw) if raw else None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
