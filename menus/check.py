"""``gateway check-menus``: prove that every menu resolves, every key is translated and every static screen
fits one USSD page in every language (with the longest notice a re-prompt can add)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .catalog import Catalog
from .engine import Engine
from .gsm import fits_ussd, size_of, ussd_limit
from .model import MenuSet
from .render import paginate

# Notices a screen may carry above it when re-prompting.
_NOTICES = ("common.invalid_choice", "common.invalid_input", "common.rewritten")
_FIXED_KEYS = ("common.more", "common.back", "common.home", "common.unavailable", "common.resume.title",
               "common.resume.continue", "common.resume.restart", "common.invalid_choice.short", *_NOTICES)


def check_all(menus: MenuSet, catalog: Catalog, engine: Engine[Any], budget: int,
              extra_keys: Iterable[str] = ()) -> list[str]:
    """Every fault found, as readable lines; empty when all is well."""
    used = {key for screen in menus.screens.values() for key in screen.keys()} | set(_FIXED_KEYS) | set(extra_keys)
    faults = menus.faults(engine.action_names, catalog.keys()) + catalog.faults(used)
    for lang in catalog.languages:
        nav = engine.nav_labels(lang)
        for screen in menus.screens.values():
            if screen.handler:
                continue  # drawn at run time; the crawler test walks these
            header = catalog.text(lang, screen.text) if screen.text else ""
            lines = [f"{n} {catalog.text(lang, o.label)}" for n, o in enumerate(screen.options, start=1)]
            for notice in (None, *(catalog.text(lang, key) for key in _NOTICES)):
                full_header = f"{notice}\n{header}" if notice else header
                try:
                    pages = paginate(full_header, lines, nav, budget, can_go_back=True, show_home=True, options=True)
                except ValueError as exc:
                    faults.append(f"{lang}: {screen.id}: {exc}")
                    break
                faults.extend(_page_faults(f"{lang}: {screen.id}", pages, lines, budget))
        apology = catalog.text(lang, "common.unavailable")
        if not fits_ussd(apology, budget):
            encoding, size = size_of(apology)
            faults.append(f"{lang}: common.unavailable is {size} {encoding} units; a page holds "
                          f"{ussd_limit(encoding, budget)}")
    return faults


def _page_faults(where: str, pages: list[str], lines: list[str], budget: int) -> list[str]:
    out = []
    for number, page in enumerate(pages, start=1):
        if not fits_ussd(page, budget):
            encoding, size = size_of(page)
            out.append(f"{where} page {number}: {size} {encoding} units over {ussd_limit(encoding, budget)}")
    shown = {line for page in pages for line in page.split("\n")}
    for line in lines:
        if line not in shown:
            out.append(f"{where}: option {line!r} does not fit one page and would be split")
    return out
