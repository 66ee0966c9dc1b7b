"""Provider faults through the real SDK: 500s and timeouts retry, 401 fails the broadcast, per-recipient
rejections are recorded and not retried."""

from __future__ import annotations

import time
from collections import Counter

from rq import Queue, SimpleWorker

from outbox import broadcasts, subscribers
from outbox.broadcasts import BroadcastRequest
from outbox.ledger import Ledger
from outbox.sweeper import sweep
from tests.conftest import TEST_KEYRING


def _setup(conn, n):
    rows = [{"phone": f"+2547110{i:05d}", "country": "KE", "language": "sw", "topics": ["weather"]} for i in range(n)]
    subscribers.import_many(conn, TEST_KEYRING, rows)
    return [r["phone"] for r in rows]


def _run_until_settled(conn, drain, config, rounds=10):
    """Work and sweep until no broadcast is active (retries wait for the sweeper)."""
    for _ in range(rounds):
        drain()
        if not conn.zcard("bc:active"):
            return
        sweep(conn, config, force=True)


def test_provider_500_retries_with_backoff(conn, at_server, drain, outbox_config):
    phones = _setup(conn, 120)
    at_server.behaviour.fail_next = 3
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    _run_until_settled(conn, drain, outbox_config)
    assert sorted(at_server.all_recipients()) == sorted(phones)
    final = broadcasts.view(conn, view["id"])
    assert final["status"] == "done" and final["counts"]["sent"] == 120


def test_timeout_duplicates_at_most_the_batch_in_flight(conn, at_server, drain, outbox_config):
    phones = _setup(conn, 120)
    at_server.behaviour.fail_next, at_server.behaviour.stall_s = 1, 2.5  # answered after the client gave up
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    _run_until_settled(conn, drain, outbox_config)
    counts = Counter(at_server.all_recipients())
    assert set(counts) == set(phones)
    assert sum(n - 1 for n in counts.values()) <= outbox_config.batch_size
    assert broadcasts.view(conn, view["id"])["counts"]["sent"] == 120


def test_bad_credentials_fail_the_broadcast(conn, at_server, drain, outbox_config):
    _setup(conn, 120)
    at_server.behaviour.fail_next, at_server.behaviour.fail_status = 100, 401
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    _run_until_settled(conn, drain, outbox_config)
    assert at_server.requests == 1  # no retries
    final = broadcasts.view(conn, view["id"])
    assert final["status"] == "failed" and "credentials" in final["reason"]
    assert final["counts"]["queued"] == 0 and final["counts"]["sent"] == 0


def test_per_recipient_rejections_recorded_not_retried(conn, at_server, drain, outbox_config):
    phones = _setup(conn, 10)
    at_server.behaviour.rejected = {phones[0]: 403, phones[1]: 406}
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    _run_until_settled(conn, drain, outbox_config)
    assert at_server.requests == 1
    counts = broadcasts.view(conn, view["id"])["counts"]
    assert counts["sent"] == 8 and counts["failed"] == 2 and counts["queued"] == 0
    assert {k.decode(): int(v) for k, v in conn.hgetall(f"bc:{{{view['id']}}}:reasons").items()} == {
        "InvalidPhoneNumber": 1, "UserInBlacklist": 1}


def test_lost_lease_is_redriven_once(conn, at_server, drain, outbox_config):
    """A worker that claimed a batch and died: after the lease the sweeper gives it to another worker."""
    phones = _setup(conn, 60)
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    Queue("normal", connection=conn).empty()
    sweep(conn, outbox_config, force=True)  # fan-out job lost with the queue: re-driven
    drain()
    assert sorted(at_server.all_recipients()) == sorted(phones)
    ledger = Ledger(conn, view["id"])
    assert set(ledger.states().values()) == {"s"}
    # a claim whose worker vanished
    view2 = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "y"}, countries=("KE",)), outbox_config)
    Queue("normal", connection=conn).empty()
    sweep(conn, outbox_config, force=True)
    SimpleWorker([Queue("normal", connection=conn)], connection=conn).work(burst=True, max_jobs=1)  # fan-out only
    Queue("normal", connection=conn).empty()
    claim = Ledger(conn, view2["id"]).claim(0, 0, time.time(), 1)
    assert claim.outcome == "ok"
    time.sleep(1.1)
    sweep(conn, outbox_config, force=True)
    drain()
    assert sorted(p for s in at_server.sent if s.message.startswith("y\n") for p in s.to) == sorted(phones)
    assert broadcasts.view(conn, view2["id"])["status"] == "done"


def test_per_recipient_gateway_errors_are_retried(conn, at_server, drain, outbox_config):
    phones = _setup(conn, 10)
    at_server.behaviour.rejected = {phones[0]: 500, phones[1]: 403}
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    drain()
    at_server.behaviour.rejected = {phones[1]: 403}
    _run_until_settled(conn, drain, outbox_config)
    assert Counter(at_server.all_recipients())[phones[0]] == 2 and at_server.requests == 2
    counts = broadcasts.view(conn, view["id"])["counts"]
    assert counts["sent"] == 9 and counts["failed"] == 1 and counts["queued"] == 0
