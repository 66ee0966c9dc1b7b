"""Subscribers, phone numbers, keys, single messages and the USSD "latest alerts" read."""

from __future__ import annotations

from dataclasses import replace

import pytest
from rq import Queue

from identity.phones import mask, normalise
from outbox import broadcasts, keys, subscribers
from outbox.broadcasts import BroadcastRequest
from outbox.errors import InvalidNumber
from outbox.sms import Outcome, claim, queue_message
from tests.conftest import TEST_KEYRING


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("+254 711 000 001", None, "+254711000001"),
    ("0711000001", "KE", "+254711000001"),
    ("0917 123 4567", "PH", "+639171234567"),
])
def test_normalise(raw, region, expected):
    assert normalise(raw, region) == expected


@pytest.mark.parametrize("raw", ["", "hello", "+2547", "0711000001", "+25471100000112345"])
def test_normalise_rejects(raw):
    with pytest.raises(InvalidNumber):
        normalise(raw)


def test_mask_hides_the_middle():
    assert mask("+254711000033") == "+2547******33"
    assert "711000" not in mask("+254711000033")


def test_keys_share_one_slot_per_broadcast():
    tag = "{abc}"
    for key in (keys.broadcast("abc"), keys.ledger("abc"), keys.batch("abc", 3), keys.reasons("abc")):
        assert tag in key and "::" not in key
    assert keys.subscriber("+254711000001").startswith(keys.AUDIENCE_TAG)
    assert keys.audience_set("KE", "sw", "weather").startswith(keys.AUDIENCE_TAG)


def test_subscribe_merges_and_optout_is_respected(redis):
    phone = "+254711000001"
    sub = subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="sw", topics=["weather"],
                                source="ussd")
    assert sub.countries == {"KE"} and sub.topics == {"weather"} and not sub.opted_out
    sub = subscribers.subscribe(redis, TEST_KEYRING, phone, country="UG", language="sw", topics=["health"],
                                source="ussd")
    assert sub.pairs == {("KE", "weather"), ("UG", "health")}
    assert subscribers.count(redis, country="UG", topic="health") == 1
    assert subscribers.count(redis, country="UG", topic="weather") == 0  # a pair never held
    subscribers.opt_out(redis, TEST_KEYRING, phone)
    subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="en", topics=["work"], source="api")
    assert subscribers.get(redis, TEST_KEYRING, phone).opted_out  # an agency import does not undo a STOP
    assert subscribers.count(redis) == 0
    assert subscribers.count(redis, language="sw") == 0
    subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="en", topics=["work"], source="sms")
    sub = subscribers.get(redis, TEST_KEYRING, phone)
    assert not sub.opted_out and sub.language == "en"
    assert subscribers.count(redis, language="sw") == 0 and subscribers.count(redis, language="en") == 1


def test_unsubscribe(redis):
    phone = "+254711000001"
    subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="sw", topics=["weather", "health"],
                          source="ussd")
    subscribers.subscribe(redis, TEST_KEYRING, phone, country="UG", language="sw", topics=["weather"], source="ussd")
    sub = subscribers.unsubscribe(redis, TEST_KEYRING, phone, country="UG")
    assert sub.countries == {"KE"} and subscribers.count(redis, country="UG") == 0
    sub = subscribers.unsubscribe(redis, TEST_KEYRING, phone, topic="health")
    assert sub.topics == {"weather"} and subscribers.count(redis, topic="health") == 0
    assert subscribers.unsubscribe(redis, TEST_KEYRING, phone) is None
    assert subscribers.count(redis) == 0 and subscribers.get(redis, TEST_KEYRING, phone) is None


def test_queue_message_dedupes(redis, outbox_config):
    assert queue_message(redis, outbox_config, "+254711000001", "hello", dedupe_key="help:1") is Outcome.QUEUED
    assert queue_message(redis, outbox_config, "+254711000001", "hello", dedupe_key="help:1") is Outcome.DUPLICATE
    assert queue_message(redis, outbox_config, "+254711000001", "now", priority="emergency") is Outcome.QUEUED
    assert len(Queue("normal", connection=redis)) == 1 and len(Queue("emergency", connection=redis)) == 1


def test_single_message_is_sent(redis, drain, at_server, outbox_config):
    queue_message(redis, outbox_config, "+254711000001", "Your balance is ready")
    drain()
    assert at_server.messages_to("+254711000001") == ["Your balance is ready"]


