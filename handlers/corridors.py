"""Cost of sending money home: remittance corridors and the cheapest ways to use them.

The data lives in ``handlers/data/corridors.yaml``: for each corridor (money sent *from* ``host``, the country
where the migrant works, *to* ``origin``, the country of home) a few options, each a channel type with a fee in USD
and an FX margin in percent, in the shape of the World Bank's Remittance Prices Worldwide (RPW) survey, which
prices every corridor for a 200 USD transfer.

The file in the repository holds illustrative demo figures (``demo: true``), to be replaced with RPW data; the
table exposes ``demo`` and ``as_of`` so that every screen that shows a figure can say so.

Total cost follows RPW's definition: fee + FX margin x amount. Fees are quoted for 200 USD and treated as flat
for other amounts, which is close for small transfers and increasingly wrong for large ones.

Pure: no Redis, no Flask. The YAML is parsed once by :func:`load_corridors`, at start-up; the gateway keeps the
table in its services (``call.services.corridors``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_PATH",
    "CorridorError",
    "CorridorTable",
    "Option",
    "Quote",
    "cheapest",
    "cheapest_into",
    "load_corridors",
]

# libyaml's loader parses the file several times faster than the pure-Python one (start-up budget: 2 s in all).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_PATH = Path(__file__).with_name("data") / "corridors.yaml"


class CorridorError(ValueError):
    """The corridors file is malformed; the message names the corridor and field."""


@dataclass(frozen=True, slots=True)
class Option:
    """One way to send money along a corridor, as RPW prices it."""

    provider: str
    """Channel type, not a brand ("Mobile wallet", "Money transfer operator", "Bank"): brands change, types don't."""
    fee_usd: float
    fx_margin_pct: float
    speed: str
    """Translation-independent speed key: ``minutes``, ``same_day``, ``next_day`` or ``days``."""

    def total_cost_usd(self, amount_usd: float) -> float:
        """Fee plus the FX margin on ``amount_usd``: what the family does not receive."""
        return self.fee_usd + self.fx_margin_pct / 100.0 * amount_usd


@dataclass(frozen=True, slots=True)
class Quote:
    """An option priced for a given amount, ready for a screen."""

    option: Option
    amount_usd: float
    total_cost_usd: float

    @property
    def cost_pct(self) -> float:
        """Total cost as a percentage of the amount sent (RPW's headline figure)."""
        return 100.0 * self.total_cost_usd / self.amount_usd if self.amount_usd else 0.0


@dataclass(frozen=True, slots=True)
class CorridorTable:
    """All corridors, indexed by (origin, host)."""

    corridors: Mapping[tuple[str, str], tuple[Option, ...]]
    as_of: dt.date
    demo: bool
    source: str
    note: str | None = None
    quoted_amount_usd: float = 200.0
    """The amount the fees were surveyed for; :func:`cheapest` applies them flat to other amounts."""

    def options(self, origin: str, host: str) -> tuple[Option, ...]:
        """The corridor's options in file order; empty when the corridor is not covered."""
        return self.corridors.get((origin, host), ())


SPEEDS = frozenset({"minutes", "same_day", "next_day", "days"})


def _option(raw: Any, where: str) -> Option:
    if not isinstance(raw, Mapping):
        raise CorridorError(f"{where}: option is not a mapping")
    try:
        provider = str(raw["provider"])
        fee = float(raw["fee_usd"])
        margin = float(raw["fx_margin_pct"])
        speed = str(raw["speed"])
    except (KeyError, TypeError, ValueError) as exc:
        raise CorridorError(f"{where}: needs provider, fee_usd, fx_margin_pct and speed ({exc!r})") from exc
    if fee < 0 or not 0 <= margin < 100:
        raise CorridorError(f"{where}: fee_usd must be >= 0 and fx_margin_pct in [0, 100)")
    if speed not in SPEEDS:
        raise CorridorError(f"{where}: speed {speed!r} is not one of {', '.join(sorted(SPEEDS))}")
    return Option(provider=provider, fee_usd=fee, fx_margin_pct=margin, speed=speed)


