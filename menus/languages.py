"""Which language to greet a caller in before they have chosen one.

A first-time caller sees the language menu, and an apology for a failure must be readable before any choice
was made: both use the language most spoken by migrants from the caller's home country (from the number), or
of the country they are in, falling back to English.
"""

from __future__ import annotations

from collections.abc import Container

_BY_REGION = {
    # Swahili: East Africa.
    "KE": "sw", "TZ": "sw", "UG": "sw",
    # Tagalog: the Philippines.
    "PH": "tl",
    # Arabic: origins and hosts where it is the common language.
    "SD": "ar", "SO": "ar", "AE": "ar", "SA": "ar", "QA": "ar", "KW": "ar", "OM": "ar", "BH": "ar", "JO": "ar",
    "LB": "ar", "EG": "ar", "SY": "ar", "IQ": "ar", "YE": "ar", "LY": "ar", "TN": "ar", "DZ": "ar", "MA": "ar",
    # French: francophone origins and France.
    "FR": "fr", "SN": "fr", "CI": "fr", "ML": "fr", "BF": "fr", "NE": "fr", "GN": "fr", "CM": "fr", "CD": "fr",
    "CG": "fr", "TD": "fr", "BJ": "fr", "TG": "fr", "HT": "fr", "MG": "fr", "DJ": "fr", "BI": "fr", "RW": "fr",
}


def default_language(region: str | None, supported: Container[str], fallback: str = "en") -> str:
    lang = _BY_REGION.get(region or "")
    return lang if lang is not None and lang in supported else fallback
