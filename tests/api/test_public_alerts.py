"""Which broadcasts a caller may read on "latest alerts" (CONTRACT §3): audience broadcasts and CAP alerts are
public; a broadcast to a ``phones`` list is private; one without a country filter is listed to those it reached."""

from __future__ import annotations

from outbox import subscribers
from tests.conftest import TEST_KEYRING
from tests.flows.conftest import handset


def _latest(client, where="KE", lang_option="1"):
    return handset(client, where, lang_option).send("3", "4")


def test_a_private_broadcast_never_reaches_a_ussd_screen(client, key_a):
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": "Your shelter intake is at 14:00 at the blue gate"},
        "audience": {"phones": ["+254711000009"]}})
    assert r.status_code == 202, r.json
    screen = _latest(client)
    assert "shelter" not in screen and screen.startswith("CON No alerts sent for Kenya lately.")


def test_an_audience_broadcast_is_listed_for_its_country(client, redis, key_a):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000009", country="KE", language="en", topics=["safety"],
                          source="api")
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": "Curfew from 20:00 tonight"}, "audience": {"countries": ["KE"]}})
    assert r.status_code == 202, r.json
    assert "Curfew from 20:00" in _latest(client)


def test_a_broadcast_without_a_country_filter_is_listed_to_those_it_reached(client, redis, key_a):
    # The Kenyan caller of the flows subscribes (to Uganda, in Swahili, weather); a broadcast to Swahili speakers
    # about weather reaches them wherever they subscribed, so their "latest alerts" in Kenya lists it.
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000001", country="UG", language="sw", topics=["weather"],
                          source="ussd")
    subscribers.subscribe(redis, TEST_KEYRING, "+639171234567", country="PH", language="en", topics=["weather"],
                          source="ussd")
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"sw": "Mvua kubwa inakuja"}, "audience": {"languages": ["sw"], "topics": ["weather"]}})
    assert r.status_code == 202 and r.json["recipients"] == 1, r.json
    assert "Mvua kubwa inakuja" in _latest(client, "KE", lang_option="3")
    assert "Mvua kubwa" not in _latest(client, "PH")  # an English subscriber: not reached, not listed
    assert "Mvua kubwa" not in _latest(client, "BD")  # not a subscriber at all


def test_a_broadcast_reaches_a_subscriber_only_through_a_pair_they_hold(client, redis, key_a):
    """Lebanon/Safety and Jordan/Weather (issue #8 item 6): a broadcast to countries × topics counts the
    subscriber only when one of their pairs is in it, and their "latest alerts" lists an unfiltered broadcast
    only for a topic of theirs."""
    for country, topic in (("LB", "safety"), ("JO", "weather")):
        subscribers.subscribe(redis, TEST_KEYRING, "+254711000001", country=country, language="en", topics=[topic],
                              source="ussd")

    def recipients(countries, topics):
        r = client.post("/api/v1/broadcasts/estimate", headers=key_a, json={
            "message": {"en": "x"}, "audience": {"countries": countries, "topics": topics}})
        assert r.status_code == 200, r.json
        return r.json["recipients"]

    assert recipients(["LB"], ["safety"]) == 1 and recipients(["JO"], ["weather"]) == 1
    assert recipients(["LB"], ["weather"]) == 0 and recipients(["JO"], ["safety"]) == 0
    assert recipients(["LB", "JO"], ["safety", "weather"]) == 1
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": "Storm over Beirut"}, "audience": {"countries": ["LB"], "topics": ["weather"]}})
    assert r.status_code == 422 and r.json["error"]["code"] == "empty_audience", r.json
    subscribers.subscribe(redis, TEST_KEYRING, "+639171234567", country="PH", language="en", topics=["health"],
                          source="ussd")  # someone the health broadcast does reach
    for text, topic in (("Clinic hours changed", "health"), ("Heat wave tomorrow", "weather")):
        r = client.post("/api/v1/broadcasts", headers=key_a, json={
            "message": {"en": text}, "audience": {"languages": ["en"], "topics": [topic]}})
        assert r.status_code == 202, r.json
    screen = _latest(client, "KE")
    assert "Heat wave tomorrow" in screen and "Clinic hours" not in screen
