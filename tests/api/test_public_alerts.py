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
