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
    date = table.as_of.isoformat()  # the source closes the list: the first page holds a price, not the footnote
    lines.append(call.t("money.costs.demo", date=date) if table.demo else call.t("money.costs.source", date=date))
    title = call.t("money.costs.home.title", home=country_name(home, lang), amount=money(amount, "USD", lang))
    return Reply(text=title, lines=lines)
