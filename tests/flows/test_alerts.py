"""Alerts: subscribe here or elsewhere by topic, list and cancel, read the latest; one store with SMS JOIN."""

from __future__ import annotations

from flask.testing import FlaskClient
from redis import Redis

from handlers import alerts
from handlers.context import country_name
from menus.gsm import fits_ussd
from outbox import subscribers
from tests.conftest import TEST_KEYRING
from tests.flows.conftest import fresh, handset


def test_menu_topics_are_the_stores_topics() -> None:
    """One list: a topic added to the store shows on the USSD menu too (it was once a copy that could drift)."""
    assert alerts.TOPICS is subscribers.TOPICS


def test_subscribe_here_list_and_cancel(client: FlaskClient, redis: Redis) -> None:
    phone = handset(client, "PH", lang_option="5")
    body = phone.send("3", "1", "1")  # this country, safety
    assert body.startswith("END ") and "Pilipinas" in body  # Tagalog
    record = subscribers.get(redis, TEST_KEYRING, "+639171234567")
    assert record is not None
    assert record.countries == frozenset({"PH"}) and record.topics == frozenset({"safety"})
    assert record.language == "tl"
    fresh(phone)
    body = phone.send("3", "2", "3", "5")  # another country: Saudi Arabia (third on the list), all topics
    assert body.startswith("END ")
    record = subscribers.get(redis, TEST_KEYRING, "+639171234567")
    assert record is not None
    assert record.pairs == {("PH", "safety"), *(("SA", t) for t in subscribers.TOPICS)}
    fresh(phone)
    mine = phone.send("3", "3")  # two countries do not share a Tagalog page with their stop options: a menu
    assert "1 Tingnan ang mga alerto mo" in mine and "2 Itigil ang alerto" in mine
    listed = phone.send("1")
    assert "Pilipinas: Kaligtasan" in listed and "Saudi Arabia: Lahat ng paksa" in listed, listed
    fresh(phone)
    assert phone.send("3", "3", "2", "1").startswith("END ")  # stop alerts: the first country listed
    record = subscribers.get(redis, TEST_KEYRING, "+639171234567")
    assert record is not None and record.countries == frozenset({"SA"})
    fresh(phone)
    phone.send("3", "3")
    phone.send("2")  # stop all
    after = subscribers.get(redis, TEST_KEYRING, "+639171234567")
    assert after is None or not after.countries


def test_ussd_subscription_is_the_record_an_sms_join_updates(client: FlaskClient, redis: Redis) -> None:
    subscribers.subscribe(redis, TEST_KEYRING, "+8801712345678", country="AE", language="en", topics=["work"],
                          source="sms")
    phone = handset(client, "BD")
    body = phone.send("3", "3")
    assert "United Arab Emirates" in body and "Work rights" in body


def test_latest_alerts_when_none(client: FlaskClient) -> None:
    phone = handset(client, "KE")
    assert phone.send("3", "4").startswith("CON No alerts sent for Kenya lately.")


def test_latest_alerts_in_the_callers_language_paginated(client: FlaskClient, redis: Redis) -> None:
    from menus.gsm import fits_ussd
    from outbox import broadcasts
    from outbox.broadcasts import BroadcastRequest
    from outbox.config import OutboxConfig

    texts = [f"Flood warning {n}: roads to the coast are closed; move to high ground and follow the police."
             for n in range(3)]
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000009", country="KE", language="sw", topics=["safety"],
                          source="api")
    for n, text in enumerate(texts):
        request = BroadcastRequest(message={"en": text, "sw": f"Onyo la mafuriko {n}: hamia sehemu za juu."},
                                   countries=("KE",))
        broadcasts.create(redis, "agency", request, OutboxConfig(keyring=TEST_KEYRING))
    phone = handset(client, "KE", lang_option="3")  # Kiswahili
    first = phone.send("3", "4")
    assert first.startswith("CON ") and "Onyo la mafuriko 2" in first  # newest first, in Swahili
    pages = [first]
    while "98 " in pages[-1]:
        pages.append(phone.send("98"))
    shown = "\n".join(pages)
    assert all(f"Onyo la mafuriko {n}" in shown for n in range(3))
    assert all(fits_ussd(page[4:], 160) for page in pages)


def test_alerts_are_country_topic_pairs_and_the_list_shows_exactly_them(client: FlaskClient, redis: Redis) -> None:
    """Issue #8 item 6: Lebanon/Safety, then Jordan/Weather, gives those two pairs (it once gave safety and
    weather for both while the screen said otherwise); "My alerts" lists each country with its own topics."""
    phone = handset(client, "BD")
    countries = phone.send("3", "2")
    assert "7 Lebanon" in countries and "8 Jordan" in countries
    assert "Safety" in phone.send("7") and phone.send("1").startswith("END ")
    fresh(phone)
    phone.send("3", "2", "8")
    assert phone.send("3").startswith("END ")  # weather
    record = subscribers.get(redis, TEST_KEYRING, "+8801712345678")
    assert record is not None and record.pairs == {("LB", "safety"), ("JO", "weather")}
    fresh(phone)
    mine = phone.send("3", "3")
    assert mine == ("CON Your alerts:\nJordan: Weather\nLebanon: Safety\n1 Stop Jordan alerts\n"
                    "2 Stop Lebanon alerts\n3 Stop all alerts\n4 Get alerts by phone call\n0 Back\n00 Home"), mine
    assert phone.send("1").startswith("END ")  # stop Jordan
    record = subscribers.get(redis, TEST_KEYRING, "+8801712345678")
    assert record is not None and record.pairs == {("LB", "safety")}


