"""Counts in every language: the catalogs' gettext plurals pick the form the language uses ("1 try", Arabic's six
forms, French 0 as singular), so no screen says "1 tries"."""

from __future__ import annotations

from pathlib import Path

import pytest

from menus.catalog import Catalog

CATALOG = Catalog.load()


@pytest.mark.parametrize(("lang", "count", "expected"), [
    ("en", 1, "Wrong PIN. 1 try left. Enter your PIN:"),
    ("en", 2, "Wrong PIN. 2 tries left. Enter your PIN:"),
    ("fr", 1, "Code erroné. Encore 1 essai. Entrez le code :"),
    ("fr", 2, "Code erroné. Encore 2 essais. Entrez le code :"),
    ("sw", 1, "PIN si sahihi. Jaribio 1 limebaki. Weka PIN:"),
    ("ar", 1, "رمز خاطئ. بقيت محاولة واحدة. أدخل الرمز:"),
    ("ar", 2, "رمز خاطئ. بقيت محاولتان. أدخل الرمز:"),
    ("ar", 3, "رمز خاطئ. بقيت 3 محاولات. أدخل الرمز:"),
])
def test_a_count_takes_the_languages_plural_form(lang: str, count: int, expected: str) -> None:
    assert CATALOG.plural(lang, "money.pin.wrong", count, tries=count) == expected


def test_a_plural_key_read_as_plain_text_gives_its_general_form() -> None:
    assert CATALOG.text("en", "money.pin.locked", minutes=5) == "Too many wrong PINs. Try again in 5 minutes."


def test_a_translation_with_the_wrong_number_of_forms_is_a_fault(tmp_path: Path) -> None:
    header = 'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals={n}; plural={rule};\\n"\n\n'
    entry = 'msgid "x.left"\nmsgid_plural "x.left"\n' + "{forms}"
    (tmp_path / "en.po").write_text(header.format(n=2, rule="(n != 1)") + entry.format(
        forms='msgstr[0] "{count} try"\nmsgstr[1] "{count} tries"\n'))
    (tmp_path / "fr.po").write_text(header.format(n=2, rule="(n > 1)") + entry.format(
        forms='msgstr[0] "{count} essai"\n'))
    faults = Catalog.load(tmp_path).faults()
    assert any("fr.po: plural 'x.left' has 1 forms" in fault for fault in faults)
