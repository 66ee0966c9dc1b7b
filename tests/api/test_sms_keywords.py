"""Inbound SMS keywords: STOP with punctuation and in everyday words (which must not opt anyone out), JOIN's
country and language checked, and the confirmation counter keyed by the caller's pseudonym, not a plain hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from rq import Queue

from gateway.app import create_app
from outbox import subscribers
from tests.conftest import TEST_KEYRING


def _inbound(client, text, *, sender="+254711000001", id="in-1"):
    return client.post("/sms/inbound", data={"from": sender, "to": "1", "text": text, "id": id})


def test_inbound_keywords_with_punctuation_and_everyday_words(client, redis):
    for i, text in enumerate(["stop.", "Stop!", "END", "«ARRET»."]):
        phone = f"+25471100020{i}"
        _inbound(client, text, sender=phone, id=f"p{i}")
        assert subscribers.is_opted_out(redis, TEST_KEYRING, phone), text
    for i, text in enumerate(["End of shift today", "Yes I am here", "Oo po", "Cancel my order please"]):
        phone = f"+25471100030{i}"
        _inbound(client, text, sender=phone, id=f"q{i}")
        assert not subscribers.is_opted_out(redis, TEST_KEYRING, phone) and subscribers.get(redis, TEST_KEYRING,
                                                                                            phone) is None, text


def test_join_checks_country_and_language(client, redis):
    _inbound(client, "JOIN PO xx", id="j1")
    # neither "PO" nor its own country: a country it cannot read is asked again, nothing subscribed (CONTRACT §2)
    assert subscribers.get(redis, TEST_KEYRING, "+254711000001") is None
    _inbound(client, "JOIN UGA fr", id="j2", sender="+254711000002")
    sub = subscribers.get(redis, TEST_KEYRING, "+254711000002")
    assert sub.countries == {"UG"} and sub.language == "fr"


def test_confirmation_counter_is_keyed_not_a_plain_hash(client, redis):
    _inbound(client, "STOP", id="k1")
    assert len(Queue("normal", connection=redis)) == 1
    plain = hashlib.sha256(b"+254711000001").hexdigest()[:32]
    counters = [k.decode() for k in redis.scan_iter("sms:reply:*")]  # a reply to its own keyword: that allowance
    assert len(counters) == 1 and plain not in counters[0]
    assert TEST_KEYRING.pseudonym("+254711000001") in counters[0]
    assert json.loads(redis.get(counters[0])) == 1


def test_stop_is_confirmed_once_even_past_the_daily_cap(settings, redis):
    """Five replies used the number's daily allowance of replies, and a STOP after them opted out in silence
    (found by the black-box probe): the opt-out is confirmed once, past that allowance; a repeated STOP is not."""
    client = create_app(replace(settings, sms_replies_per_number_per_day=5)).test_client()
    queue = Queue("normal", connection=redis)
    for i in range(5):
        _inbound(client, "HELP", id=f"h{i}")
    _inbound(client, "HELP", id="h5")  # the cap: no sixth reply
    assert len(queue) == 5
    _inbound(client, "STOP", id="s1")
    assert subscribers.is_opted_out(redis, TEST_KEYRING, "+254711000001") and len(queue) == 6
    _inbound(client, "STOP", id="s2")  # already opted out: nothing more to confirm
    assert len(queue) == 6