def test_single_sms_share_a_per_number_and_a_global_daily_cap(redis, outbox_config):
    """SMS pumping: every single SMS to one number counts against one daily cap, and all of them against another;
    the counters are named by the number's pseudonym, never the number."""
    config = replace(outbox_config, sms_per_number_per_day=2, sms_single_per_day=3)
    sent = [queue_message(redis, config, "+254711000001", f"m{n}") for n in range(3)]
    assert sent == [Outcome.QUEUED, Outcome.QUEUED, Outcome.CAPPED]
    assert queue_message(redis, config, "+254711000002", "other") is Outcome.QUEUED  # another number: its own cap
    assert queue_message(redis, config, "+254711000003", "third") is Outcome.CAPPED  # the global cap: 3 a day
    assert not claim(redis, config, "+254711000004")
    assert len(Queue("normal", connection=redis)) == 3
    counters = b" ".join(redis.keys("sms:single:*")).decode()
    assert "254711000001" not in counters and TEST_KEYRING.pseudonym("+254711000001") in counters


def test_latest_for_country(redis, outbox_config):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000001", country="KE", language="sw", topics=["weather"],
                          source="ussd")
    for text in ("first", "second"):
        broadcasts.create(redis, "a", BroadcastRequest(message={"en": text, "sw": text + "-sw"}, countries=("KE",)),
                          outbox_config)
    latest = broadcasts.latest_for_country(redis, "KE")
    assert [a.texts["sw"] for a in latest] == ["second-sw", "first-sw"]
    assert broadcasts.latest_for_country(redis, "UG") == []


def test_subscriptions_are_exactly_the_pairs_subscribed(redis):
    """Issue #8 item 6: Lebanon/Safety then Jordan/Weather is those two pairs, not safety and weather for both;
    the audience sets hold the same pairs, so a broadcast reaches the subscriber only through one of them."""
    phone = "+8801712345678"
    subscribers.subscribe(redis, TEST_KEYRING, phone, country="LB", language="en", topics=["safety"], source="ussd")
    sub = subscribers.subscribe(redis, TEST_KEYRING, phone, country="JO", language="en", topics=["weather"],
                                source="ussd")
    assert sub.pairs == {("LB", "safety"), ("JO", "weather")}
    assert sub.topics_for("LB") == {"safety"} and sub.topics_for("JO") == {"weather"}
    token = TEST_KEYRING.seal(phone)
    held = {(c, t) for c in ("LB", "JO") for t in subscribers.TOPICS
            if redis.sismember(keys.audience_set(c, "en", t), token)}
    assert held == {("LB", "safety"), ("JO", "weather")}
    assert subscribers.count(redis, country="LB", topic="weather") == 0
    assert subscribers.count(redis, country="JO", topic="safety") == 0
    # a new language moves every pair, and only those pairs
    subscribers.subscribe(redis, TEST_KEYRING, phone, country="JO", language="ar", topics=["health"], source="sms")
    assert subscribers.count(redis, language="en") == 0
    assert [subscribers.count(redis, country=c, language="ar", topic=t) for c, t in
            (("LB", "safety"), ("JO", "weather"), ("JO", "health"), ("LB", "health"))] == [1, 1, 1, 0]
    sub = subscribers.unsubscribe(redis, TEST_KEYRING, phone, country="JO", topic="weather")
    assert sub.pairs == {("LB", "safety"), ("JO", "health")}
    assert subscribers.count(redis, country="JO", topic="weather") == 0


def test_a_record_from_before_pairs_reads_as_its_cross_product(redis):
    """Demo data written before pairs (countries ``c`` × topics ``t``, and that cross product in the index) needs
    no migration: it reads as those pairs, and its next change rewrites it as pairs, index and record agreeing."""
    phone = "+254711000001"
    token = TEST_KEYRING.seal(phone)
    redis.hset(keys.subscriber(token), mapping={"l": "sw", "c": "KE,UG", "t": "health,weather",
                                                 "at": "2026-01-01T00:00:00+00:00", "s": "api"})
    for c in ("KE", "UG"):
        for t in ("health", "weather"):
            redis.sadd(keys.audience_set(c, "sw", t), token)
    redis.sadd(keys.known_countries(), "KE", "UG")
    redis.sadd(keys.known_languages(), "sw")
    sub = subscribers.get(redis, TEST_KEYRING, phone)
    assert sub.pairs == {("KE", "health"), ("KE", "weather"), ("UG", "health"), ("UG", "weather")}
    sub = subscribers.unsubscribe(redis, TEST_KEYRING, phone, country="UG", topic="health")
    assert sub.pairs == {("KE", "health"), ("KE", "weather"), ("UG", "weather")}
    assert not redis.hexists(keys.subscriber(token), "c") and subscribers.count(redis, country="UG") == 1
    assert subscribers.count(redis, country="UG", topic="health") == 0
    sub = subscribers.subscribe(redis, TEST_KEYRING, phone, country="QA", language="sw", topics=["work"],
                                source="sms")
    assert sub.pairs == {("KE", "health"), ("KE", "weather"), ("UG", "weather"), ("QA", "work")}
    assert subscribers.count(redis) == 1 and subscribers.count(redis, topic="work") == 1
