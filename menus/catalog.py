"""Translation catalogs: gettext PO files, one per language, read with Babel.

Why PO: it is the format translators and their tools (Poedit, Weblate, Pontoon) already speak, it carries
translator comments (``#.``) that say where a string appears and how tight its page is, and Babel reads it
without a compile step. Message ids are stable keys (``welcome.title``), not English sentences, because menu
YAML names text by key; ``en.po`` holds the source text. Adding a language is adding ``<code>.po``.

One language may be spread over several files: ``locale/<code>.po`` holds the menus' screens and
``locale/<area>/<code>.po`` an area's own messages (``sms/`` for keyword replies, ``check/`` for the genuine-or-fake
checks), so each area keeps its texts beside each other and a translator can take one area at a time. A key
defined in two files of one language is an error, never a silent override.

Counts take gettext plurals (``msgid_plural``, one ``msgstr[i]`` per form of the file's ``Plural-Forms``): Arabic
has six forms, French counts 0 as singular, so no template says "1 tries". :meth:`Catalog.plural` picks the form;
:meth:`Catalog.text` on such a key gives its last form (the general one).

Strings are folded to GSM-7 look-alikes at load (``ê`` → ``e``) when that makes them GSM-7: a USSD page of
GSM-7 holds 160 characters, a page with one UCS-2 character holds 80.
"""

from __future__ import annotations

import gettext
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


def _fold(text: str) -> str:
    folded = to_gsm_lookalikes(text)
    return folded if is_gsm7(folded) else text


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
    #: Plural messages: every form, in the order of the language's ``Plural-Forms``.
    plurals: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    #: Per language, the index of the plural form for a count (gettext's ``Plural-Forms`` expression).
    plural_rules: dict[str, Callable[[int], int]] = field(default_factory=dict)
    #: Per language, how many plural forms its ``Plural-Forms`` declares.
    plural_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = LOCALE_DIR) -> Catalog:
        messages: dict[str, dict[str, str]] = {}
        plurals: dict[str, dict[str, tuple[str, ...]]] = {}
        rules: dict[str, Callable[[int], int]] = {}
        counts: dict[str, int] = {}
        for path in sorted([*directory.glob("*.po"), *directory.glob("*/*.po")]):
            lang = path.stem
            if not _LANG_CODE.match(lang):
                raise CatalogError(f"{path.name}: a catalog file is named by its language code, like 'sw.po'.")
            with path.open("rb") as fh:
                po = read_po(fh, locale=None)
            table = messages.setdefault(lang, {})
            if lang not in rules or path.parent == directory:  # the menus' file states the language's rule
                rules[lang], counts[lang] = gettext.c2py(po.plural_expr), po.num_plurals
            for message in po:
                if not message.id or message.fuzzy or not message.string:
                    continue
                if isinstance(message.id, tuple | list):
                    key, forms = str(message.id[0]), tuple(_fold(str(form)) for form in message.string)
                    if key in table:
                        raise CatalogError(f"{path.relative_to(directory)}: {key!r} is already defined for {lang!r}")
                    plurals.setdefault(lang, {})[key] = forms
                    table[key] = forms[-1]
                    continue
                key, text = str(message.id), str(message.string)
                if key in table:
                    raise CatalogError(f"{path.relative_to(directory)}: {key!r} is already defined for {lang!r}")
                if is_spoken(key):  # never on a screen: speech needs the real letters (français, not francais)
                    table[key] = text
                    continue
                table[key] = _fold(text)
        if SOURCE_LANGUAGE not in messages:
            raise CatalogError(f"No {SOURCE_LANGUAGE}.po in {directory}: the source language is required.")
        others = sorted(lang for lang in messages if lang != SOURCE_LANGUAGE)
        return cls(messages=messages, languages=(SOURCE_LANGUAGE, *others), plurals=plurals, plural_rules=rules,
                   plural_counts=counts)

    def plural(self, lang: str, key: str, count: int, **params: object) -> str:
        """The form of plural message ``key`` for ``count`` in ``lang`` (``{count}`` and ``params`` filled in); a
        key with no plural forms is :meth:`text`."""
        if lang not in self.messages:
            lang = SOURCE_LANGUAGE
        forms = self.plurals.get(lang, {}).get(key)
        if forms is None:
            if key not in self.messages[lang] and key in self.plurals.get(SOURCE_LANGUAGE, {}):
                return self.plural(SOURCE_LANGUAGE, key, count, **params)
            return self.text(lang, key, count=count, **params)
        index = self.plural_rules[lang](count) if lang in self.plural_rules else 0
        return forms[min(index, len(forms) - 1)].format_map(_Blank({"count": count, **params}))

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
                forms = self.plurals.get(lang, {}).get(key)
                if key not in table:
                    out.append(f"{lang}.po: {key!r} is not translated")
                elif forms is not None:
                    # A form may leave the count out ("one try left" in Arabic needs no digit), never add a field.
                    wanted = placeholders(source[key])
                    used = set().union(*(placeholders(form) for form in forms))
                    given = [form for form in forms if form]
                    if not used <= wanted or len(given) != self._plural_count(lang):
                        out.append(f"{lang}.po: plural {key!r} has {len(given)} forms with {sorted(used)}; the "
                                   f"language has {self._plural_count(lang)}, the source fields {sorted(wanted)}")
                elif placeholders(table[key]) != placeholders(source[key]):
                    out.append(
                        f"{lang}.po: {key!r} has placeholders {sorted(placeholders(table[key]))}, "
                        f"the source has {sorted(placeholders(source[key]))}"
                    )
            for key in sorted(set(table) - set(source)):
                out.append(f"{lang}.po: {key!r} is not in {SOURCE_LANGUAGE}.po (stale?)")
        return out

    def _plural_count(self, lang: str) -> int:
        return self.plural_counts.get(lang, 1)
