"""redis-py's replies, typed once.

redis-py declares every string reply as ``bytes | str`` (which one depends on the client's
``decode_responses``), and ``ZRANGE``-style replies as a union with the ``WITHSCORES`` shapes. Every package
reads replies through these few functions instead of calling ``.decode()`` and silencing mypy file by file.
It imports no package of ours, so anything may import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from redis.typing import EncodableT, FieldT

#: What ``HSET … mapping=`` accepts; annotate a field dict with it (``Mapping`` is invariant in its key type, so
#: a plain ``dict[str, str]`` is refused).
Fields = dict[FieldT, EncodableT]

__all__ = ["Fields", "fields", "number", "optional_text", "scored", "text", "texts"]


def text(reply: bytes | str) -> str:
    """A string reply as ``str`` (UTF-8), whichever ``decode_responses`` the client was built with."""
    return reply.decode() if isinstance(reply, bytes) else reply


def optional_text(reply: bytes | str | None) -> str | None:
    """:func:`text` for a reply that may be nil (``GET`` of a missing key)."""
    return None if reply is None else text(reply)


def texts(replies: Iterable[Any]) -> list[str]:
    """The members of a list reply (``SMEMBERS``, ``ZRANGE`` without scores, ``LRANGE``) as ``str``. Refuses
    anything else (a ``WITHSCORES`` pair), so a changed command shows up as an error, not as junk."""
    out = []
    for reply in replies:
        if not isinstance(reply, bytes | str):
            raise TypeError(f"Expected a string member in a Redis list reply, got {type(reply).__name__}.")
        out.append(text(reply))
    return out


def scored(replies: Iterable[Any]) -> list[tuple[str, float]]:
    """A ``WITHSCORES`` reply (``ZRANGE``, ``ZREVRANGEBYSCORE`` …) as ``(member, score)`` pairs."""
    out = []
    for reply in replies:
        if not (isinstance(reply, tuple | list) and len(reply) == 2 and isinstance(reply[0], bytes | str)):
            raise TypeError(f"Expected (member, score) pairs in a WITHSCORES reply, got {reply!r:.40}.")
        out.append((text(reply[0]), float(reply[1])))
    return out


def fields(reply: Mapping[bytes, bytes] | Mapping[str, str] | Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """A hash reply (``HGETALL``) as ``dict[str, str]``."""
    return {text(key): text(value) for key, value in reply.items()}


def number(reply: bytes | str | int | float | None, default: float = 0.0) -> float:
    """A numeric reply (or a number kept as a string) as ``float``; ``default`` for nil."""
    if reply is None:
        return default
    return float(text(reply) if isinstance(reply, bytes | str) else reply)
