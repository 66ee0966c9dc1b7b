"""The ``CHECK`` keyword of inbound SMS (CONTRACT §2, §6): ``CHECK <ref, phone number or licence number>``.

The gateway's inbound route hands every message here first (:func:`handle`); a message whose first word is not a
``CHECK`` word (:data:`WORDS`, in every supported language, matched case- and accent-insensitively) is left
untouched for the outbox's keywords (STOP, JOIN, HELP). A ``CHECK`` is acted on once per AT message ``id`` (the
same record of seen ids as the outbox's keywords), counted against the number's hourly limit *before* any lookup
(:mod:`.limits`), and answered by one SMS within the installation's daily cap of single SMS (:mod:`outbox.sms`).
The hourly limit is the answer's per-number cap, in place of the daily one every other single SMS shares: five
SMS a day per number would leave a caller promised five checks an hour with none after the first hour.

The answer's language: the one remembered for the number (its USSD or voice choice, else its subscription), else
the language of the word it used (``HAKIKI`` answers in Swahili).
"""

from __future__ import annotations

import unicodedata

from identity.phones import InvalidNumber, normalise, region_of
from menus.catalog import Catalog
from outbox import keys as outbox_keys
from outbox import subscribers
from outbox.inbound import SEEN_TTL_S
from outbox.sms import claim, queue_message
from redis_reply import optional_text
from sessions.keys import profile_key

from ..services import Services
from . import answers, limits

#: Words that start a check, by the language they are a word of (folded: capitals, no accents).
WORDS: dict[str, str] = {
    **dict.fromkeys(("CHECK", "VERIFY"), "en"),
    **dict.fromkeys(("VERIFIER", "CONTROLER"), "fr"),
    **dict.fromkeys(("HAKIKI", "KAGUA"), "sw"),
    **dict.fromkeys(("تحقق", "تاكد"), "ar"),  # تأكد folds to تاكد (the hamza is a combining mark)
    **dict.fromkeys(("SURIIN", "TSEK", "BERIPIKAHIN"), "tl"),
}


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).upper()
    return bare.strip("".join(c for c in bare if unicodedata.category(c)[0] in "PS"))


def parse(text: str) -> tuple[str, str] | None:
    """(the language of its ``CHECK`` word, what follows it) for a check, else None."""
    parts = (text or "").strip().split(None, 1)
    if not parts:
        return None
    lang = WORDS.get(_fold(parts[0]))
    if lang is None:
        return None
    return lang, parts[1].strip() if len(parts) > 1 else ""


def language(services: Services, catalog: Catalog, phone: str, caller: str, word_lang: str) -> str:
    """The remembered language of ``phone`` (menus first, then its subscription), else ``word_lang``."""
    remembered = optional_text(services.redis.hget(profile_key(caller), "lang"))
    if not catalog.supports(remembered):
        subscriber = subscribers.get(services.redis, services.keyring, phone)
        remembered = subscriber.language if subscriber else None
    return remembered if remembered and catalog.supports(remembered) else word_lang


def handle(services: Services, catalog: Catalog, *, sender: str, text: str, inbound_id: str) -> str | None:
    """Answer a ``CHECK`` message; None when the message is not one (nothing done). Returns what was done:
    ``check``, ``check_limited``, ``duplicate`` or ``ignored`` (a sender that is no number)."""
    parsed = parse(text)
    if parsed is None:
        return None
    try:
        phone = normalise(sender)
    except InvalidNumber:
        return "ignored"
    redis = services.redis
    seen = outbox_keys.inbound_seen(inbound_id[:128]) if inbound_id else None
    if seen and not redis.set(seen, "1", nx=True, ex=SEEN_TTL_S):
        return "duplicate"
    try:
        return _answer(services, catalog, phone, *parsed)
    except BaseException:
        if seen:
            redis.delete(seen)
        raise


def _answer(services: Services, catalog: Catalog, phone: str, word_lang: str, typed: str) -> str:
    caller = services.keyring.pseudonym(phone)
    lang = language(services, catalog, phone, caller, word_lang)
    limit = services.settings.check_per_number_per_hour
    count = limits.take_check(services.redis, caller)
    if count > limit:
        if count == limit + 1:  # told once per window; further attempts cost no SMS
            _reply(services, phone, catalog.text(lang, "check.answer.limit"))
        return "check_limited"
    reply = (answers.about(services.redis, catalog, lang, typed, region=region_of(phone), keyring=services.keyring)
             if typed else catalog.text(lang, "check.answer.usage"))
    _reply(services, phone, reply)
    return "check"


def _reply(services: Services, phone: str, text: str) -> None:
    """One SMS within the installation's daily cap. Not within the per-number daily cap of single SMS: the hourly
    check limit is this reply's own per-number cap, and a caller told "5 checks an hour" must get them."""
    if claim(services.redis, services.outbox, phone, per_number=False):
        queue_message(services.redis, services.outbox, phone, text, claimed=True)
