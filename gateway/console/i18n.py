"""The console's own languages, with Flask-Babel reading gettext PO files directly.

Catalogs are ``gateway/console/translations/<lang>.po`` (English is the source text). They are read once per
process with Babel's PO reader, so there is no compiled ``.mo`` to build or to drift from its ``.po``; the same
format the USSD menus use (``menus/locale``), so translators work with one kind of file.

The language is the person's choice (kept in their session), else the browser's best match.
"""

from __future__ import annotations

import io
import unicodedata
from functools import cached_property
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, request, session
from flask_babel import Babel, Domain, get_locale

LANGUAGES = {"en": "English", "fr": "Français"}
#: Languages written right to left, for ``dir="rtl"`` on their content.
RTL = frozenset({"ar", "fa", "he", "ur", "ps"})
CATALOGS = Path(__file__).parent / "translations"


def _load(lang: str) -> NullTranslations:
    path = CATALOGS / f"{lang}.po"
    if not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


class PoDomain(Domain):
    """A Flask-Babel domain whose catalogs come from :data:`CATALOGS` (see module doc)."""

    def get_translations(self) -> NullTranslations:
        lang = str(get_locale() or "en")
        if lang not in self.cache:
            self.cache[lang] = _load(lang)
        translations: NullTranslations = self.cache[lang]
        return translations


class ConsoleBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return PoDomain()


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(list(LANGUAGES), default="en") or "en"


def text_direction(lang: str | None) -> str:
    return "rtl" if (lang or "").split("-")[0].lower() in RTL else "ltr"


def direction_of(text: str | None) -> str:
    """``rtl`` when the text's first strong character is right-to-left (Arabic, Hebrew...), else ``ltr``: for
    content whose language the console does not know, such as a USSD screen."""
    for char in text or "":
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def init_app(app: Flask) -> None:
    ConsoleBabel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(text_direction=text_direction, direction_of=direction_of,
                                 console_languages=LANGUAGES, get_locale=get_locale)
