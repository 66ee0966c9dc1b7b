"""USSD session state in Redis: one hash per session with a TTL, a replay cache, resume points and a per-session
lock, in one round trip to load and one to save.

What a session holds is described in :mod:`sessions.session`; the engine's state is kept as the engine's own text
and never read here. Concurrent requests of one session are serialised by a lock taken in the same script that
loads the state; a request that finds the lock taken waits for it and then, usually, answers from the replay cache.

Keys are built from a session *reference*, a keyed digest of AT's ``sessionId`` (:meth:`SessionStore.ref`), never
from the id itself: whatever characters an id holds (``x:lock``), it cannot address another key, and a copy of
Redis does not tie a key to the provider's records of that session.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from redis import Redis, RedisCluster

from redis_reply import fields, optional_text

from .keys import lock_key, profile_key, resume_key, state_key
from .local import LocalSessions
from .lua import ScriptRunner, SessionScript
from .session import Session, digest

#: A lock outlives any request AT still waits for (its application timeout is 15 s, a balance deadline at most
#: 10 s); if a process dies holding it, the session is free again after this.
LOCK_MS = 15_000
#: How long a request waits for a concurrent one of the same session before giving up (AT gives up at 10-15 s).
LOCK_WAIT_S = 8.0
_LOCK_POLL_S = 0.02
#: A caller's language is kept this long after their last call.
PROFILE_TTL = 400 * 24 * 3600
#: How long an ended session (and so its last answer, which may show a balance) is kept: as long as AT may still
#: repeat the request that got it (its application timeout is 15 s; AT-PROTOCOL.md), and no longer.
ENDED_TTL_S = 30

# Lock and load in one round trip: nil when another request of the session holds the lock. With a proposed first
# screen (ARGV[3..]), a new session whose caller has no resume point and the expected language is created with it
# instead, and 1 is returned: the whole first request in one round trip.
_LOAD = SessionScript("""
if ARGV[3] and redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 0
    and redis.call('EXISTS', KEYS[3]) == 0 and (redis.call('HGET', KEYS[4], 'lang') or '') == ARGV[3] then
  redis.call('HSET', KEYS[1], 'st', ARGV[4], 'hl', 0, 'hd', ARGV[6], 'r', ARGV[5], 'v', ARGV[7])
  redis.call('EXPIRE', KEYS[1], ARGV[8])
  return 1
end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return {redis.call('HGETALL', KEYS[1]), redis.call('GET', KEYS[3]), redis.call('HGET', KEYS[4], 'lang')}
""")

# Save, move the resume point, remember the language, release the lock (only if still ours): one round trip.
# With an expected version (ARGV[12]) it is a compare-and-set instead: it saves only if nobody saved since and no
# request holds the lock, and returns 0 otherwise.
_SAVE = SessionScript("""
if ARGV[12] ~= '' then
  if redis.call('HGET', KEYS[1], 'v') ~= ARGV[12] or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
elseif redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0  -- the lock expired under a request that took too long; whoever holds it now decides
end
redis.call('HSET', KEYS[1], 'st', ARGV[3], 'hl', ARGV[4], 'hd', ARGV[5], 'r', ARGV[6], 'v', ARGV[13])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if ARGV[7] == 'set' then redis.call('SET', KEYS[3], ARGV[8], 'EX', ARGV[9])
elseif ARGV[7] == 'clear' then redis.call('DEL', KEYS[3]) end
if ARGV[10] ~= '' then
  redis.call('HSET', KEYS[4], 'lang', ARGV[10])
  redis.call('EXPIRE', KEYS[4], ARGV[11])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
""")

_RELEASE = SessionScript("""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""")


class ResumePoint(Enum):
    """What a save does to the caller's resume point (the state a dropped call may come back to)."""

    #: This state becomes the resume point.
    SET = "set"
    #: No resume point (the session ended, or this state must not be offered again).
    CLEAR = "clear"
    #: Leave it as it is: the caller is looking at the offer to resume it.
    KEEP = "keep"


@dataclass(frozen=True)
class FirstScreen:
    """What a new session's first answer will be if the caller has no resume point and their remembered language
    is ``lang`` ("" for none): :meth:`SessionStore.open` then saves it in the same round trip."""

    lang: str
    state: str
    response: str


class SessionBusy(Exception):
    """Another request of the same session held the lock for longer than :data:`LOCK_WAIT_S`."""


