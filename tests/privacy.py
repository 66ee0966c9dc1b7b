"""The one Redis dump every privacy check reads, and what counts as a leak.

:func:`dump` renders every key of the database, of every type, as text: names, values, members and scores, and
any value that is zlib-compressed (RQ keeps a job's function, arguments and keyword arguments, its exception
and its result that way) decompressed and, when it is a pickle, unpickled. That is what a thief holding a copy
of Redis reads. :func:`number_forms` lists how a number could appear (E.164, without ``+``, national formats), and
:func:`leaks` finds any of a set of secrets in a dump or a log, as whole tokens.
"""

from __future__ import annotations

import pickle
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import phonenumbers
from redis import Redis


def _render(value: Any) -> str:
    """A stored value as text; a compressed one opened (and unpickled) the way RQ would."""
    if not isinstance(value, bytes):
        return str(value)
    try:
        raw = zlib.decompress(value)
    except zlib.error:
        return value.decode("utf-8", "replace")
    try:
        return repr(pickle.loads(raw))  # noqa: S301 - our own test database
    except Exception:  # noqa: BLE001 - compressed but not a pickle: show the bytes
        return raw.decode("utf-8", "replace")


def dump(redis: Redis) -> dict[str, str]:
    """Every key (name included) with everything stored under it, as one text per key."""
    out: dict[str, str] = {}
    r: Any = redis  # replies are bytes here (no decode_responses); redis-py types them loosely
    for raw_key in r.scan_iter(count=1000):
        kind = r.type(raw_key).decode()
        parts: list[Any] = []
        if kind == "string":
            parts = [r.get(raw_key) or b""]
        elif kind == "hash":
            parts = [x for k, v in r.hgetall(raw_key).items() for x in (k, v)]
        elif kind == "list":
            parts = list(r.lrange(raw_key, 0, -1))
        elif kind == "set":
            parts = list(r.smembers(raw_key))
        elif kind == "zset":
            parts = [x for member, score in r.zrange(raw_key, 0, -1, withscores=True)
                     for x in (member, repr(score).encode())]
        elif kind == "stream":
            parts = [x for _, entry in r.xrange(raw_key) for k, v in entry.items() for x in (k, v)]
        key = raw_key.decode("utf-8", "replace")
        out[key] = " ".join([key, kind, *(_render(p) for p in parts)])
    return out


def number_forms(phone: str) -> set[str]:
    """The ways a number could be written down: E.164, digits without ``+``, national with and without spaces."""
    parsed = phonenumbers.parse(phone)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return {phone, phone[1:], national, re.sub(r"\D", "", national), str(parsed.national_number), international}


def _token(value: str) -> re.Pattern[str]:
    """``value`` as a whole token: a PIN inside a longer hex id or token is chance, not a leak."""
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])")


def leaks(texts: Mapping[str, str] | str, secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(where, secret) for every secret found as a whole token in a dump (by key) or in one text."""
    where = {"": texts} if isinstance(texts, str) else texts
    patterns = [(secret, _token(secret)) for secret in secrets]
    return [(key, secret) for key, text in where.items() for secret, pattern in patterns if pattern.search(text)]
