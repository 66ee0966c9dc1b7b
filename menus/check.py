"""``gateway check-menus``: prove that every menu resolves, every key is translated and every static screen
fits one USSD page in every language, with every option on the first page (CONTRACT §2), at the configured
budget and at the budgets operators are known to use (:data:`BUDGETS`), and with the longest notice a re-prompt
can lay over it.

Screens drawn by handlers (lists, report steps, alert choices) depend on data; ``tests/flows/test_crawl.py`` walks
them in every language at the same budgets and holds them to the same rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .catalog import Catalog
from .engine import SHORT_NOTICE, Engine
from .gsm import fits_ussd, size_of, ussd_limit
from .model import MenuSet, ScreenDef
from .render import paginate, with_notice

#: Budgets every static screen is proved at besides the configured one: the contract's default (160 septets, so
#: 80 UTF-16 units for Arabic) and a tight operator's (120 septets, 60 units).
BUDGETS = (160, 120)
# Notices a screen may carry above it when re-prompting.
_NOTICES = ("common.invalid_choice", "common.invalid_input", "common.rewritten")
_FIXED_KEYS = ("common.more", "common.back", "common.home", "common.unavailable", "common.resume.title",
               "common.resume.continue", "common.resume.restart", "common.invalid_choice.short", *_NOTICES)


def check_all(menus: MenuSet, catalog: Catalog, engine: Engine[Any], budget: int,
              extra_keys: Iterable[str] = ()) -> list[str]:
    """Every fault found, as readable lines; empty when all is well."""
    used = {key for screen in menus.screens.values() for key in screen.keys()} | set(_FIXED_KEYS) | set(extra_keys)
    faults = menus.faults(engine.action_names, catalog.keys()) + catalog.faults(used)
    if faults:
        return faults  # a screen with a missing key or target cannot be drawn
    for size in sorted({budget, *BUDGETS}, reverse=True):
        for lang in catalog.languages:
            for screen in menus.screens.values():
                if not screen.handler:
                    faults.extend(screen_faults(screen, catalog, engine, lang, size, start=screen.id == menus.start))
            apology = catalog.text(lang, "common.unavailable")
            if not fits_ussd(apology, size):
                encoding, units = size_of(apology)
                faults.append(f"{lang} @{size}: common.unavailable is {units} {encoding} units; a page holds "
                              f"{ussd_limit(encoding, size)}")
    return faults


def screen_faults(screen: ScreenDef, catalog: Catalog, engine: Engine[Any], lang: str, budget: int, *,
                  start: bool = False) -> list[str]:
    """Faults of one static screen in one language at one budget: a page over the budget, an option that is not on
    the first page (bare or under a re-prompt's notice), a first page that shows nothing but its title."""
    where = f"{lang} @{budget}: {screen.id}"
    header = catalog.text(lang, screen.text) if screen.text else ""
    lines = [f"{n} {catalog.text(lang, o.label)}" for n, o in enumerate(screen.options, start=1)]
    try:
        pages = paginate(header, lines, engine.nav_labels(lang), budget, can_go_back=not start,
                         show_home=not start and not screen.end, options=bool(lines))
    except ValueError as exc:
        return [f"{where}: {exc}"]
    out = []
    for number, page in enumerate(pages, start=1):
        if not fits_ussd(page, budget):
            encoding, units = size_of(page)
            out.append(f"{where} page {number}: {units} {encoding} units, over {ussd_limit(encoding, budget)}")
    firsts = {"": pages[0]}
    for key in _NOTICES if lines or screen.input else ():
        notices = [catalog.text(lang, key)]
        if f"{key}{SHORT_NOTICE}" in catalog.keys():
            notices.append(catalog.text(lang, f"{key}{SHORT_NOTICE}"))
        firsts[f" under the notice {key!r}"] = with_notice(pages[0], notices, header, budget)
    for notice, first in firsts.items():
        shown = first.split("\n")
        missing = [line for line in lines if line not in shown]
        if missing:
            out.append(f"{where}{notice}: option(s) {missing} not on the first page; shorten the title or labels "
                       f"(the options need {size_of(chr(10).join(lines))[1]} units)")
        if not fits_ussd(first, budget):
            encoding, units = size_of(first)
            out.append(f"{where}{notice}: first page is {units} {encoding} units, over {ussd_limit(encoding, budget)}")
    return out
