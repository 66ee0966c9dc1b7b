"""Fitting a screen onto USSD pages.

A screen is a header (free text, one paragraph a line), a list of lines and navigation hints. Each page must fit
the budget on its own (see :mod:`menus.gsm`); longer screens are split into pages reached with ``98`` (more) and
``0`` (back). Words are never cut.

Two kinds of screens, two rules (CONTRACT §2):

* a **menu** (``options=True``: the lines are its numbered options) keeps every option on its first page. When the
  header, the options and the navigation lines do not fit together, they give way in this order: the header's
  explanation paragraphs (a title is written as its essential line, then an optional explanation on a line of its
  own), then the ``00 Home`` line, then the title itself, then the ``0 Back`` line: ``0`` and ``00`` work on
  every screen whether shown or not, and an option the caller cannot see cannot be chosen. An option is never
  split;
* a **data screen** (numbers, alerts, prices) may run onto more pages, but its first page always shows some of
  its data, never only its title: a first line too long to join the title is split between words.

Any screen that fits one page without its ``00 Home`` line is shown that way rather than split over two, and a
last page drops that line rather than split its last line.

A re-prompt's notice (:func:`with_notice`) is laid over the page the caller sees without changing how the screen
is paginated, so ``98`` and ``0`` after a notice move through the same pages as without one, and the notice never
pushes an option off its page: it takes the header's place, or is left out, when the page is full.
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
    options: bool = False,
) -> list[str]:
    """Split a screen into pages that each fit ``budget``.

    ``can_go_back`` adds ``0 Back`` to every page (on later pages it always appears, meaning the previous
    page). ``show_home`` adds ``00 Home`` to the last page. ``options``: the lines are a menu's options (see the
    module docstring for what that changes).
    """
    return list(_paginate(header, tuple(lines), nav, budget, can_go_back, show_home, options))


def with_notice(page: str, notices: Sequence[str], header: str, budget: int) -> str:
    """``page`` under a one-line notice (a re-prompt), fitted to ``budget``: the first of ``notices`` (the notice,
    then its short form) that fits above the page, or else in place of the header paragraphs the page shows (the
    last ones first); failing all, the page alone: the caller still sees the screen they answered, and what it
    offers never moves."""
    return _with_notice(page, tuple(notices), header, budget)


@lru_cache(maxsize=8192)
def _with_notice(page: str, notices: tuple[str, ...], header: str, budget: int) -> str:
    shown = page.split("\n")
    paragraphs = _paragraphs(header)
    on_page = 0
    while on_page < min(len(paragraphs), len(shown)) and shown[on_page] == paragraphs[on_page]:
        on_page += 1
    for notice in notices:
        for keep in range(on_page, -1, -1):
            candidate = "\n".join([notice, *shown[:keep], *shown[on_page:]])
            if fits_ussd(candidate, budget):
                return candidate
    return page


@lru_cache(maxsize=8192)
def _paginate(header: str, lines: tuple[str, ...], nav: NavLabels, budget: int, can_go_back: bool,
              show_home: bool, options: bool) -> tuple[str, ...]:
    # Cached: most screens are the same few menus in a few languages, and this runs on every request.
    paragraphs = _paragraphs(header)
    if options:
        paragraphs, can_go_back, show_home = _menu_layout(paragraphs, lines, nav, budget, can_go_back, show_home)
    blocks = [*paragraphs, *lines]
    whole = _compose(blocks, more=False, back=can_go_back, home=show_home, nav=nav)
    if fits_ussd(whole, budget):
        return (whole,)
    homeless = _compose(blocks, more=False, back=can_go_back, home=False, nav=nav)
    if show_home and fits_ussd(homeless, budget):
        return (homeless,)  # one whole page is worth more than the 00 Home hint (00 works anyway)
    # Data lines may be split to fill a first page that would otherwise hold only the header.
    splittable = () if options else range(len(paragraphs), len(paragraphs) + 1)
    pages: list[str] = []
    current: list[str] = []
    only_header = bool(paragraphs)  # ``current`` holds nothing but header paragraphs so far
    index = 0
    while index < len(blocks):
        back = can_go_back or bool(pages)
        candidate = [*current, blocks[index]]
        last = index == len(blocks) - 1
        fits = fits_ussd(_compose(candidate, more=not last, back=back, home=show_home and last, nav=nav), budget)
        if not fits and last and show_home and fits_ussd(_compose(candidate, more=False, back=back, home=False,
                                                                  nav=nav), budget):
            fits, show_home = True, False  # the last line whole rather than the 00 Home hint
        if fits:
            current = candidate
            only_header = only_header and index < len(paragraphs)
            index += 1
            continue
        if not current or (only_header and not pages and index in splittable):
            # One block alone does not fit with the navigation lines, or a data line does not fit under the
            # header: split it between words, its head filling this page.
            split = _split_to_fit(current, blocks[index], nav, budget, back)
            if split is not None:
                blocks[index : index + 1] = split
                splittable = range(index + 1, index + 1)  # split once; the rest starts the next page
                continue
            if not current:
                raise ValueError("The navigation lines alone do not fit the page budget; raise USSD_PAGE_BUDGET.")
        pages.append(_compose(current, more=True, back=back, home=False, nav=nav))
        current = []
        only_header = False
    if current:
        pages.append(_compose(current, more=False, back=can_go_back or bool(pages), home=show_home, nav=nav))
    return tuple(pages)


def _menu_layout(paragraphs: list[str], lines: tuple[str, ...], nav: NavLabels, budget: int, can_go_back: bool,
                 show_home: bool) -> tuple[list[str], bool, bool]:
    """What a menu's first page keeps beside every option: (header paragraphs, back line, home line), giving way
    in the order the module docstring gives. All of it when even the options alone do not fit (they then paginate
    like data, which ``check-menus`` and the crawler report as a fault of the texts)."""
    title = paragraphs[:1]
    layouts = [(paragraphs[:keep], can_go_back, show_home) for keep in range(len(paragraphs), 0, -1)]
    layouts += [(title, can_go_back, False), ([], can_go_back, False), ([], False, False)]
    for kept, back, home in layouts:
        if fits_ussd(_compose([*kept, *lines], more=False, back=back, home=home, nav=nav), budget):
            return kept, back, home
    return paragraphs, can_go_back, show_home


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


def _split_to_fit(current: list[str], block: str, nav: NavLabels, budget: int, back: bool) -> list[str] | None:
    """``block`` as [head, rest], the head the longest run of its words that fits on a page after ``current``;
    None when not even one word does. On an empty page a single word longer than the page (only junk data does
    this) is cut by characters as a last resort."""
    words = block.split(" ")
    for cut in range(len(words) - 1, 0, -1):
        head = " ".join(words[:cut])
        if fits_ussd(_compose([*current, head], more=True, back=back, home=False, nav=nav), budget):
            return [head, " ".join(words[cut:])]
    if current:
        return None
    word = words[0]
    for cut in range(len(word) - 1, 0, -1):
        if fits_ussd(_compose([word[:cut]], more=True, back=back, home=False, nav=nav), budget):
            return [word[:cut], " ".join([word[cut:], *words[1:]])]
    return None
