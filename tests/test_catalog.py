"""Catalog files: one language may be spread over an area's folder, and no key is ever defined twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from menus.catalog import Catalog, CatalogError


def _po(path: Path, entries: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f'msgid "{key}"\nmsgstr "{text}"\n\n' for key, text in entries.items())
    path.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n' + body, encoding="utf-8")


def test_an_area_folder_adds_its_messages_to_the_language(tmp_path: Path) -> None:
    _po(tmp_path / "en.po", {"welcome.title": "Welcome"})
    _po(tmp_path / "sms" / "en.po", {"sms.help": "Send JOIN"})
    _po(tmp_path / "fr.po", {"welcome.title": "Bienvenue"})
    _po(tmp_path / "sms" / "fr.po", {"sms.help": "Envoyez JOIN"})
    catalog = Catalog.load(tmp_path)
    assert catalog.languages == ("en", "fr")
    assert catalog.text("fr", "sms.help") == "Envoyez JOIN"
    assert catalog.faults() == []


def test_a_key_defined_twice_for_one_language_is_refused(tmp_path: Path) -> None:
    _po(tmp_path / "en.po", {"welcome.title": "Welcome"})
    _po(tmp_path / "check" / "en.po", {"welcome.title": "Hello"})
    with pytest.raises(CatalogError, match="welcome.title"):
        Catalog.load(tmp_path)


def test_the_project_catalogs_load_without_duplicates() -> None:
    assert "en" in Catalog.load().languages
