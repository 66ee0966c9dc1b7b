"""The greeting language before a caller has chosen one."""

import pytest

from menus.languages import default_language, region_of_calling_code

SUPPORTED = {"en", "fr", "sw", "ar", "tl"}


@pytest.mark.parametrize(
    ("phone", "region", "lang"),
    [
        ("+254711000001", "KE", "sw"),
        ("+639171234567", "PH", "tl"),
        ("+971501234567", "AE", "ar"),
        ("+8801712345678", "BD", "en"),
        ("+221771234567", "SN", "fr"),
        ("+14155550100", "US", "en"),
        ("254711000001", "KE", "sw"),
        ("+9", None, "en"),
        ("", None, "en"),
        ("not a number", None, "en"),
    ],
)
def test_greeting_language_from_the_calling_code(phone, region, lang):
    assert region_of_calling_code(phone) == region
    assert default_language(region, SUPPORTED) == lang