class SessionStore:
    """Loads and saves sessions. ``key`` is the installation's secret key for session references and input
    digests (a subkey of ``GATEWAY_SECRET``; never written to Redis)."""

    def __init__(self, connection: Redis | RedisCluster, *, ttl: int, resume_ttl: int, key: bytes) -> None:
        self.connection = connection
        self.key = key
        # Keyed once: copying a keyed hash costs less than keying a new one on every request.
        self._ref = hashlib.blake2b(key=key[:64], digest_size=12, person=b"ussd-session")
        self.ttl = ttl
        self.resume_ttl = resume_ttl
        self.local = LocalSessions()
        self._run = ScriptRunner(connection)

    def ref(self, session_id: str) -> str:
        """The key-safe reference of AT's ``sessionId``: 24 hex characters, keyed (see the module docstring)."""
        ref = self._ref.copy()
        ref.update(session_id.encode("utf-8", "surrogatepass"))
        return ref.hexdigest()

    @staticmethod
    def _keys(session_id: str, caller: str) -> list[str]:
        return [state_key(caller, session_id), lock_key(caller, session_id), resume_key(caller), profile_key(caller)]

    def open(self, session_id: str, caller: str, first: FirstScreen | None = None, *, wait: bool = True) -> Session:
        """Lock and load a session (by its :meth:`ref`), waiting for a concurrent request of the same session to
        finish (unless not ``wait``: :class:`SessionBusy` at once); or, given the ``first`` screen a new session
        would show and the guess it was made on right, create it (``created``)."""
        token = secrets.token_hex(8)
        key = self.key
        keys = self._keys(session_id, caller)
        args: list[Any] = [token, LOCK_MS]
        version, first_digest = secrets.token_hex(6), digest(key, session_id, "")
        if first is not None:
            args += [first.lang, first.state, first.response, first_digest, version, self.ttl]
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            loaded = self._run(_LOAD, keys, args)
            if loaded == 1 and first is not None:
                session = Session(id=session_id, caller=caller, state=first.state, handled_digest=first_digest,
                                  last_response=first.response, lang=first.lang or None, version=version, key=key,
                                  created=True)
                self.local.put(session, self.ttl)
                return session
            if loaded is not None:
                break
            if not wait or time.monotonic() > deadline:
                raise SessionBusy(f"Session lock {keys[1]!r} is held; the caller will retry.")
            time.sleep(_LOCK_POLL_S)
        flat, resume_point, lang = loaded
        raw = fields(dict(zip(flat[::2], flat[1::2], strict=True)))
        language = optional_text(lang)
        if language:
            self.local.remember_language(caller, language)
        return Session(
            id=session_id,
            caller=caller,
            token=token,
            state=raw.get("st") or None,
            handled_len=int(raw.get("hl", 0)),
            handled_digest=raw.get("hd", ""),
            last_response=raw.get("r"),
            resume_point=optional_text(resume_point),
            lang=language,
            version=raw.get("v", ""),
            key=key,
        )

    def save(self, session: Session, *, text: str, state: str, lang: str, response: str, ended: bool,
             resume: ResumePoint, compare: bool = False) -> bool:
        """Store the new ``state`` (the engine's text) and the answer given to ``text``, remember ``lang`` for the
        caller, move the resume point as ``resume`` says (cleared whenever the session ``ended``) and release the
        lock. An ended session is kept only :data:`ENDED_TTL_S`, for a repeat of its last request.

        With ``compare``, the session was not locked (it came from :meth:`cached`): the save happens only if the
        session is still at ``session.version`` and unlocked, and False says it was not. False also when the
        lock expired under this request.
        """
        version = os.urandom(6).hex()
        handled = digest(session.key, session.id, text)
        mode = ResumePoint.CLEAR if ended else resume
        ttl = ENDED_TTL_S if ended else self.ttl
        saved = self._run(
            _SAVE, self._keys(session.id, session.caller),
            [
                session.token, ttl, state, len(text), handled, response, mode.value,
                state if mode is ResumePoint.SET else "", self.resume_ttl, lang if lang != session.lang else "",
                PROFILE_TTL, session.version if compare else "", version,
            ],
        )
        if not saved:
            self.local.forget(session.id)
            return False
        self.local.put(Session(id=session.id, caller=session.caller, state=state, handled_len=len(text),
                               handled_digest=handled, last_response=response, lang=lang or session.lang,
                               version=version), ttl)
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
            session.key = self.key
        return session

    def release(self, session: Session) -> None:
        """Free the lock without saving (the request failed, or answered from the replay cache)."""
        if session.token:
            self._run(_RELEASE, [lock_key(session.caller, session.id)], [session.token])

    def state_of(self, session_id: str, caller: str) -> str | None:
        """A session's stored engine state (for end-of-session statistics), or None once it expired."""
        return optional_text(self.connection.hget(state_key(caller, session_id), "st")) or None
