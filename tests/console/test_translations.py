"""The console's French catalog covers every text of its code and templates, with matching placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import gateway.console

CONSOLE = Path(gateway.console.__file__).parent
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _source_texts() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(CONSOLE), METHODS, OPTIONS, KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


def test_every_console_text_has_a_french_translation():
    with (CONSOLE / "translations" / "fr.po").open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    missing, broken = [], []
    for text in _source_texts():
        key = text if isinstance(text, str) else text[0]
        entry = catalog.get(key)
        translation = entry.string if entry else None
        if not translation or (isinstance(translation, tuple) and not all(translation)):
            missing.append(key)
            continue
        first = translation if isinstance(translation, str) else translation[-1]
        source = key if isinstance(text, str) else text[1]
        if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(first)):
            broken.append(key)
    assert not missing, f"untranslated in gateway/console/translations/fr.po: {sorted(missing)[:10]}"
    assert not broken, f"placeholders differ: {broken[:10]}"
