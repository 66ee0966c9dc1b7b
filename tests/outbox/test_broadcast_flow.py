"""Broadcasts end to end through the real SDK and a local AT-compatible server."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from outbox import broadcasts, dlr, keys, subscribers
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


def test_large_audience_counted_by_the_api_and_resolved_by_the_fanout_job(conn, at_server, drain, outbox_config,
                                                                          monkeypatch):
    """Above EXACT_LIMIT the answer is the sets' sizes (an upper bound: a subscriber in two sets counts twice,
    an opted-out one counts); the fan-out job resolves the audience and the record then holds the exact figures."""
    monkeypatch.setattr(broadcasts, "EXACT_LIMIT", 50)
    sw = _import(conn, 60, topics=("weather", "health"))
    en = _import(conn, 20, language="en", start=500)
    subscribers.opt_out(conn, TEST_KEYRING, sw[0])
    request = BroadcastRequest(message={"en": "Flood", "sw": "Mafuriko"}, countries=("KE",))
    quote = broadcasts.estimate(conn, "a", request, outbox_config)
    assert quote["recipients"] == 140 and quote["recipients_exact"] is False
    created = broadcasts.create(conn, "a", request, outbox_config)
    assert created["recipients_exact"] is False
    assert created["recipients"] == 60 * 2 + 20 and created["estimate"]["sw"]["recipients"] == 120
    drain()
    final = broadcasts.view(conn, created["id"], "a")
    assert final["recipients_exact"] is True and final["status"] == "done"
    assert final["counts"] == {"recipients": 79, "queued": 0, "sent": 79, "delivered": 0, "failed": 0,
                               "opted_out": 1, "called": 0, "answered": 0}
    assert final["voice"]["subscribers"] == 0
    assert final["estimate"]["sw"]["recipients"] == 59 and final["estimate"]["en"]["recipients"] == 20
    assert final["cost"]["amount"] == pytest.approx(created["cost"]["amount"] * 79 / 140)
    assert sorted(at_server.all_recipients()) == sorted(sw[1:] + en)


def test_small_audience_exact_at_once(conn, outbox_config):
    _import(conn, 10, topics=("weather", "health"))
    created = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    assert created["recipients_exact"] is True and created["recipients"] == 10


def test_large_audience_cancelled_before_its_fanout_resolves_nothing(conn, at_server, drain, outbox_config,
                                                                      monkeypatch):
    monkeypatch.setattr(broadcasts, "EXACT_LIMIT", 5)
    _import(conn, 20)
    created = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    broadcasts.cancel(conn, created["id"], "a")
    drain()
    final = broadcasts.view(conn, created["id"], "a")
    assert final["status"] == "cancelled" and final["counts"]["queued"] == 0 and final["counts"]["sent"] == 0
    assert at_server.all_recipients() == [] and not conn.keys("{aud}:resolved:*")


def test_create_time_does_not_grow_with_the_audience(conn, client, outbox_config):
    """POST /broadcasts for 400,000 members answers as fast as for 1,000: only the sets' sizes are read on the
    request path (resolving 400,000 members there held Redis for a few hundred milliseconds)."""
    from outbox.apikeys import create_key

    key, _ = create_key(conn, "agency-a")
    headers = {"Authorization": f"Bearer {key}"}
    conn.sadd(keys.known_languages(), "sw")
    conn.sadd(keys.known_countries(), "KE", "UG")
    for country, size in (("KE", 400_000), ("UG", 1_000)):
        [target] = subscribers.matching_sets(conn, [country], ["sw"], ["weather"])
        for start in range(0, size, 20_000):  # opaque members: only counted and resolved, never sent here
            conn.sadd(target, *(f"tok-{country}-{i}" for i in range(start, min(size, start + 20_000))))

    def post(country: str) -> float:
        started = time.perf_counter()
        answer = client.post("/api/v1/broadcasts", headers=headers, json={
            "message": {"sw": "Onyo"}, "audience": {"countries": [country], "topics": ["weather"]}})
        took = time.perf_counter() - started
        assert answer.status_code == 202, answer.get_json()
        return took

    small = min(post("UG") for _ in range(3))
    large = min(post("KE") for _ in range(3))
    assert large < 2 * small + 0.03, f"{large * 1000:.1f} ms for 400,000 against {small * 1000:.1f} ms for 1,000"
    answer = client.post("/api/v1/broadcasts", headers=headers, json={
        "message": {"sw": "Onyo"}, "audience": {"countries": ["KE"], "topics": ["health"]}})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "empty_audience"


def test_test_provider_answers_after_its_latency_and_serves_requests_at_once():
    """tests/at_server.py's latency is per request, as a busy real API's, and requests overlap (one thread each),
    so the benchmark's workers are limited by the latency, not by the test server."""
    import json
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    from outbox.provider import AfricasTalkingProvider
    from tests.at_server import ATServer

    server = ATServer(latency_ms=300).start()
    try:
        provider = AfricasTalkingProvider("u", "key", api_url=server.url, timeout=(1.0, 3.0))
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda i: provider.send("x", [f"+2547110{i:05d}"]), range(4)))
        took = time.perf_counter() - started
        assert all(a[0].accepted for a in answers)
        assert 0.3 <= took < 0.9, took
        with urllib.request.urlopen(server.url + "/stats", timeout=5) as answer:
            stats = json.loads(answer.read())
        assert stats["requests"] == 4 and stats["recipients"] == 4 and stats["last_at"] >= stats["first_at"] > 0
    finally:
        server.stop()


