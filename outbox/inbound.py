"""Inbound SMS keywords: STOP, START/JOIN and HELP, in every supported language, ahead of anything else.

The keywords and every reply are the catalogs' (``menus/locale/sms/<lang>.po``): ``sms.keywords.<action>`` lists
the words of one action in one language, so adding a language by catalog files covers SMS too, and
``gateway check-menus`` sees every reply. A word in brackets in that list (``(END)``) is an everyday word
(``END``, ``YES``, Tagalog ``OO``) that counts only when it is the whole message, so "End of shift today" is not a
STOP and "Oo po" not a JOIN. A keyword is the first word, punctuation around it, case and accents ignored.

Other actions plug in without this module knowing them: a catalog key ``sms.keywords.<action>`` (in any area's
catalog, e.g. ``check/``) makes :func:`parse` recognise the words, and the web app passes a :data:`Route` for that
action to :func:`handle`, which answers with the text the route returns under the same once-per-id rule and the
same SMS caps. (The outbox never imports handlers: the route is the seam.)

``JOIN <country> <language>`` reads names as people write them (:mod:`outbox.names`): ``JOIN qatar kiswahili``,
``JOIN saudi arabia arabic``, ``JIUNGE Katari Kiswahili``, or ISO codes. The reply names what it took; a country or
language it cannot read, or one that could be several, gets a reply asking again, and nothing is subscribed.

An inbound message is acted on once per AT message ``id`` (AT retries until it gets a 200). Replies are individual
SMS through :func:`outbox.sms.queue_message` with ``reply=True``: within a number's daily allowance of replies to
its own keyword SMS (``SMS_REPLIES_PER_NUMBER_PER_DAY``, counted under its pseudonym, apart from the single SMS
USSD screens send, so HELP five times does not silence JOIN's confirmation) and the installation's daily cap, so
a looping handset, a prank or spoofed senders cannot make us spend money. The sender is matched to its
subscription by sealing its number.
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from redis import Redis

from identity.codes import language_code
from identity.phones import InvalidNumber, normalise, region_of
from menus.catalog import Catalog
from menus.gsm import is_gsm7, to_gsm_lookalikes

from . import keys, names, subscribers
from .config import OutboxConfig
from .sms import claim, queue_message

#: Seen inbound ids are remembered this long (AT retries for up to 12 hours).
SEEN_TTL_S = 24 * 3600
#: Catalog keys naming keyword words: ``sms.keywords.<action>``.
KEYWORD_PREFIX = "sms.keywords."
#: The actions this module carries out itself; any other recognised action goes to a :data:`Route`.
OWN_ACTIONS = frozenset({"stop", "start", "help"})
#: Words after JOIN that are read as a country and a language at most (a longer message is not a JOIN request).
MAX_JOIN_WORDS = 6
#: How much of what the person wrote a reply repeats back.
ECHO_CHARS = 30


class Keyword(NamedTuple):
    """A keyword message: its action, the language its keyword is a word of, the words after it."""

    action: str
    language: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Inbound:
    """What a :data:`Route` gets: the sender (E.164), the keyword, and the language to answer in."""

    phone: str
    keyword: Keyword
    language: str


#: Another action's handler (``check``): the reply's text, or None to send nothing.
Route = Callable[[Inbound], "str | None"]


@dataclass(frozen=True)
class InboundResult:
    action: str  # stop, start, join, help, ask (JOIN not understood), ignored, duplicate, or a routed action


@dataclass(frozen=True)
class _Word:
    action: str
    language: str
    alone: bool  # a keyword only when it is the whole message


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _bare(word: str) -> str:
    """``word`` without punctuation or symbols around it (``Stop!`` → ``Stop``, ``«ARRET».`` → ``ARRET``)."""
    start, end = 0, len(word)
    while start < end and unicodedata.category(word[start])[0] in "PS":
        start += 1
    while end > start and unicodedata.category(word[end - 1])[0] in "PS":
        end -= 1
    return word[start:end]


_TABLES: dict[int, tuple[Catalog, dict[str, _Word]]] = {}


def keyword_table(catalog: Catalog) -> dict[str, _Word]:
    """Folded word → its action and language, from every ``sms.keywords.<action>`` key of every language (the
    source language first: a word two languages share is the first one's)."""
    cached = _TABLES.get(id(catalog))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    table: dict[str, _Word] = {}
    for lang in catalog.languages:
        for key, words in catalog.messages[lang].items():
            if not key.startswith(KEYWORD_PREFIX):
                continue
            action = key[len(KEYWORD_PREFIX):]
            for raw in words.split():
                alone = raw.startswith("(") and raw.endswith(")")
                word = _fold(raw.strip("()"))
                if word:
                    table.setdefault(word, _Word(action, lang, alone))
    _TABLES[id(catalog)] = (catalog, table)
    return table


@lru_cache(maxsize=1)
def _default_catalog() -> Catalog:
    return Catalog.load()


def parse(text: str, catalog: Catalog | None = None) -> Keyword | None:
    """The keyword message ``text`` is, else None."""
    words = [w for w in (_bare(w) for w in (text or "").split()) if w]
    if not words:
        return None
    found = keyword_table(catalog or _default_catalog()).get(_fold(words[0]))
    if found is None or (found.alone and len(words) > 1):
        return None
    return Keyword(found.action, found.language, tuple(words[1:]))


def handle(connection: Redis, config: OutboxConfig, *, sender: str, text: str, inbound_id: str,
           routes: Mapping[str, Route] | None = None) -> InboundResult:
    """Act on one inbound SMS; a repeated ``inbound_id`` does nothing. Replies are counted under the sender's
    keyed pseudonym (an unkeyed hash of a phone number is reversed by trying every number). ``routes``: the
    handlers of actions other than :data:`OWN_ACTIONS`, by action."""
    if inbound_id and not connection.set(keys.inbound_seen(inbound_id[:128]), "1", nx=True, ex=SEEN_TTL_S):
        return InboundResult("duplicate")
    try:
        return _act(connection, config, sender, text, routes or {})
    except BaseException:
        if inbound_id:
            connection.delete(keys.inbound_seen(inbound_id[:128]))
        raise


def _act(connection: Redis, config: OutboxConfig, sender: str, text: str,
         routes: Mapping[str, Route]) -> InboundResult:
    catalog = config.catalog or _default_catalog()
    try:
        phone = normalise(sender)
    except InvalidNumber:
        return InboundResult("ignored")
    keyword = parse(text, catalog)
    if keyword is None:
        return InboundResult("ignored")
    existing = subscribers.get(connection, config.keyring, phone)
    known = existing.language if existing and catalog.supports(existing.language) else None
    language = known or keyword.language
    if keyword.action not in OWN_ACTIONS:
        route = routes.get(keyword.action)
        answer = route(Inbound(phone, keyword, language)) if route else None
        if answer is None:
            return InboundResult("ignored")
        queue_message(connection, config, phone, answer, priority="normal", reply=True)
        return InboundResult(keyword.action)
    action, reply = keyword.action, ""
    if action == "stop":
        already = subscribers.is_opted_out(connection, config.keyring, phone)
        subscribers.opt_out(connection, config.keyring, phone)
        if not already:
            _confirm_stop(connection, config, phone, catalog.text(language, "sms.stopped"))
        return InboundResult(action)
    elif action == "help":
        reply = catalog.text(language, "sms.help")
    elif keyword.words:
        action, reply = _join(connection, config, catalog, phone, keyword, existing)
    else:
        action, reply = _start(connection, config, catalog, phone, language, existing)
    queue_message(connection, config, phone, _sms_text(reply), priority="normal", reply=True)
    return InboundResult(action)


def _confirm_stop(connection: Redis, config: OutboxConfig, phone: str, text: str) -> None:
    """STOP is confirmed once by SMS (CONTRACT §2), even past the number's daily allowance of replies: an opt-out
    left unconfirmed because the same number sent many keywords that day was silent (found by the black-box
    probe). Only a change of state is confirmed (a repeated STOP is not); the installation's cap still
    holds, and only the day's first confirmation of a number goes past its cap (later ones share it as any
    reply does), so STOP/START pairs from a spoofed sender cannot pump SMS through the account."""
    day = time.strftime("%Y%m%d", time.gmtime())
    once = keys.stop_confirmed(config.keyring.pseudonym(phone), day)
    if not connection.set(once, "1", nx=True, ex=2 * 24 * 3600):  # the day's first went past the cap already
        queue_message(connection, config, phone, _sms_text(text), priority="normal", reply=True)
    elif claim(connection, config, phone, per_number=False, reply=True):
        queue_message(connection, config, phone, _sms_text(text), priority="normal", claimed=True, reply=True)


def _sms_text(text: str) -> str:
    """Names put into a reply (``Koweït``) folded to GSM-7 look-alikes when that keeps the SMS in GSM-7."""
    folded = to_gsm_lookalikes(text)
    return folded if is_gsm7(folded) else text


def _start(connection: Redis, config: OutboxConfig, catalog: Catalog, phone: str, language: str,
           existing: subscribers.Subscriber | None) -> tuple[str, str]:
    """``START`` alone: alerts back on; a number with no subscription gets its own country's, all topics."""
    subscribers.opt_in(connection, config.keyring, phone)
    if existing is not None and existing.countries:
        return "start", catalog.text(language, "sms.started")
    country = region_of(phone)
    if not country:  # a number of no country (+882…): opted in, nothing to subscribe to; say how to JOIN
        return "start", catalog.text(language, "sms.help")
    subscribers.subscribe(connection, config.keyring, phone, country=country, language=language,
                          topics=subscribers.TOPICS, source="sms")
    return "join", catalog.text(language, "sms.joined", country=names.country_name(country, language),
                                language=_language_label(catalog, language, language))


def _join(connection: Redis, config: OutboxConfig, catalog: Catalog, phone: str, keyword: Keyword,
          existing: subscribers.Subscriber | None) -> tuple[str, str]:
    """``JOIN <country> [<language>]`` (or ``JOIN <language>``), answered in the keyword's language: subscribed
    to every topic of that country and named in the reply, or asked again with nothing changed."""
    reply_lang = keyword.language
    reading = read_join(keyword.words, catalog.languages)
    if reading.problem is not None:
        params: dict[str, object] = {"words": reading.words[:ECHO_CHARS]}
        if reading.problem == "country_ambiguous":
            params["choices"] = ", ".join(names.country_name(c, reply_lang) for c in reading.choices)
        if reading.problem == "language_unknown":
            params["languages"] = ", ".join(_language_label(catalog, reply_lang, lang) for lang in catalog.languages)
        return "ask", catalog.text(reply_lang, f"sms.join.{reading.problem}", **params)
    country = reading.country or (min(existing.countries) if existing and existing.countries else None) \
        or region_of(phone)
    if not country:
        return "ask", catalog.text(reply_lang, "sms.join.country_unknown", words=" ".join(keyword.words)[:ECHO_CHARS])
    language = reading.language or (existing.language if existing and catalog.supports(existing.language) else None) \
        or keyword.language
    subscribers.opt_in(connection, config.keyring, phone)
    subscribers.subscribe(connection, config.keyring, phone, country=country, language=language,
                          topics=subscribers.TOPICS, source="sms")
    return "join", catalog.text(reply_lang, "sms.joined", country=names.country_name(country, reply_lang),
                                language=_language_label(catalog, reply_lang, language))


def _language_label(catalog: Catalog, reply_lang: str, code: str) -> str:
    """A language as a reply names it: its own name, as the language menu shows it (``Kiswahili``), unless that
    name alone would turn a GSM-7 reply into UCS-2 (``العربية`` in English: twice the segments), where the reply
    language's name for it is used (``Arabic``)."""
    own = catalog.text(reply_lang, f"language.{code}")
    if is_gsm7(to_gsm_lookalikes(own)) or not is_gsm7(catalog.text(reply_lang, "sms.joined")):
        return own
    return names.language_name(code, reply_lang) or own


@dataclass(frozen=True)
class JoinReading:
    """What ``JOIN``'s words were read as: a country and/or a language, or a problem to ask about (``words``:
    the part that could not be read, ``choices``: the countries an ambiguous name could be)."""

    country: str | None = None
    language: str | None = None
    problem: str | None = None  # country_unknown, country_ambiguous, language_unknown
    words: str = ""
    choices: tuple[str, ...] = ()


def read_join(words: Sequence[str], languages: Sequence[str]) -> JoinReading:
    """Split ``words`` into a country (first, one or more words) and a language (the rest, optional), trying
    every split; ``JOIN <language>`` alone is read too. Readings that differ are ambiguous, never guessed."""
    if len(words) > MAX_JOIN_WORDS:
        return JoinReading(problem="country_unknown", words=" ".join(words))
    if len(words) == 1 and (code := language_code(words[0])) in languages:
        return JoinReading(language=code)  # JOIN ar, JOIN fr: the language we send in, not Argentina or France
    full: list[tuple[tuple[str, ...], tuple[str, ...], int]] = []
    language_unread: list[int] = []  # splits whose country was read and whose rest was not a language
    for split in range(len(words), 0, -1):
        country = names.read_country(words[:split], languages)
        if not country.codes:
            continue
        if split == len(words):
            full.append((country.codes, (), split))
            continue
        language = names.read_language(words[split:], languages)
        if language.codes:
            full.append((country.codes, language.codes, split))
        else:
            language_unread.append(split)
    if not full:
        if language_unread:
            return JoinReading(problem="language_unknown", words=" ".join(words[max(language_unread):]))
        return _language_only(words, languages)
    countries = sorted({code for codes, _, _ in full for code in codes})
    if len(countries) > 1:
        return JoinReading(problem="country_ambiguous", words=" ".join(words), choices=tuple(countries))
    spoken = sorted({code for _, codes, _ in full for code in codes})
    if not spoken:
        return JoinReading(country=countries[0])
    if len(spoken) == 1 and spoken[0] in languages:
        return JoinReading(country=countries[0], language=spoken[0])
    split = next(split for _, codes, split in full if codes)
    return JoinReading(problem="language_unknown", words=" ".join(words[split:]))


def _language_only(words: Sequence[str], languages: Sequence[str]) -> JoinReading:
    """No country read: ``JOIN <language>`` when the words are a language we send in; else the country is the
    words before the last ones that are a language, or all of them."""
    found = names.read_language(words, languages).codes
    if found:
        if len(found) == 1 and found[0] in languages:
            return JoinReading(language=found[0])
        return JoinReading(problem="language_unknown", words=" ".join(words))
    for split in range(1, len(words)):
        if names.read_language(words[split:], languages).codes:
            return JoinReading(problem="country_unknown", words=" ".join(words[:split]))
    return JoinReading(problem="country_unknown", words=" ".join(words))
