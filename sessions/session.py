"""One USSD session as the store loaded it, and what its stored digest tells about a new request's ``text``.

Africa's Talking sends every input of the session so far in ``text`` (``1*2*0000``), PINs included. A session
therefore never keeps ``text``: it keeps the length and a keyed digest of the part already handled, which is
enough to tell a repeated request (same text: answer from the replay cache, act once), the next one (text extends
the handled part: the new input is the rest) and a rewritten one (anything else).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class Session:
    """One loaded session. The engine's state is kept as the text the engine wrote (the store never reads it);
    ``state`` is None for a session seen for the first time."""

    #: The key-safe reference of AT's ``sessionId`` (:meth:`sessions.store.SessionStore.ref`).
    id: str
    #: The caller's pseudonym: every key of the session carries it as its hash tag.
    caller: str
    state: str | None = None
    handled_len: int = 0
    handled_digest: str = ""
    #: The answer given to the handled ``text``: the replay cache.
    last_response: str | None = None
    #: The state of the caller's last dropped call, if they may still resume it (engine text, as ``state``).
    resume_point: str | None = None
    #: The caller's remembered language, if any.
    lang: str | None = None
    #: Changes on every save; a compare-and-set save names the version it started from.
    version: str = ""
    #: The lock's token while this request holds the session's lock; "" for an unlocked copy.
    token: str = ""
    #: Keys the digests of ``text``: never stored, so a copy of Redis cannot test PINs against them.
    key: bytes = field(default=b"", repr=False)
    #: Created from a proposed first screen by :meth:`sessions.store.SessionStore.open`: saved, not locked.
    created: bool = False

    def replay(self, text: str) -> str | None:
        """The answer already given to this exact ``text``, if this request repeats the previous one."""
        if self.last_response is not None and len(text) == self.handled_len and (
            digest(self.key, self.id, text) == self.handled_digest
        ):
            return self.last_response
        return None

    def new_input(self, text: str) -> str | None:
        """What follows the handled part of ``text`` (may hold ``*`` if inputs were sent together), or None when
        ``text`` does not extend what was handled (the phone rewrote or skipped earlier inputs)."""
        n = self.handled_len
        if self.state is None or n == 0:
            return text
        if len(text) > n + 1 and text[n] == "*" and digest(self.key, self.id, text[:n]) == self.handled_digest:
            return text[n + 1 :]
        return None


def digest(key: bytes, session: str, text: str) -> str:
    """A digest of the inputs handled so far. ``text`` may hold a PIN: the key (never in Redis) is what keeps the
    10,000 possible PINs from being tried against a stored digest."""
    return hashlib.blake2b(f"{session}\0{text}".encode(), key=key[:64], digest_size=12).hexdigest()
