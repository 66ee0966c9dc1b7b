"""Delivery reports (``/sms/delivery``): a final report moves its broadcast's count in the same script that marks
it seen (AT's retry counts once, a report before its send is counted when the send is recorded), and a report
for a broadcast whose record is gone creates no stub."""

from __future__ import annotations

from outbox import broadcasts, dlr, keys
from outbox.broadcasts import BroadcastRequest
from outbox.config import OutboxConfig
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
