"""Pagination: every page fits, no option is split, no word is cut."""

import pytest

from menus.gsm import fits_ussd
from menus.render import NavLabels, paginate, with_notice

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
    pages = paginate("Choose one of these", options, NAV, budget, can_go_back=False, show_home=True, options=True)
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


@pytest.mark.parametrize(
    ("header", "lines", "options", "first"),
    [
        # a data screen whose first line cannot join the title whole: its head fills the first page
        ("Latest alerts, Kenya:", ["Floods expected in the coast region tonight, move to higher ground"], False,
         ["Latest alerts, Kenya:", "Floods expected in the", "98 More", "0 Back"]),
        # a menu whose title and options do not fit together: the title gives way, its last paragraph first
        ("Money\nPrices are for 200 USD sent home", ["1 My balance", "2 Cost of sending", "3 Exchange rates"],
         True, ["Money", "1 My balance", "2 Cost of sending", "3 Exchange rates", "0 Back"]),
    ],
)
def test_first_pages(header, lines, options, first):
    pages = paginate(header, lines, NAV, 60, can_go_back=True, options=options)
    assert pages[0].split("\n") == first
    assert all(fits_ussd(page, 60) for page in pages)


@pytest.mark.parametrize(
    ("page", "notices", "expected"),
    [
        # room above the page
        ("Title\n1 One\n0 Back", ["Not an option."], "Not an option.\nTitle\n1 One\n0 Back"),
        # no room: the notice takes the title's place; the options stay
        ("A long title of thirty chars\n1 First option here\n0 Back", ["Sorry, that is not an option."],
         "Sorry, that is not an option.\n1 First option here\n0 Back"),
        # not even that: the short form
        ("T\n1 First option here, a bit longer\n0 Back", ["Sorry, that is not an option.", "Not an option."],
         "Not an option.\nT\n1 First option here, a bit longer\n0 Back"),
        # nothing fits: the page as it was
        ("T\n1 First option here, a bit longer\n0 Back", ["Sorry, that is not an option."],
         "T\n1 First option here, a bit longer\n0 Back"),
    ],
)
def test_a_notice_is_laid_over_a_page_without_moving_its_lines(page, notices, expected):
    header = page.split("\n")[0]
    assert with_notice(page, notices, header, 60) == expected


def test_a_full_menu_keeps_its_options_and_gives_way_home_then_title_then_back():
    options = ["1 طوارئ", "2 سفارتي", "3 منظمات", "4 أرقام برسالة", "5 اتصلوا بي"]
    roomy = paginate("مساعدة", options, NAV_AR, 160, can_go_back=True, show_home=True, options=True)
    assert roomy == ["\n".join(["مساعدة", *options, "0 رجوع", "00 الرئيسية"])]
    full = paginate("مساعدة طارئة", options, NAV_AR, 160, can_go_back=True, show_home=True, options=True)
    assert full == ["\n".join(["مساعدة طارئة", *options, "0 رجوع"])]  # 80 units: the home line gives way first
    tight = paginate("مساعدة طارئة", options, NAV_AR, 120, can_go_back=True, show_home=True, options=True)
    assert tight == ["\n".join([*options, "0 رجوع"])]  # 60 UTF-16 units: home and title give way, back stays
    tighter = paginate("مساعدة طارئة", [*options, "6 خيار"], NAV_AR, 120, can_go_back=True, options=True)
    assert tighter == ["\n".join([*options, "6 خيار"])]  # 0 still works; an option must be seen to be chosen


def test_check_menus_names_an_option_that_falls_to_page_two(tmp_path):
    from menus.catalog import Catalog
    from menus.check import check_all
    from menus.engine import Engine
    from menus.model import MenuSet

    (tmp_path / "welcome.yaml").write_text(
        "menu: welcome\nstart: main\nscreens:\n  main:\n    text: welcome.title\n    options:\n"
        + "".join("      - {label: common.unavailable, goto: main}\n" for _ in range(3))
    )
    menus, catalog = MenuSet.load(tmp_path), Catalog.load()
    faults = check_all(menus, catalog, Engine(menus, catalog, {}, 160, services=None), 160)
    assert any("@120: welcome.main: option(s)" in fault and "not on the first page" in fault for fault in faults)


def test_a_last_page_drops_the_home_line_rather_than_split_its_last_line():
    lines = ["A first line of data that is long enough", "The last line, which must stay in one piece here"]
    pages = paginate("Title", lines, NAV, 60, can_go_back=True, show_home=True)
    assert lines[-1] in pages[-1].split("\n") and "00 Home" not in pages[-1]
    assert words_of(pages) == ["Title", *" ".join(lines).split()]
