"""Inbound SMS keywords: STOP, START/JOIN and HELP, in every supported language, ahead of anything else.

An inbound message is acted on once per AT message ``id`` (AT retries until it gets a 200). Confirmations are
individual SMS through :func:`outbox.sms.queue_message`, within the daily caps every single SMS shares (per
number, counted under its pseudonym, and for the installation), so a looping handset, a prank or spoofed senders
cannot make us spend money. The sender is matched to its subscription by sealing its number.

A keyword is the first word, punctuation around it ignored (``Stop!``). Words people also use in ordinary
messages (:data:`WHOLE_MESSAGE_ONLY`: ``END``, ``YES``, ``OO`` …) count only when they are the whole message, so
"End of shift today" is not a STOP and "Oo po" not a JOIN.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from redis import Redis

from identity.codes import country_code
from identity.phones import InvalidNumber, normalise, region_of
from menus.languages import default_language

from . import keys, subscribers
from .config import OutboxConfig
from .sms import queue_message

#: Seen inbound ids are remembered this long (AT retries for up to 12 hours).
SEEN_TTL_S = 24 * 3600

#: Keyword → (action, language it is a word of). Matched on the first word, case- and accent-insensitively.
KEYWORDS: dict[str, tuple[str, str]] = {
    **{w: ("stop", "en") for w in ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")},
    **{w: ("stop", "fr") for w in ("ARRET", "ARRETER", "DESABONNER", "DESINSCRIRE")},
    **{w: ("stop", "sw") for w in ("ACHA", "SITISHA", "SIMAMISHA")},
    **{w: ("stop", "ar") for w in ("قف", "توقف", "إيقاف", "ايقاف", "الغاء", "إلغاء")},
    **{w: ("stop", "tl") for w in ("TIGIL", "HINTO", "ITIGIL")},
    **{w: ("start", "en") for w in ("START", "JOIN", "SUBSCRIBE", "UNSTOP", "YES")},
    **{w: ("start", "fr") for w in ("DEBUT", "DEMARRER", "INSCRIRE", "REJOINDRE", "OUI")},
    **{w: ("start", "sw") for w in ("ANZA", "JIUNGE", "NDIYO")},
    **{w: ("start", "ar") for w in ("ابدأ", "ابدا", "اشتراك", "انضم")},
    **{w: ("start", "tl") for w in ("SIMULA", "SUMALI", "OO")},
    **{w: ("help", "en") for w in ("HELP", "INFO")},
    **{w: ("help", "fr") for w in ("AIDE",)},
    **{w: ("help", "sw") for w in ("MSAADA", "SAIDIA")},
    **{w: ("help", "ar") for w in ("مساعدة", "مساعده")},
    **{w: ("help", "tl") for w in ("TULONG",)},
}

#: Keywords that are also everyday words ("end", "yes", Swahili "acha" = leave, Tagalog "oo" = yes, "hinto" =
#: pause, "simula" = since): a keyword only when they are the whole message.
WHOLE_MESSAGE_ONLY = frozenset({"CANCEL", "END", "QUIT", "YES", "OUI", "NDIYO", "OO", "INFO", "AIDE", "ACHA", "ANZA",
                                "HINTO", "SIMULA", "DEBUT", "SAIDIA"})

CONFIRMATIONS: dict[str, dict[str, str]] = {
    "stop": {
        "en": "You will receive no more alerts. Send START to subscribe again.",
        "fr": "Vous ne recevrez plus d'alertes. Envoyez DEBUT pour vous reabonner.",
        "sw": "Hutapokea tena arifa. Tuma ANZA kujiunga tena.",
        "ar": "لن تصلك تنبيهات بعد الآن. أرسل ابدأ للاشتراك مجددا.",
        "tl": "Hindi ka na makakatanggap ng alerto. Ipadala ang SIMULA para muling sumali.",
    },
    "start": {
        "en": "You are subscribed to alerts. Send STOP to stop them.",
        "fr": "Vous etes abonne aux alertes. Envoyez ARRET pour les arreter.",
        "sw": "Umejiunga na arifa. Tuma ACHA kusitisha.",
        "ar": "أنت مشترك في التنبيهات. أرسل قف لإيقافها.",
        "tl": "Naka-subscribe ka na sa mga alerto. Ipadala ang TIGIL para itigil.",
    },
    "help": {
        "en": "Alerts for migrants. JOIN <country> <language> to subscribe, STOP to stop. Dial our USSD code for help.",
        "fr": "Alertes pour migrants. DEBUT <pays> <langue> pour s'abonner, ARRET pour arreter.",
        "sw": "Arifa kwa wahamiaji. JIUNGE <nchi> <lugha> kujiunga, ACHA kusitisha.",
        "ar": "تنبيهات للمهاجرين. أرسل انضم <البلد> <اللغة> للاشتراك، قف للإيقاف.",
        "tl": "Mga alerto para sa migrante. SUMALI <bansa> <wika> para sumali, TIGIL para itigil.",
    },
}
SUPPORTED = tuple(CONFIRMATIONS["stop"])


@dataclass(frozen=True)
class InboundResult:
    action: str  # stop, start, join, help, ignored, duplicate


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


def parse(text: str) -> tuple[str, str, list[str]] | None:
    """(action, keyword language, remaining words) for a keyword message, else None."""
    words = [w for w in (_bare(w) for w in (text or "").split()) if w]
    if not words:
        return None
    folded = _fold(words[0])
    found = KEYWORDS.get(folded) or KEYWORDS.get(words[0])
    if found is None or (len(words) > 1 and (folded in WHOLE_MESSAGE_ONLY or words[0] in WHOLE_MESSAGE_ONLY)):
        return None
    return found[0], found[1], words[1:]


def handle(connection: Redis, config: OutboxConfig, *, sender: str, text: str, inbound_id: str) -> InboundResult:
    """Act on one inbound SMS; a repeated ``inbound_id`` does nothing. Confirmations are counted under the
    sender's keyed pseudonym (an unkeyed hash of a phone number is reversed by trying every number)."""
    if inbound_id and not connection.set(keys.inbound_seen(inbound_id[:128]), "1", nx=True, ex=SEEN_TTL_S):
        return InboundResult("duplicate")
    try:
        return _act(connection, config, sender, text)
    except BaseException:
        if inbound_id:
            connection.delete(keys.inbound_seen(inbound_id[:128]))
        raise


