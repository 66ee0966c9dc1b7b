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
from dataclasses import dataclass
from typing import Any

from redis import Redis

from .keys import lock_key, profile_key, resume_key, state_key

#: A lock outlives any sane request; if a process dies holding it, the session is free again after this.
LOCK_MS = 4000
#: How long a request waits for a concurrent one of the same session before giving up.
LOCK_WAIT_S = 3.0
_LOCK_POLL_S = 0.02
#: A caller's language is kept this long after their last call.
PROFILE_TTL = 400 * 24 * 3600

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


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

    def replay(self, text: str) -> str | None:
        """The answer already given to this exact ``text``, if this request repeats the previous one."""
        if self.last_response is not None and len(text) == self.handled_len and _digest(self.id, text) == (
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
        if len(text) > n + 1 and text[n] == "*" and _digest(self.id, text[:n]) == self.handled_digest:
            return text[n + 1 :]
        return None


def _digest(session_id: str, text: str) -> str:
    return hashlib.blake2b(text.encode(), key=session_id.encode()[:64], digest_size=12).hexdigest()


class SessionStore:
    def __init__(self, connection: Redis, *, ttl: int, resume_ttl: int) -> None:
        self.connection = connection
        self.ttl = ttl
        self.resume_ttl = resume_ttl
        self._release = connection.register_script(_RELEASE)

    def open(self, session_id: str, caller: str) -> Session:
        """Lock and load a session, waiting for a concurrent request of the same session to finish."""
        token = secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            pipe = self.connection.pipeline(transaction=False)
            pipe.set(lock_key(session_id), token, nx=True, px=LOCK_MS)
            pipe.hgetall(state_key(session_id))
            pipe.get(resume_key(caller))
            pipe.hget(profile_key(caller), "lang")
            locked, raw, resume, lang = pipe.execute()
            if locked:
                break
            if time.monotonic() > deadline:
                raise SessionBusy(f"Session lock {lock_key(session_id)!r} is held; the caller will retry.")
            time.sleep(_LOCK_POLL_S)
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
        )

    def save(self, session: Session, *, text: str, state: dict[str, Any], response: str, ended: bool,
             resume: bool | None) -> None:
        """Store the new state and the answer given to ``text`` and release the lock. The caller's resume point
        is set to this state (``resume=True``), cleared (``False``, or when the session ``ended``) or left as it
        is (``None``: the caller is looking at the resume offer itself)."""
        pipe = self.connection.pipeline(transaction=False)
        key = state_key(session.id)
        pipe.hset(key, mapping={
            "st": json.dumps(state, separators=(",", ":"), ensure_ascii=False),
            "hl": len(text),
            "hd": _digest(session.id, text),
            "r": response,
        })
        pipe.expire(key, self.ttl)
        if ended or resume is False:
            pipe.delete(resume_key(session.caller))
        elif resume:
            resume = {k: state[k] for k in ("s", "p", "h", "v", "l", "view") if k in state}
            pipe.set(resume_key(session.caller), json.dumps(resume, separators=(",", ":"), ensure_ascii=False),
                     ex=self.resume_ttl)
        lang = state.get("l")
        if lang and lang != session.lang:
            pipe.hset(profile_key(session.caller), "lang", lang)
            pipe.expire(profile_key(session.caller), PROFILE_TTL)
        self._release(keys=[lock_key(session.id)], args=[session.token], client=pipe)
        pipe.execute()

    def release(self, session: Session) -> None:
        """Free the lock without saving (the request failed)."""
        self._release(keys=[lock_key(session.id)], args=[session.token])

    def language_of(self, caller: str) -> str | None:
        value = self.connection.hget(profile_key(caller), "lang")
        return value.decode() if value else None
