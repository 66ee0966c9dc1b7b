"""Fitting a screen onto USSD pages.

A screen is a header (free text), a list of lines (numbered options or plain lines) and navigation hints. Each
page must fit the budget on its own (see :mod:`menus.gsm`); longer screens are split into pages reached with
``98`` (more) and ``0`` (back). A line is never split across pages unless it cannot fit a page on its own, and
then only between words, so no word and no option is ever cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .gsm import fits_ussd

MORE = "98"
BACK = "0"
HOME = "00"


@dataclass(frozen=True)
class NavLabels:
    """Translated words for the navigation lines, e.g. ``98 More`` / ``0 Back`` / ``00 Home``."""

    more: str
    back: str
    home: str


def paginate(
    header: str,
    lines: Sequence[str],
    nav: NavLabels,
    budget: int,
    *,
    can_go_back: bool,
    show_home: bool = False,
) -> list[str]:
    """Split a screen into pages that each fit ``budget``.

    ``can_go_back`` adds ``0 Back`` to every page (on later pages it always appears, meaning the previous
    page). ``show_home`` adds ``00 Home`` to the last page.
    """
    return list(_paginate(header, tuple(lines), nav, budget, can_go_back, show_home))


@lru_cache(maxsize=8192)
def _paginate(header: str, lines: tuple[str, ...], nav: NavLabels, budget: int, can_go_back: bool,
              show_home: bool) -> tuple[str, ...]:
    # Cached: most screens are the same few menus in a few languages, and this runs on every request.
    blocks = [*_paragraphs(header), *lines]
    whole = _compose(blocks, more=False, back=can_go_back, home=show_home, nav=nav)
    if fits_ussd(whole, budget):
        return (whole,)
    pages: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(blocks):
        back = can_go_back or bool(pages)
        candidate = [*current, blocks[index]]
        last = index == len(blocks) - 1
        if fits_ussd(_compose(candidate, more=not last, back=back, home=show_home and last, nav=nav), budget):
            current = candidate
            index += 1
            continue
        if not current:
            # One block alone does not fit with the navigation lines: split it between words.
            head, rest = _split_to_fit(blocks[index], nav, budget, back)
            blocks[index : index + 1] = [head, rest]
            continue
        pages.append(_compose(current, more=True, back=back, home=False, nav=nav))
        current = []
    if current:
        pages.append(_compose(current, more=False, back=can_go_back or bool(pages), home=show_home, nav=nav))
    return tuple(pages)


def _compose(blocks: Sequence[str], *, more: bool, back: bool, home: bool, nav: NavLabels) -> str:
    footer = []
    if more:
        footer.append(f"{MORE} {nav.more}")
    if back:
        footer.append(f"{BACK} {nav.back}")
    if home:
        footer.append(f"{HOME} {nav.home}")
    return "\n".join([*blocks, *footer])


def _paragraphs(text: str) -> list[str]:
    """A header as paragraphs, so pagination can break between them."""
    return [part for part in text.split("\n") if part.strip()]


def _split_to_fit(block: str, nav: NavLabels, budget: int, back: bool) -> tuple[str, str]:
    words = block.split(" ")
    for cut in range(len(words) - 1, 0, -1):
        head = " ".join(words[:cut])
        if fits_ussd(_compose([head], more=True, back=back, home=False, nav=nav), budget):
            return head, " ".join(words[cut:])
    # A single word longer than a page (only junk data does this): cut it by characters as a last resort.
    word = words[0]
    for cut in range(len(word) - 1, 0, -1):
        if fits_ussd(_compose([word[:cut]], more=True, back=back, home=False, nav=nav), budget):
            return word[:cut], " ".join([word[cut:], *words[1:]])
    raise ValueError("The navigation lines alone do not fit the page budget; raise USSD_PAGE_BUDGET.")
