"""Caller geography: MCC -> country where the caller is now, number -> home country. Junk never raises."""

import pytest

from handlers import geo


@pytest.mark.parametrize(
    ("network_code", "country"),
    [
        ("63902", "KE"),  # Safaricom
        ("63903", "KE"),  # Airtel Kenya
        ("64101", "UG"),
        ("64002", "TZ"),
        ("63601", "ET"),
        ("63701", "SO"),
        ("63401", "SD"),
        ("51502", "PH"),
        ("51010", "ID"),
        ("41302", "LK"),
        ("40445", "IN"),
        ("405854", "IN"),
        ("42901", "NP"),
        ("47001", "BD"),
        ("41001", "PK"),
        ("42402", "AE"),
        ("43002", "AE"),  # legacy UAE MCC absent from mobile-codes
        ("42001", "SA"),
        ("42701", "QA"),
        ("41902", "KW"),
        ("42202", "OM"),
        ("42602", "BH"),
        ("41601", "JO"),
        ("41503", "LB"),
        ("50212", "MY"),
        ("52501", "SG"),
        ("28601", "TR"),
        ("26201", "DE"),
        ("20801", "FR"),  # shared with Mayotte: France is principal
        ("23410", "GB"),  # shared with Jersey, Guernsey, Isle of Man
        ("23591", "GB"),
        ("22201", "IT"),
        ("310260", "US"),  # shared with Guam, Puerto Rico, Bermuda
        ("311480", "US"),
        ("312530", "US"),  # absent from mobile-codes
        ("316010", "US"),
        ("42501", "IL"),  # shared with Palestine
        (" 63902 ", "KE"),  # stray whitespace from a form post
    ],
)
def test_country_for_network(network_code, country):
    assert geo.country_for_network(network_code) == country


@pytest.mark.parametrize(
    "junk",
    [
        "",
        " ",
        "abc",
        "63",
        "639",
        "6390",
        "6390212",  # 7 digits: no MCC+MNC is that long
        "63a02",
        "６３９０２",  # full-width digits pass str.isdigit() but are not a network code
        "00000",  # unassigned MCC
        "99999",  # Africa's Talking sandbox ("Athena"): deliberately no country
        None,
        63902,
        b"63902",
    ],
)
def test_country_for_network_junk_is_none(junk):
    assert geo.country_for_network(junk) is None


def test_sandbox_code_is_documented_constant():
    assert geo.country_for_network(geo.SANDBOX_NETWORK_CODE) is None


def test_every_served_country_has_an_mcc():
    served = set("KE UG TZ ET SO SD PH ID LK IN NP BD PK AE SA QA KW OM BH JO LB MY SG TR DE FR GB IT US".split())
    assert served <= set(geo.mcc_table().values())