def parse_corridors(data: Any, path: Path | str = "<data>") -> CorridorTable:
    """Build a :class:`CorridorTable` from parsed YAML; any malformed part raises :class:`CorridorError`."""
    if not isinstance(data, Mapping) or not isinstance(data.get("corridors"), list):
        raise CorridorError(f"{path}: expected a mapping with a 'corridors' list")
    as_of = data.get("as_of")
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    if not isinstance(as_of, dt.date):
        raise CorridorError(f"{path}: as_of must be an ISO date")
    if not isinstance(data.get("demo"), bool):
        raise CorridorError(f"{path}: demo must be true or false")
    if not data.get("source"):
        raise CorridorError(f"{path}: source is required")
    table: dict[tuple[str, str], tuple[Option, ...]] = {}
    for i, raw in enumerate(data["corridors"]):
        where = f"{path}: corridors[{i}]"
        if not isinstance(raw, Mapping):
            raise CorridorError(f"{where}: not a mapping")
        origin, host = raw.get("origin"), raw.get("host")
        if not (isinstance(origin, str) and isinstance(host, str)):
            raise CorridorError(f"{where}: origin and host must be alpha-2 codes")
        where = f"{path}: corridor {host}->{origin}"
        if (origin, host) in table:
            raise CorridorError(f"{where}: listed twice")
        options = raw.get("options")
        if not isinstance(options, list) or not options:
            raise CorridorError(f"{where}: needs at least one option")
        table[(origin, host)] = tuple(_option(o, f"{where} option {j}") for j, o in enumerate(options))
    return CorridorTable(
        corridors=table,
        as_of=as_of,
        demo=data["demo"],
        source=str(data["source"]),
        note=data.get("note"),
        quoted_amount_usd=float(data.get("amount_usd", 200)),
    )


def load_corridors(path: str | Path | None = None) -> CorridorTable:
    """Parse the corridors file: at start-up (the gateway keeps the result in its services), never per request."""
    resolved = Path(path) if path is not None else DEFAULT_PATH
    return parse_corridors(yaml.load(resolved.read_text(encoding="utf-8"), Loader=_LOADER), resolved)


def cheapest(
    origin: str,
    host: str,
    amount_usd: float = 200,
    limit: int = 3,
    *,
    table: CorridorTable,
) -> list[Quote]:
    """The ``limit`` cheapest options for sending ``amount_usd`` from ``host`` to ``origin``, cheapest first.

    Ties on total cost go to the faster option, then to file order, so the screen is stable between requests.
    An uncovered corridor gives an empty list.
    """
    # Cents are the unit people compare; rounding also keeps float noise (8.809999...) off the screen and out of ties.
    quotes = [Quote(o, amount_usd, round(o.total_cost_usd(amount_usd), 2)) for o in table.options(origin, host)]
    quotes.sort(key=lambda q: (q.total_cost_usd, _SPEED_RANK[q.option.speed]))  # stable: file order breaks ties
    return quotes[: max(limit, 0)]


_SPEED_RANK = {"minutes": 0, "same_day": 1, "next_day": 2, "days": 3}


def cheapest_into(origin: str, amount_usd: float = 200, *, table: CorridorTable) -> list[tuple[str, Quote]]:
    """For a caller at home in ``origin``: the cheapest way into ``origin`` from each sending country, as
    ``(host, quote)`` pairs, cheapest first (ties: host code, so the screen is stable).

    A corridor runs between two countries: at home there is no "Kenya to Kenya" price to show. What a family at
    home can use is what it costs a relative abroad to send to them, from each country the table covers.
    """
    best = [(host, quotes[0]) for (o, host) in table.corridors
            if o == origin and host != origin and (quotes := cheapest(origin, host, amount_usd, 1, table=table))]
    return sorted(best, key=lambda pair: (pair[1].total_cost_usd, pair[0]))