def _act(connection: Redis, config: OutboxConfig, sender: str, text: str) -> InboundResult:
    try:
        phone = normalise(sender)
    except InvalidNumber:
        return InboundResult("ignored")
    parsed = parse(text)
    if parsed is None:
        return InboundResult("ignored")
    action, word_lang, rest = parsed
    existing = subscribers.get(connection, config.keyring, phone)
    language = existing.language if existing and existing.language in SUPPORTED else word_lang
    if action == "stop":
        subscribers.opt_out(connection, config.keyring, phone)
    elif action == "start":
        subscribers.opt_in(connection, config.keyring, phone)
        country, lang = _join_arguments(rest)
        if country or lang or existing is None:
            country = country or (sorted(existing.countries)[0] if existing and existing.countries else None) \
                or region_of(phone)
            if country:  # a number of no country (+882…) and no country given: opted in, nothing subscribed
                language = lang or (existing.language if existing else default_language(region_of(phone), SUPPORTED))
                subscribers.subscribe(connection, config.keyring, phone, country=country, language=language,
                                      topics=subscribers.TOPICS, source="sms")
                action = "join"
    texts = CONFIRMATIONS["start" if action == "join" else action]
    queue_message(connection, config, phone, texts.get(language) or texts[word_lang], priority="normal")
    return InboundResult(action)


def _join_arguments(rest: list[str]) -> tuple[str | None, str | None]:
    """``JOIN <country> <language>``: an ISO 3166-1 country (alpha-2 or alpha-3) and a supported language, each
    optional (``JOIN sw`` gives only the language); anything else is ignored rather than subscribed to."""
    country = country_code(rest[0]) if rest else None
    words = rest[1:2] if country else rest[:1]
    lang = words[0].lower() if words and words[0].lower() in SUPPORTED else None
    return country, lang
