"""Dynamic text helpers: amounts per locale, country names, text kept GSM-7 where it can be."""

import pytest

from handlers.context import country_name, money, screen_text
from menus.gsm import is_gsm7


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "KES 12,850.50"), ("fr", "KES 12 850,50"), ("sw", "KES 12,850.50"), ("tl", "KES 12,850.50"),
    ("ar", "KES 12,850.50"),
])
def test_money_is_the_currency_code_then_the_amount_in_every_language(lang: str, expected: str) -> None:
    text = money(12850.5, "KES", lang)
    assert text == expected and is_gsm7(text)


@pytest.mark.parametrize(("currency", "expected"), [
    ("PHP", "PHP 4,210.75"), ("USD", "USD 4,210.75"), ("JPY", "JPY 4,211"), ("KWD", "KWD 4,210.750"),
])
def test_money_never_uses_a_symbol_and_keeps_the_currency_digits(currency: str, expected: str) -> None:
    """No ₱ (not GSM-7: it would halve the page), no bare $; the decimals are the currency's own (CLDR)."""
    assert money(4210.75, currency, "tl") == expected


def test_arabic_amount_has_no_bidi_marks() -> None:
    assert "\u200f" not in money(10, "AED", "ar")


def test_country_names_are_translated_and_folded() -> None:
    assert country_name("AE", "sw") == "Falme za Kiarabu"
    assert country_name("AE", "fr") == "Émirats arabes unis"  # É is GSM-7 already
    assert country_name(None, "en") == "?"
    assert screen_text("for\u00eat\u00a0ok") == "foret ok"
