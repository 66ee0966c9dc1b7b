"""Short screen names of countries (``menus/locale/countries.yaml``), for the few whose CLDR name does not fit a
USSD line; every other country keeps Babel's CLDR name (:func:`handlers.context.country_name`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

SHORT_NAMES = Path(__file__).parent / "locale" / "countries.yaml"


@cache
def _table() -> dict[str, dict[str, str]]:
    raw = yaml.safe_load(SHORT_NAMES.read_text(encoding="utf-8")) or {}
    return {str(lang): {str(code): str(name) for code, name in names.items()} for lang, names in raw.items()}


def short_name(code: str, lang: str) -> str | None:
    """The short name of country ``code`` in ``lang``, or None when its CLDR name is short enough already."""
    return _table().get(lang, {}).get(code)
