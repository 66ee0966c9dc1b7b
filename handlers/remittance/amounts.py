"""Money on a screen or in an SMS: one format for every currency, ``KES 12,850.50``, ``PHP 4,210.75``.

The ISO code, never a symbol: ``₱`` or ``د.إ.`` are not GSM-7 and would halve a USSD page (or double an SMS), and
``$`` means a different dollar to each caller. The digits after the decimal point are the currency's own (Babel's
CLDR data: ``JPY 1,234``, ``KWD 3.500``), the separators the caller's language's (``KES 12 850,50`` in French).
"""

from __future__ import annotations

from babel import UnknownLocaleError
from babel.numbers import format_currency

#: ``¤¤`` is CLDR's pattern for the ISO code; the digits follow the currency (``currency_digits``).
PATTERN = "¤¤\u00a0#,##0.00"


def format_money(amount: float, currency: str, lang: str) -> str:
    """``amount`` of ``currency`` (ISO 4217 code) in ``lang``'s separators, the code first."""
    try:
        return format_currency(amount, currency, format=PATTERN, locale=lang)
    except (UnknownLocaleError, ValueError):
        return format_currency(amount, currency, format=PATTERN, locale="en")
