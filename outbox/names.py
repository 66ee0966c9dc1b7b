"""Country and language names as people write them in an SMS (``JOIN qatar kiswahili``, ``JIUNGE Saudia
Kiarabu``, ``انضم قطر العربية``): read into ISO codes, or found unreadable or ambiguous, never guessed.

The names are CLDR's (through Babel): every territory's and language's name in each language the gateway speaks,
so a language added by catalog files is read too. :data:`COUNTRY_ALIASES` and :data:`LANGUAGE_ALIASES` add the
short forms people use that CLDR does not list (``UAE``, ``Saudi``, ``Filipino`` for Tagalog). ISO codes are read
as well (``QA``, ``QAT``, ``sw``).

Matching is on a folded form: case, accents and punctuation ignored (``Émirats arabes unis`` = ``emirats arabes
unis``, ``Congo-Kinshasa`` = ``congo kinshasa``); in Arabic script the harakat, the alef, ta marbuta and alef
maqsura variants and the article ``ال`` are ignored too (``السعودية`` = ``سعودية``). A folded name that belongs to
two countries (``congo``) is ambiguous: the reader returns both and the caller asks again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from identity.codes import country_code, language_code

#: Short forms and everyday names CLDR does not list, by the code they mean (folded by :func:`fold` at use).
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "AE": ("UAE", "Emirates", "Dubai", "Abu Dhabi", "الإمارات", "امارات", "Emirati", "Falme za Kiarabu"),
    "SA": ("Saudi", "KSA", "Arabie", "السعودية", "Saudi Arabia", "Saudia", "Saudi Arabiya"),
    "GB": ("UK", "England", "Britain", "Great Britain", "Angleterre", "Uingereza"),
    "US": ("USA", "America", "Amerika", "Etats-Unis", "Marekani"),
    "CD": ("DRC", "RDC", "Congo", "Kongo"),
    "CG": ("Congo", "Kongo"),
    "PH": ("Pinas", "Filipinas", "Pilipinas", "Philippine", "Ufilipino", "الفلبين"),
    "KW": ("Koweit",),
    "QA": ("Katar", "Katari"),
    "LB": ("Liban", "Lubnan"),
    "JO": ("Jordanie", "Urdun", "الأردن"),
    "KE": ("Kenia",),
}
#: Other names of a language, and language codes the gateway files under another code (``fil`` → ``tl``).
LANGUAGE_ALIASES: dict[str, tuple[str, ...]] = {
    "tl": ("Filipino", "Pilipino", "Kifilipino", "Tagalog", "Tagalo", "fil", "فلبيني", "الفلبينية", "تاغالوغ"),
    "sw": ("Swahili", "Kiswahili", "Suahili", "سواحيلي", "السواحيلية"),
    "ar": ("Arabic", "Arab", "Arabe", "Kiarabu", "Arabo", "عربي", "عربية", "العربية"),
    "en": ("English", "Anglais", "Kiingereza", "Ingles", "Inggles", "انجليزي", "انجليزية", "انكليزي", "انكليزية"),
    "fr": ("French", "Francais", "Kifaransa", "Pranses", "فرنسي", "فرنسية", "الفرنسية"),
}
#: Languages CLDR knows by a code the gateway's catalogs file under another.
_LANGUAGE_SYNONYMS = {"fil": "tl"}

_ARABIC_VARIANTS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None})
_ARABIC = re.compile(r"[\u0600-\u06ff]")


def fold(text: str) -> str:
    """``text`` as it is compared: lower case, no accents or harakat, punctuation as spaces, one space between
    words; Arabic letter variants and the article ``ال`` dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = []
    for word in re.split(r"[\W_]+", plain.translate(_ARABIC_VARIANTS)):
        if not word:
            continue
        if _ARABIC.match(word) and word.startswith("ال") and len(word) > 3:
            word = word[2:]
        words.append(word)
    return " ".join(words)


@dataclass(frozen=True)
class Reading:
    """What some words were read as: exactly one code (:attr:`code`), several (ambiguous) or none."""

    codes: tuple[str, ...]

    @property
    def code(self) -> str | None:
        return self.codes[0] if len(self.codes) == 1 else None


def _locales(languages: Iterable[str]) -> list[Locale]:
    out = []
    for lang in languages:
        try:
            out.append(Locale.parse(lang))
        except (UnknownLocaleError, ValueError):
            continue  # a catalog language CLDR does not know: its codes and aliases still work
    return out


@lru_cache(maxsize=8)
def _country_names(languages: tuple[str, ...]) -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for locale in _locales(languages):
        for code, name in locale.territories.items():
            if len(code) == 2 and code.isalpha() and country_code(code, alpha3=False) == code:
                table.setdefault(fold(name), set()).add(code)
    for code, aliases in COUNTRY_ALIASES.items():
        for alias in aliases:
            table.setdefault(fold(alias), set()).add(code)
    return {name: frozenset(codes) for name, codes in table.items()}


@lru_cache(maxsize=8)
def _language_names(languages: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Every language CLDR names in ``languages`` (the supported ones and all others, so that a language the
    gateway does not send in is recognised as such), by folded name."""
    table: dict[str, set[str]] = {}
    for locale in _locales(languages):
        for code, name in locale.languages.items():
            if "_" in code:
                continue  # regional variants (en_GB): the language is the same
            table.setdefault(fold(name), set()).add(_LANGUAGE_SYNONYMS.get(code, code))
    for code, aliases in LANGUAGE_ALIASES.items():
        for alias in aliases:
            table.setdefault(fold(alias), set()).add(code)
    return {name: frozenset(codes) for name, codes in table.items()}


def read_country(words: Sequence[str], languages: Sequence[str]) -> Reading:
    """The country ``words`` name (in any of ``languages``, or as an ISO 3166-1 alpha-2/alpha-3 code)."""
    if len(words) == 1 and (code := country_code(words[0])):
        return Reading((code,))
    return Reading(tuple(sorted(_country_names(tuple(languages)).get(fold(" ".join(words)), ()))))


def read_language(words: Sequence[str], languages: Sequence[str]) -> Reading:
    """The language ``words`` name (in any of ``languages``, or as an ISO 639 code), whether the gateway speaks
    it or not: the caller checks that against its catalogs."""
    if len(words) == 1 and (code := language_code(words[0])) and code in languages:
        return Reading((code,))
    found = _language_names(tuple(languages)).get(fold(" ".join(words)), frozenset())
    return Reading(tuple(sorted(found)))


def country_name(code: str, lang: str) -> str:
    """``code``'s name in ``lang`` (CLDR), or the code itself when CLDR has none."""
    try:
        return str(Locale.parse(lang).territories.get(code) or code)
    except (UnknownLocaleError, ValueError):
        return code


def language_name(code: str, lang: str) -> str | None:
    """``code``'s name in ``lang`` (CLDR), capitalised as a name in a list (``arabe`` → ``Arabe``); None when
    CLDR has none."""
    try:
        name = Locale.parse(lang).languages.get(code)
    except (UnknownLocaleError, ValueError):
        return None
    return name[:1].upper() + name[1:] if name else None
