"""Broadcasts end to end through the real SDK and a local AT-compatible server."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from outbox import broadcasts, dlr, subscribers
from outbox.broadcasts import BroadcastRequest
from outbox.sweeper import sweep
from tests.conftest import TEST_KEYRING


def _import(conn, n, *, country="KE", language="sw", topics=("weather",), start=0):
    rows = [{"phone": f"+2547110{i:05d}", "country": country, "language": language, "topics": list(topics)}
            for i in range(start, start + n)]
    result = subscribers.import_many(conn, TEST_KEYRING, rows)
    assert result.rejected == []
    return [r["phone"] for r in rows]


def test_each_recipient_once_in_their_language(conn, at_server, drain, outbox_config):
    sw = _import(conn, 120)
    en = _import(conn, 30, language="en", start=500)
    fr = _import(conn, 5, language="fr", start=900)
    view = broadcasts.create(conn, "agency-a", BroadcastRequest(
        message={"en": "Storm warning", "sw": "Onyo la dhoruba"}, countries=("KE",)), outbox_config)
    assert view["recipients"] == 155
    footer = len(f"\nagency-a, kumb. {view['ref']}. Kusitisha, jibu ACHA")
    assert view["estimate"]["sw"] == {"encoding": "GSM-7", "segments": 1, "characters": 15 + footer,
                                      "recipients": 120}
    # French subscribers get the English text (the first) with their own footer: estimated as what they receive
    assert view["estimate"]["en"]["recipients"] == 30 and view["estimate"]["fr"]["recipients"] == 5
    drain()
    got = at_server.all_recipients()
    assert sorted(got) == sorted(sw + en + fr)
    assert all([m.split("\n")[0] for m in at_server.messages_to(p)] == ["Onyo la dhoruba"] for p in sw)
    assert all([m.split("\n")[0] for m in at_server.messages_to(p)] == ["Storm warning"] for p in en + fr)
    final = broadcasts.view(conn, view["id"], "agency-a")
    assert final["status"] == "done"
    assert final["counts"] == {"recipients": 155, "queued": 0, "sent": 155, "delivered": 0, "failed": 0,
                               "opted_out": 0, "called": 0, "answered": 0}


def test_opted_out_skipped_and_counted(conn, at_server, drain, outbox_config):
    phones = _import(conn, 10)
    subscribers.opt_out(conn, TEST_KEYRING, phones[0])
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    assert view["counts"]["recipients"] == 9 and view["counts"]["opted_out"] == 1
    subscribers.opt_out(conn, TEST_KEYRING, phones[1])  # after queueing, before sending
    drain()
    assert phones[0] not in at_server.all_recipients() and phones[1] not in at_server.all_recipients()
    counts = broadcasts.view(conn, view["id"])["counts"]
    assert counts["sent"] == 8 and counts["opted_out"] == 2 and counts["recipients"] == 8


def test_dlr_reconciliation_duplicates_and_early(conn, at_server, drain, outbox_config):
    _import(conn, 4)
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    assert dlr.report(conn, "ATXid_early", "Success") == "early"
    drain()
    ids = list(at_server.message_ids())
    assert dlr.report(conn, ids[0], "Buffered") == "seen"
    assert dlr.report(conn, ids[0], "Success") == "counted"
    assert dlr.report(conn, ids[0], "Success") == "seen"
    assert dlr.report(conn, ids[0], "Failed") == "seen"
    assert dlr.report(conn, ids[1], "Failed") == "counted"
    counts = broadcasts.view(conn, view["id"])["counts"]
    assert counts["delivered"] == 1 and counts["failed"] == 1
    dlr.record_sent(conn, view["id"], ["ATXid_early"])  # the send recorded after its report
    assert broadcasts.view(conn, view["id"])["counts"]["delivered"] == 2


def test_cancel_and_expiry(conn, at_server, drain, outbox_config):
    _import(conn, 100)
    later = datetime.now(UTC) + timedelta(hours=1)
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",), send_at=later),
                             outbox_config)
    assert view["status"] == "scheduled"
    drain()  # fan-out only: nothing is due
    assert at_server.all_recipients() == []
    cancelled = broadcasts.cancel(conn, view["id"], "a")
    assert cancelled["status"] == "cancelled" and cancelled["counts"]["queued"] == 0
    assert broadcasts.view(conn, view["id"])["status"] == "cancelled"

    soon = datetime.now(UTC) + timedelta(seconds=1)
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",), expires_at=soon,
                                                         send_at=datetime.now(UTC) + timedelta(milliseconds=900)),
                             outbox_config)
    drain()
    time.sleep(1.1)
    sweep(conn, outbox_config, force=True)
    drain()
    assert at_server.all_recipients() == []
    assert broadcasts.view(conn, view["id"])["status"] == "expired"


def test_emergency_overtakes_normal(conn, at_server, drain, outbox_config):
    _import(conn, 300)
    urgent = _import(conn, 3, country="UG", start=2000)
    broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "normal"}, countries=("KE",)), outbox_config)
    from rq import Queue, SimpleWorker

    normal = Queue("normal", connection=conn)
    SimpleWorker([Queue("emergency", connection=conn), normal], connection=conn).work(burst=True, max_jobs=2)
    broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "URGENT"}, countries=("UG",),
                                                  priority="emergency"), outbox_config)
    drain()
    order = [s.message.split("\n")[0] for s in at_server.sent]
    first_urgent = order.index("URGENT")
    assert first_urgent < len(order) - 1 and order.count("normal") == 6
    assert sorted(p for s in at_server.sent if s.message.startswith("URGENT\n") for p in s.to) == sorted(urgent)


def test_scheduled_broadcast_starts_when_due(conn, at_server, drain, outbox_config):
    phones = _import(conn, 10)
    send_at = datetime.now(UTC) + timedelta(seconds=3)
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "later"}, countries=("KE",), send_at=send_at),
                             outbox_config)
    drain()  # the fan-out: batches wait for send_at
    sweep(conn, outbox_config, force=True)
    assert at_server.all_recipients() == [] and broadcasts.view(conn, view["id"])["status"] == "scheduled"
    time.sleep(max(0.0, (send_at - datetime.now(UTC)).total_seconds()) + 0.05)
    sweep(conn, outbox_config, force=True)
    drain()
    assert sorted(at_server.all_recipients()) == sorted(phones)
    assert broadcasts.view(conn, view["id"])["status"] == "done"
