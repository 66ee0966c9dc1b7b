"""Regressions from the review of the outbox: delivery counts in one script, the provider's timeout within the
lease, and the index kept through keys.py."""

from __future__ import annotations

from outbox import broadcasts, dlr, keys, subscribers
from outbox.broadcasts import BroadcastRequest
from outbox.config import OutboxConfig, configure, runtime
from outbox.provider import DEFAULT_TIMEOUT_S, AfricasTalkingProvider, ConsoleProvider
from tests.conftest import TEST_KEYRING


def test_a_final_report_moves_its_count_in_the_same_script(conn):
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"en": "x"}, phones=("+254711000001",)),
                             OutboxConfig(keyring=TEST_KEYRING))
    dlr.record_sent(conn, view["id"], ["m1"])
    assert dlr.report(conn, "m1", "Success") == "counted"
    assert dlr.report(conn, "m1", "Success") == "seen"  # AT's retry
    assert conn.hget(keys.broadcast(view["id"]), "delivered") == b"1"
    dlr.report(conn, "m2", "Failed")  # before the send was recorded: counted when it is
    dlr.record_sent(conn, view["id"], ["m2"])
    assert conn.hget(keys.broadcast(view["id"]), "failed") == b"1"


def test_a_report_for_a_gone_record_creates_no_stub(conn):
    dlr.record_sent(conn, "0123456789abcdef", ["m3"])
    assert dlr.report(conn, "m3", "Success") == "counted"
    assert not conn.exists(keys.broadcast("0123456789abcdef"))
    dlr.record_sent(conn, dlr.SINGLE, ["m4"])
    assert dlr.report(conn, "m4", "Success") == "counted"
    assert not conn.exists(keys.broadcast(dlr.SINGLE))


def test_provider_timeout_fits_in_half_the_lease():
    at = AfricasTalkingProvider("u", "k")
    assert at.timeout_s == sum(DEFAULT_TIMEOUT_S)
    configure(at, OutboxConfig(keyring=TEST_KEYRING, lease_s=5))  # the crash drills' lease
    assert runtime().provider.timeout_s <= 2.5 + 1e-9
    configure(at, OutboxConfig(keyring=TEST_KEYRING, lease_s=60))
    assert runtime().provider is at
    console = ConsoleProvider()
    configure(console, OutboxConfig(keyring=TEST_KEYRING, lease_s=5))
    assert runtime().provider is console


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
