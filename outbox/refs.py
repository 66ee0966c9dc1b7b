"""Public references of broadcasts: what ``CHECK <ref>`` looks up to tell a genuine message from a fake.

Every broadcast gets a reference when it is created (:func:`mint`), printed at the end of its SMS with the
agency's name. Its record (:func:`remember`: agency, when it was due, the first words of each language's text)
outlives the broadcast's own record (90 days): a message stays in an inbox for months, and it is exactly the old
message that a fraudster copies. It is kept :data:`REF_TTL_S` (two years) and holds no recipient, number or count.

A reference is :data:`REF_LENGTH` characters of :data:`ALPHABET`, drawn with :mod:`secrets`: digits and capitals
without the look-alikes 0, O, 1, I and L, so what a caller reads off a small screen is what they type. A caller
may type it in any case, with spaces or dashes (:func:`spelled`).

Why 10 characters: guessing. 31 symbols to the power 10 is 8.2 × 10^14 references. With 100,000 live
references (two years of a busy installation) one random guess is valid with probability 1.2 × 10^-10. ``CHECK``
answers each number at most ``CHECK_PER_NUMBER_PER_HOUR`` times an hour (default 5: 43,800 guesses a number a
year), so one number finds a valid reference once in 190,000 years, and a farm of 10,000 SIM cards about once in
19 years, paying an SMS for every guess. Eight characters would let that farm find one every week.

On a voice call or a USSD screen digits are what a caller keys, so each letter is keyed as the phone key that
carries it (``K7M4Q2XPAB`` is ``5764729722``): :func:`find_keyed` looks references up by those digits. 8^10 is
10^9 digit strings: two live references share theirs about once in 10,700 at 100,000 live references; the
answer then names the reference it found, and the first words let the caller tell.

A private broadcast (a ``phones`` list) keeps no words here (:func:`remember` with ``public=False``): its ref
still proves it genuine (agency and date), but whatever it told its few recipients is never shown to the number
that checks it, who may not be one of them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from redis import Redis
from redis.client import Pipeline

from redis_reply import texts

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REF_LENGTH = 10
#: How long ``CHECK`` can still confirm a reference: two years, longer than most phones keep a message.
REF_TTL_S = 2 * 365 * 86400
#: Words of each text kept for the answer (enough to tell a message from a copy that kept only its reference).
WORDS_KEPT = 8
_PREFIX = "ref:"
_KEYPAD = {letter: key for key, letters in {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO", "7": "PQRS",
                                            "8": "TUV", "9": "WXYZ"}.items() for letter in letters}


@dataclass(frozen=True)
class Message:
    ref: str
    agency: str
    sent_at: float
    #: The first words of the message, by language (the first one the broadcast's fallback); empty for a private
    #: broadcast.
    texts: Mapping[str, str]
    #: Sent to an audience (public) or to a list of numbers (private: its words are not kept).
    public: bool = True


def key(ref: str) -> str:
    return f"{_PREFIX}{ref}"


def keyed_key(digits: str) -> str:
    """Set: the references keyed as ``digits`` on a phone's keypad."""
    return f"{_PREFIX}keys:{digits}"


def keyed(ref: str) -> str:
    """``ref`` as keyed on a phone's keypad: each letter as the digit of its key."""
    return "".join(_KEYPAD.get(c, c) for c in ref)


def spelled(text: str) -> str:
    """``text`` as a reference would be written: capitals, without spaces, dashes or dots (``k7m4 q2xp-ab`` →
    ``K7M4Q2XPAB``)."""
    return "".join(c for c in text.upper() if c not in " -._\t")


def is_shaped(text: str) -> bool:
    """Whether ``text`` (as :func:`spelled`) could be a reference: its length, only :data:`ALPHABET`."""
    return len(text) == REF_LENGTH and all(c in ALPHABET for c in text)


def mint(connection: Redis) -> str:
    """A reference no live broadcast holds (a clash is one in 10⁹ at 100,000 live ones; it is checked anyway)."""
    while True:
        ref = "".join(secrets.choice(ALPHABET) for _ in range(REF_LENGTH))
        if not connection.exists(key(ref)):
            return ref


def remember(pipe: Pipeline, ref: str, *, agency: str, sent_at: float, message: Mapping[str, str],
             public: bool) -> None:
    """Queue the reference's record on ``pipe`` (the broadcast's own write); a private one keeps no words."""
    first_words = {lang: " ".join(text.split()[:WORDS_KEPT]) for lang, text in message.items()} if public else {}
    pipe.hset(key(ref), mapping={"agency": agency, "sent_at": repr(sent_at), "public": "1" if public else "0",
                                 "texts": json.dumps(first_words, ensure_ascii=False)})
    pipe.expire(key(ref), REF_TTL_S)
    pipe.sadd(keyed_key(keyed(ref)), ref)
    pipe.expire(keyed_key(keyed(ref)), REF_TTL_S)


def find(connection: Redis, spellings: Iterable[str]) -> Message | None:
    """The first of ``spellings`` that is a reference (one round trip for all of them), or None."""
    tried = [s for s in spellings if len(s) == REF_LENGTH]
    if not tried:
        return None
    pipe = connection.pipeline(transaction=False)
    for ref in tried:
        pipe.hgetall(key(ref))
    for ref, raw in zip(tried, pipe.execute(), strict=True):
        if raw:
            return Message(ref=ref, agency=raw[b"agency"].decode(), sent_at=float(raw[b"sent_at"]),
                           texts=json.loads(raw[b"texts"]), public=raw.get(b"public", b"1") == b"1")
    return None


def find_keyed(connection: Redis, digits: str) -> Message | None:
    """The reference keyed as ``digits`` (a voice caller's), or None; the first of several that share them."""
    if len(digits) != REF_LENGTH or not digits.isdigit():
        return None
    return find(connection, sorted(texts(connection.smembers(keyed_key(digits)))))
