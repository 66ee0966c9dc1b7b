"""The audience sets a subscriber is indexed in are named by outbox/keys.py alone: subscribing adds the sealed
number to its (country, language, topic) set and the known countries and languages, a change of language moves
it, and unsubscribing leaves no empty set behind."""

from __future__ import annotations

from outbox import keys, subscribers
from tests.conftest import TEST_KEYRING


def test_index_names_come_from_keys(conn):
    token = TEST_KEYRING.seal("+254711000001")  # sets and records hold the sealed number
    subscribers.subscribe(conn, TEST_KEYRING, "+254711000001", country="KE", language="sw", topics=["weather"],
                          source="ussd")
    assert conn.sismember(keys.audience_set("KE", "sw", "weather"), token)
    assert conn.sismember(keys.known_countries(), "KE") and conn.sismember(keys.known_languages(), "sw")
    subscribers.subscribe(conn, TEST_KEYRING, "+254711000001", country="KE", language="en", topics=["weather"],
                          source="ussd")
    assert not conn.sismember(keys.audience_set("KE", "sw", "weather"), token)
    assert conn.sismember(keys.audience_set("KE", "en", "weather"), token)
    subscribers.unsubscribe(conn, TEST_KEYRING, "+254711000001")
    assert not conn.exists(keys.audience_set("KE", "en", "weather"), keys.subscriber(token))
    assert not conn.exists("{aud}:all")
