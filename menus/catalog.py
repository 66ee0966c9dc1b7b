"""Translation catalogs: gettext PO files, one per language, read with Babel.

Why PO: it is the format translators and their tools (Poedit, Weblate, Pontoon) already speak, it carries
translator comments (``#.``) that say where a string appears and how tight its page is, and Babel reads it
without a compile step. Message ids are stable keys (``welcome.title``), not English sentences, because menu
YAML names text by key; ``en.po`` holds the source text. Adding a language is adding ``<code>.po``.

One language may be spread over several files: ``locale/<code>.po`` holds the menus' screens and
``locale/<area>/<code>.po`` an area's own messages (``sms/`` for keyword replies, ``check/`` for the genuine-or-fake
checks), so each area keeps its texts beside each other and a translator can take one area at a time. A key
defined in two files of one language is an error, never a silent override.

Strings are folded to GSM-7 look-alikes at load (``ê`` → ``e``) when that makes them GSM-7: a USSD page of
GSM-7 holds 160 characters, a page with one UCS-2 character holds 80.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

from .gsm import is_gsm7, to_gsm_lookalikes

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"
_FORMATTER = string.Formatter()
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")


def is_spoken(key: str) -> bool:
    """Keys only ever spoken on a voice call (``voice.*``, and ``<key>.voice``: the spoken form of a screen text)."""
    return key.startswith("voice.") or key.endswith(".voice")


class CatalogError(Exception):
    """A catalog file cannot be used; the message names the file and the entry."""


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message, so translations can be checked to keep them."""
    try:
        return {name for _, name, _, _ in _FORMATTER.parse(text) if name}
    except ValueError as exc:
        raise CatalogError(f"Malformed placeholder in {text!r}: {exc}") from None


class _Blank(dict[str, object]):
    """Format values where a placeholder with no value shows as nothing rather than raising."""

    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Catalog:
    """Every language's messages. ``languages`` is ordered: the source language first, then by file name."""

    messages: dict[str, dict[str, str]]
    languages: tuple[str, ...]

    @classmethod
    def load(cls, directory: Path = LOCALE_DIR) -> Catalog:
        messages: dict[str, dict[str, str]] = {}
        for path in sorted([*directory.glob("*.po"), *directory.glob("*/*.po")]):
            lang = path.stem
            if not _LANG_CODE.match(lang):
                raise CatalogError(f"{path.name}: a catalog file is named by its language code, like 'sw.po'.")
            with path.open("rb") as fh:
                po = read_po(fh, locale=None)
            table = messages.setdefault(lang, {})
            for message in po:
                if not message.id or message.fuzzy or not message.string:
                    continue
                key, text = str(message.id), str(message.string)
                if key in table:
                    raise CatalogError(f"{path.relative_to(directory)}: {key!r} is already defined for {lang!r}")
                if is_spoken(key):  # never on a screen: speech needs the real letters (français, not francais)
                    table[key] = text
                    continue
                folded = to_gsm_lookalikes(text)
                table[key] = folded if is_gsm7(folded) else text
        if SOURCE_LANGUAGE not in messages:
            raise CatalogError(f"No {SOURCE_LANGUAGE}.po in {directory}: the source language is required.")
        others = sorted(lang for lang in messages if lang != SOURCE_LANGUAGE)
        return cls(messages=messages, languages=(SOURCE_LANGUAGE, *others))

    def text(self, lang: str, key: str, **params: object) -> str:
        """The message ``key`` in ``lang``, falling back to the source language, then to the key itself."""
        table = self.messages.get(lang) or self.messages[SOURCE_LANGUAGE]
        template = table.get(key)
        if template is None:
            template = self.messages[SOURCE_LANGUAGE].get(key, key)
        return template.format_map(_Blank(params)) if params else template

    def keys(self) -> set[str]:
        return set(self.messages[SOURCE_LANGUAGE])

    def supports(self, lang: str | None) -> bool:
        return lang in self.messages

    def faults(self, used_keys: Iterable[str] = ()) -> list[str]:
        """Readable faults: a key used but missing in any language, a translation that drops or invents a
        placeholder. An empty list means every key is translated everywhere."""
        out = []
        source = self.messages[SOURCE_LANGUAGE]
        for key in sorted(set(used_keys) - set(source)):
            out.append(f"{SOURCE_LANGUAGE}.po: key {key!r} is used by a menu but has no text")
        for lang in self.languages[1:]:
            table = self.messages[lang]
            for key in sorted(source):
                if key not in table:
                    out.append(f"{lang}.po: {key!r} is not translated")
                elif placeholders(table[key]) != placeholders(source[key]):
                    out.append(
                        f"{lang}.po: {key!r} has placeholders {sorted(placeholders(table[key]))}, "
                        f"the source has {sorted(placeholders(source[key]))}"
                    )
            for key in sorted(set(table) - set(source)):
                out.append(f"{lang}.po: {key!r} is not in {SOURCE_LANGUAGE}.po (stale?)")
        return out