def test_my_alerts_too_long_for_one_page_is_a_menu_of_list_and_stop(client: FlaskClient, redis: Redis) -> None:
    """Three countries in Arabic do not share an 80-unit page with an option: "My alerts" is then a menu (see
    them, a data screen that runs onto more pages; stop them, the countries as many as fit), never an option
    behind 98."""
    for country, topics in (("LB", ["safety"]), ("JO", list(subscribers.TOPICS)), ("QA", ["work"])):
        subscribers.subscribe(redis, TEST_KEYRING, "+8801712345678", country=country, language="ar",
                              topics=topics, source="ussd")
    phone = handset(client, "BD", lang_option="4")
    menu = phone.send("3", "3")
    assert "1 عرض تنبيهاتك" in menu and "2 إيقاف تنبيهات" in menu and "98" not in menu, menu
    shown = [phone.send("1")]
    while "\n98 " in shown[-1]:
        shown.append(phone.send("98"))
    assert all(fits_ussd(page[4:], 160) for page in shown)
    text = "\n".join(shown)
    assert "الأردن: كل المواضيع" in text and "لبنان: السلامة" in text and "قطر: حقوق العمل" in text, text
    fresh(phone)
    stop = phone.send("3", "3", "2")
    assert "1 الأردن" in stop and "2 لبنان" in stop and "3 قطر" in stop and "\n4 " in stop and "98" not in stop


def test_every_country_of_the_list_is_reachable_at_budget_120_in_arabic(settings, redis: Redis) -> None:
    """At budget 120 an Arabic page holds 60 UTF-16 units: the country list showed six of its eight countries and
    dropped Lebanon and Jordan (found by the black-box probe). The rest now sits behind "More countries", the last
    option of the first page; 0 goes back to the first countries."""
    from dataclasses import replace

    from gateway.app import create_app

    client = create_app(replace(settings, page_budget=120)).test_client()
    phone = handset(client, "KE", lang_option="4")
    first = phone.send("3", "2")
    assert "لبنان" not in first and "بلدان أخرى" in first, first
    more = first[4:].split("\n")[-2].split(" ")[0]  # "More countries" is the last option, above "0 back"
    rest = phone.send(more)
    assert "لبنان" in rest and "الأردن" in rest and fits_ussd(rest[4:], 120), rest
    assert phone.send("0") == first
    lebanon = next(line.split(" ")[0] for line in rest[4:].split("\n") if "لبنان" in line)
    assert phone.send(more, lebanon, "5").startswith("END ")
    record = subscribers.get(redis, TEST_KEYRING, "+254711000001")
    assert record is not None and "LB" in record.countries


def test_each_of_eight_countries_can_be_stopped_on_its_own_at_budget_120_in_arabic(settings, redis: Redis) -> None:
    """Stop alerts offered only the countries that fit beside "Stop all": at budget 120 in Arabic (60 units) a
    caller with eight countries could stop some of them only by stopping everything (found by the black-box walk,
    #8). The rest now sits behind "More countries", the last option; each one is reached and stopped alone."""
    from dataclasses import replace

    from gateway.app import create_app

    codes = ("AE", "SA", "QA", "KW", "OM", "LB", "JO", "KE")
    client = create_app(replace(settings, page_budget=120)).test_client()
    phone = handset(client, "BD", lang_option="4")
    for code in codes:
        for country in codes:
            subscribers.subscribe(redis, TEST_KEYRING, "+8801712345678", country=country, language="ar",
                                  topics=["safety"], source="ussd")
        fresh(phone)
        menu = phone.send("3", "3")
        stop_option = next(line.split(" ")[0] for line in menu[4:].split("\n") if "إيقاف" in line)
        page, name, pages = phone.send(stop_option), country_name(code, "ar"), 0
        while not any(line.split(" ", 1)[-1] == name for line in page[4:].split("\n")):
            assert "بلدان أخرى" in page and "98" not in page and fits_ussd(page[4:], 120), (code, page)
            more = next(line.split(" ")[0] for line in page[4:].split("\n") if "بلدان أخرى" in line)
            page, pages = phone.send(more), pages + 1
            assert pages < len(codes), (code, page)
        assert fits_ussd(page[4:], 120), page
        option = next(line.split(" ")[0] for line in page[4:].split("\n") if line.split(" ", 1)[-1] == name)
        assert phone.send(option).startswith("END "), code
        record = subscribers.get(redis, TEST_KEYRING, "+8801712345678")
        assert record is not None and set(record.countries) == set(codes) - {code}, (code, record)
