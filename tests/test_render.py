"""Pagination: every page fits, no option is split, no word is cut."""

import pytest

from menus.gsm import fits_ussd
from menus.render import NavLabels, paginate

NAV = NavLabels("More", "Back", "Home")
NAV_AR = NavLabels("المزيد", "رجوع", "الرئيسية")


def words_of(pages: list[str]) -> list[str]:
    nav = {"98", "0", "00", "More", "Back", "Home", "المزيد", "رجوع", "الرئيسية"}
    return [w for page in pages for w in page.split() if w not in nav]


def test_a_short_screen_is_one_page():
    assert paginate("Title", ["1 One", "2 Two"], NAV, 160, can_go_back=True) == ["Title\n1 One\n2 Two\n0 Back"]


@pytest.mark.parametrize("budget", [60, 100, 160, 182])
def test_long_lists_paginate_without_splitting_options(budget):
    options = [f"{n} Option number {n} with a longer label" for n in range(1, 21)]
    pages = paginate("Choose one of these", options, NAV, budget, can_go_back=False, show_home=True)
    assert len(pages) > 1
    for index, page in enumerate(pages):
        assert fits_ussd(page, budget), page
        assert ("98 More" in page) == (index < len(pages) - 1)
        assert ("0 Back" in page) == (index > 0)
    shown = [line for page in pages for line in page.split("\n")]
    for option in options:
        assert option in shown
    assert pages[-1].endswith("00 Home")


def test_a_long_header_breaks_between_words():
    header = " ".join(f"word{n}" for n in range(80))
    pages = paginate(header, ["1 Yes", "2 No"], NAV, 100, can_go_back=False)
    assert all(fits_ussd(page, 100) for page in pages)
    assert words_of(pages) == header.split() + ["1", "Yes", "2", "No"]


def test_arabic_pages_hold_80_characters():
    options = [f"{n} خيار رقم {n} للمساعدة" for n in range(1, 9)]
    pages = paginate("اختر خياراً", options, NAV_AR, 160, can_go_back=True)
    assert len(pages) > 1
    assert all(fits_ussd(page, 160) and len(page) <= 80 for page in pages)