def test_a_job_popped_by_a_worker_that_lost_redis_is_run_again(conn, at_server, drain, outbox_config):
    """A worker pops a job (BLPOP) and only then marks it started; one that loses Redis in between leaves it
    "queued" in no queue. After a lease the sweeper sees that and re-drives the batch."""
    from rq import Queue, SimpleWorker

    phones = _import(conn, 120)
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    SimpleWorker([Queue("normal", connection=conn)], connection=conn).work(burst=True, max_jobs=1)  # the fan-out
    normal = Queue("normal", connection=conn)
    assert conn.lpop(normal.key)  # popped by a worker that then lost Redis
    sweep(conn, outbox_config, now=time.time() + 1, force=True)  # within a lease: still trusted
    drain()
    assert broadcasts.view(conn, view["id"])["status"] == "sending"
    sweep(conn, outbox_config, now=time.time() + outbox_config.lease_s + 1, force=True)
    drain()
    assert broadcasts.view(conn, view["id"])["status"] == "done"
    assert sorted(at_server.all_recipients()) == sorted(phones)


def test_fanout_is_done_only_when_this_redis_holds_nothing_left_to_cut(conn, outbox_config, monkeypatch):
    """A cut is one script (pop and batch together), and the fan-out is marked done only where the resolved
    audience is drained: a cut that went to a former primary during a switch leaves members behind on the new one,
    which the fan-out then cuts instead of finishing without them (the failback drill lost a chunk that way)."""
    from outbox.ledger import Ledger

    monkeypatch.setattr(broadcasts, "EXACT_LIMIT", 5)
    _import(conn, 30)
    created = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "x"}, countries=("KE",)), outbox_config)
    ledger = Ledger(conn, created["id"])
    assert ledger.cut("sw", 20, time.time()) == -3  # not resolved here yet: nothing is cut
    broadcasts.resolve_deferred(conn, created["id"], outbox_config)
    assert ledger.cut("sw", 20, time.time()) == 0
    assert ledger.fanout_done(time.time(), ["sw"]) == -1  # 10 members left
    assert conn.hget(keys.broadcast(created["id"]), "fanout") == b"0"
    assert ledger.cut("sw", 20, time.time()) == 1 and ledger.cut("sw", 20, time.time()) == -1
    assert ledger.fanout_done(time.time(), ["sw"]) == 0
    batches = [conn.hget(keys.batch(created["id"], n), "p").decode().split(",") for n in (0, 1)]
    assert sorted(len(b) for b in batches) == [10, 20] and len(set(batches[0]) | set(batches[1])) == 30
    # Resolving again (a re-run of the fan-out job) never rebuilds an audience whose batches are cut.
    conn.hset(keys.broadcast(created["id"]), "resolved", "0")
    conn.hdel(keys.broadcast(created["id"]), "r:sw")
    with pytest.raises(RuntimeError):
        broadcasts.resolve_deferred(conn, created["id"], outbox_config)
    assert conn.scard(keys.resolved(created["id"], "sw")) == 0
