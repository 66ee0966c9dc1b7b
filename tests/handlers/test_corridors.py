"""Remittance corridors: the bundled demo table is complete and labelled, and cheapest() ranks by RPW total cost."""

import datetime as dt

import pytest
import yaml

from handlers.corridors import CorridorError, Option, cheapest, cheapest_into, load_corridors, parse_corridors

ORIGINS = set("KE UG TZ ET SO SD PH ID LK IN NP BD PK".split())
HOSTS = set("AE SA QA KW OM BH JO LB MY SG US GB DE FR IT TR".split())
#: The bundled table, parsed once for the module (the gateway does the same at start).
BUNDLED = load_corridors()


def table_from(text):
    return parse_corridors(yaml.safe_load(text), "test")


SMALL = """
demo: false
source: test
as_of: 2026-01-01
corridors:
  - origin: KE
    host: AE
    options:
      - {provider: Bank, fee_usd: 10, fx_margin_pct: 1.0, speed: days}            # 200: 12.00  1000: 20.00
      - {provider: Mobile wallet, fee_usd: 2, fx_margin_pct: 3.0, speed: minutes}  # 200:  8.00  1000: 32.00
      - {provider: Exchange house, fee_usd: 4, fx_margin_pct: 2.0, speed: same_day}  # 200: 8.00  1000: 24.00
      - {provider: Money transfer operator, fee_usd: 5, fx_margin_pct: 2.5, speed: minutes}  # 200: 10.00
"""


def test_bundled_table_is_labelled_demo():
    t = BUNDLED
    assert t.demo is True
    assert isinstance(t.as_of, dt.date)
    assert "Remittance Prices Worldwide" in t.note and "demo" in t.note.lower()
    assert t.source
    assert t.quoted_amount_usd == 200


def test_bundled_table_size_and_shape():
    t = BUNDLED
    assert len(t.corridors) >= 40
    for (origin, host), options in t.corridors.items():
        assert origin in ORIGINS and host in HOSTS, (origin, host)
        assert 3 <= len(options) <= 5, (origin, host)
        assert len({o.provider for o in options}) == len(options), (origin, host)


# Home <- host: the corridors that carry most of these origins' remittances.
MAIN_CORRIDORS = (
    "KE<AE KE<SA KE<QA UG<SA ET<SA ET<LB SO<GB SD<SA PH<AE PH<SA PH<SG PH<US ID<MY ID<SA "
    "LK<KW LK<JO IN<AE IN<US NP<MY NP<QA BD<SA BD<MY BD<IT PK<SA PK<GB TZ<OM"
).split()


@pytest.mark.parametrize(("origin", "host"), [tuple(pair.split("<")) for pair in MAIN_CORRIDORS])
def test_main_corridors_are_covered(origin, host):
    assert len(cheapest(origin, host, table=BUNDLED)) == 3


def test_cheapest_sorts_by_total_cost_with_speed_breaking_ties():
    quotes = cheapest("KE", "AE", table=table_from(SMALL))
    assert [q.option.provider for q in quotes] == ["Mobile wallet", "Exchange house", "Money transfer operator"]
    assert [q.total_cost_usd for q in quotes] == [8.0, 8.0, 10.0]
    assert quotes[0].cost_pct == pytest.approx(4.0)


def test_amount_changes_the_ranking():
    # At 1000 USD the FX margin dominates and the flat-fee bank wins.
    quotes = cheapest("KE", "AE", amount_usd=1000, limit=1, table=table_from(SMALL))
    assert quotes[0].option.provider == "Bank"
    assert quotes[0].total_cost_usd == 20.0
    assert quotes[0].amount_usd == 1000


@pytest.mark.parametrize(("limit", "count"), [(0, 0), (1, 1), (3, 3), (10, 4), (-1, 0)])
def test_limit(limit, count):
    assert len(cheapest("KE", "AE", limit=limit, table=table_from(SMALL))) == count


def test_bundled_results_are_sorted():
    t = BUNDLED
    for origin, host in t.corridors:
        totals = [q.total_cost_usd for q in cheapest(origin, host, limit=5, table=BUNDLED)]
        assert totals == sorted(totals)


@pytest.mark.parametrize(("origin", "host"), [("KE", "XX"), ("XX", "AE"), ("AE", "KE"), ("", "")])
def test_uncovered_corridor_is_empty(origin, host):
    assert cheapest(origin, host, table=BUNDLED) == []


def test_option_total_cost():
    option = Option(provider="Bank", fee_usd=5.0, fx_margin_pct=2.5, speed="days")
    assert option.total_cost_usd(200) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("corridors: []", "as_of"),
        ("demo: maybe\nsource: x\nas_of: 2026-01-01\ncorridors: []", "demo"),
        ("demo: true\nas_of: 2026-01-01\ncorridors: []", "source"),
        ("demo: true\nsource: x\nas_of: 2026-01-01\ncorridors:\n  - {origin: KE, host: AE, options: []}", "option"),
        (
            "demo: true\nsource: x\nas_of: 2026-01-01\ncorridors:\n"
            "  - {origin: KE, host: AE, options: [{provider: Bank, fee_usd: 1, speed: days}]}",
            "fx_margin_pct",
        ),
        (
            "demo: true\nsource: x\nas_of: 2026-01-01\ncorridors:\n"
            "  - {origin: KE, host: AE, options: [{provider: Bank, fee_usd: 1, fx_margin_pct: 1, speed: soon}]}",
            "speed",
        ),
        (
            "demo: true\nsource: x\nas_of: 2026-01-01\ncorridors:\n"
            "  - {origin: KE, host: AE, options: [{provider: Bank, fee_usd: -1, fx_margin_pct: 1, speed: days}]}",
            "fee_usd",
        ),
        (
            "demo: true\nsource: x\nas_of: 2026-01-01\ncorridors:\n"
            "  - {origin: KE, host: AE, options: [{provider: Bank, fee_usd: 1, fx_margin_pct: 1, speed: days}]}\n"
            "  - {origin: KE, host: AE, options: [{provider: Bank, fee_usd: 1, fx_margin_pct: 1, speed: days}]}",
            "twice",
        ),
    ],
)
def test_malformed_tables_are_rejected(text, message):
    with pytest.raises(CorridorError, match=message):
        table_from(text)


def test_cheapest_into_home_lists_each_sending_country_once_cheapest_first():
    """At home there is no corridor to price: a Kenyan in Kenya sees what it costs relatives abroad to send."""
    table = load_corridors()
    best = cheapest_into("KE", table=table)
    hosts = [host for host, _ in best]
    assert "KE" not in hosts and len(hosts) == len(set(hosts)) >= 3
    assert {"AE", "SA", "QA"} <= set(hosts)
    totals = [quote.total_cost_usd for _, quote in best]
    assert totals == sorted(totals)
    for host, quote in best:
        assert quote.total_cost_usd == cheapest("KE", host, table=table)[0].total_cost_usd


def test_cheapest_into_an_uncovered_country_is_empty():
    assert cheapest_into("ZZ", table=load_corridors()) == []
