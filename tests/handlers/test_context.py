"""Dynamic text helpers: amounts per locale, country names, text kept GSM-7 where it can be."""

import pytest

from handlers.context import country_name, money, screen_text
from menus.gsm import is_gsm7


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "KES12,850.50"), ("fr", "12 850,50 KES"), ("sw", "Ksh 12,850.50"), ("tl", "KES12,850.50"),
])
def test_money_per_locale_is_gsm7(lang: str, expected: str) -> None:
    text = money(12850.5, "KES", lang)
    assert text == expected and is_gsm7(text)


def test_arabic_amount_has_no_bidi_marks() -> None:
    assert "\u200f" not in money(10, "AED", "ar")


def test_country_names_are_translated_and_folded() -> None:
    assert country_name("AE", "sw") == "Falme za Kiarabu"
    assert country_name("AE", "fr") == "Émirats arabes unis"  # É is GSM-7 already
    assert country_name(None, "en") == "?"
    assert screen_text("for\u00eat\u00a0ok") == "foret ok"
