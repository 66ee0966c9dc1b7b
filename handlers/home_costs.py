"""The cost screen for a caller at home: what it costs relatives abroad to send money to them.

A remittance corridor joins two countries, so a Kenyan calling from Kenya has no "Kenya to Kenya" price; the money
menu's cost option then shows, per sending country, the cheapest way into the caller's country
(:func:`handlers.corridors.cheapest_into`). Kept apart from :mod:`handlers.money` so that the money screens keep
one job each.
"""

from __future__ import annotations

from collections.abc import Callable

from menus.engine import Call, Reply

from .context import country_name, money, services
from .corridors import cheapest_into

__all__ = ["screen", "with_note"]


def screen(call: Call, home: str, provider_label: Callable[[str], str]) -> Reply:
    """``money.costs`` at home (host == origin): one line per sending country, cheapest first, dated."""
    lang = call.caller.lang
    table = services(call).corridors
    amount = table.quoted_amount_usd
    best = cheapest_into(home, amount, table=table)
    if not best:
        return Reply(text=call.t("money.costs.home.none", home=country_name(home, lang)))
    lines = [call.t("money.costs.home.line", host=country_name(host, lang),
                    total=money(quote.total_cost_usd, "USD", lang), provider=provider_label(quote.option.provider))
             for host, quote in best]
    title = call.t("money.costs.home.title", home=country_name(home, lang), amount=money(amount, "USD", lang))
    return with_note(call, title, lines, demo=table.demo, date=table.as_of.isoformat())


def with_note(call: Call, title: str, lines: list[str], *, demo: bool, date: str) -> Reply:
    """A cost list with where its figures come from. The note rides on the last line (one block, as the help
    screens' mark explanation does), so a page break never leaves it alone on the last page (#8: fr and tl at 160,
    four languages at 120 showed a last page of only the note). The longest form of the note whose block fits one
    page: the whole sentence, a short one with the date, a few words (an Arabic page of 60 units at budget 120)."""
    key = "money.costs.demo" if demo else "money.costs.source"
    notes = [call.t(key, date=date), call.t(f"{key}.short", date=date), call.t(f"{key}.tiny")]
    blocks = [f"{lines[-1]}\n{note}" for note in notes]
    # ``fits`` numbers the block as an option ("1 "): two units stricter than the last page it will be on.
    block = next((b for b in blocks if call.fits([b])), blocks[-1])
    return Reply(text=title, lines=[*lines[:-1], block])
