"""Failover drills with real processes (CONTRACT §5, issue #10): a primary, a replica and three Sentinels; two
``gateway serve`` and two ``gateway worker`` processes following them; USSD traffic, API writes and a
20,000-recipient broadcast going through the local AT-compatible server.

Drill 1 SIGKILLs the primary mid-broadcast. Drill 2 then restarts the old primary as a replica and fails back to
it (``SENTINEL FAILOVER``) with another broadcast going. After each: ``/ussd`` answered the apology (fast) while
no primary answered and normal screens within 15 s of the promotion; no gateway process was restarted; the
broadcast completed with nobody missing and duplicates within the batches in flight (at most one per worker);
every import and broadcast the API acknowledged is still there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import requests
from redis import Redis

from outbox import keys
from redis_reply import fields, texts
from tests.at_server import ATServer
from tests.redis_topology import MASTER, SentinelGroup, free_port, wait_until

SUBSCRIBERS = 20_000
BATCH = 200
WORKERS = 2
#: A busy provider: each 200-recipient request takes this long, so the broadcast is still going at the kill.
PROVIDER_LATENCY_S = 0.15
PROMOTED_WITHIN_S = 15.0
APOLOGY_WITHIN_S = 1.0


@dataclass
class Answer:
    at: float
    seconds: float
    body: str


@dataclass
class Traffic:
    """USSD callers and API writes against both web processes until stopped; every answer is kept."""

    urls: list[str]
    headers: dict[str, str]
    ussd: list[Answer] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)  # phones the API acknowledged
    broadcasts: list[str] = field(default_factory=list)  # ids the API acknowledged
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self._callers, daemon=True),
                   threading.Thread(target=self._writes, daemon=True)]
        for thread in threads:
            thread.start()
        return threads

    def _callers(self) -> None:
        session = requests.Session()
        n = 0
        while not self.stopped.is_set():
            n += 1
            url = self.urls[n % len(self.urls)]
            form = {"sessionId": f"drill-{n}", "serviceCode": "*384*55#", "phoneNumber": f"+2547120{n % 1000:05d}",
                    "networkCode": "63902", "text": ""}
            started = time.monotonic()
            try:
                body = session.post(url + "/ussd", data=form, timeout=10).text
            except requests.RequestException as exc:
                body = f"HTTP failure {type(exc).__name__}"
            self.ussd.append(Answer(started, time.monotonic() - started, body))
            time.sleep(0.03)

    def _writes(self) -> None:
        session = requests.Session()
        n = 0
        while not self.stopped.is_set():
            n += 1
            url = self.urls[n % len(self.urls)] + "/api/v1"
            phone = f"+2567730{n:05d}"
            try:
                answer = session.post(url + "/subscribers", headers=self.headers, timeout=10, json={
                    "subscribers": [{"phone": phone, "country": "UG", "language": "en", "topics": ["safety"]}]})
                if answer.status_code == 200 and answer.json()["imported"] == 1:
                    self.imported.append(phone)
                answer = session.post(url + "/broadcasts", headers=self.headers, timeout=10, json={
                    "message": {"en": f"drill {n}"}, "audience": {"phones": [phone]}})
                if answer.status_code == 202:
                    self.broadcasts.append(answer.json()["id"])
            except requests.RequestException:
                pass
            time.sleep(0.1)


def _env(group: SentinelGroup, at: ATServer, var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return {**env, **group.env, "GATEWAY_DEV": "1", "GATEWAY_SECRET": "drill-" + "s" * 40,
            "CALLBACK_TOKEN": "", "SMS_PROVIDER": "africastalking", "AT_USERNAME": "drill", "AT_API_KEY": "key",
            "AT_API_URL": at.url, "SMS_BATCH_SIZE": str(BATCH), "SMS_LEASE_S": "20", "SMS_SWEEP_INTERVAL_S": "1",
            "SMS_SEND_RATE": "1000000", "LOG_LEVEL": "WARNING", "GATEWAY_VAR_DIR": str(var), "WEB_THREADS": "4"}


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # kept with the test's files, to read when a drill fails
        return subprocess.Popen([sys.executable, "-m", "gateway", *args], env=env, start_new_session=True,
                                stdout=out, stderr=subprocess.STDOUT)


def _tree(processes: list[subprocess.Popen[bytes]]) -> set[int]:
    """The pids of the gateway's processes and of granian's server workers. RQ's scheduler, a helper that each
    worker forks and forks again when it finds it gone, is not counted: the worker itself must not restart."""
    pids = set()
    for process in processes:
        parent = psutil.Process(process.pid)
        pids.add(parent.pid)
        if "serve" in parent.cmdline():
            pids |= {child.pid for child in parent.children(recursive=True)}
    return pids


def _api_key(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "gateway", "apikey", "create", "drill"], env=env, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    return out.strip().splitlines()[-1]


def _broadcast(url: str, headers: dict[str, str], text: str) -> str:
    answer = requests.post(url + "/api/v1/broadcasts", headers=headers, timeout=30, json={
        "message": {"sw": text}, "audience": {"countries": ["KE"]}})
    assert answer.status_code == 202, answer.text
    assert answer.json()["recipients"] == SUBSCRIBERS
    return answer.json()["id"]


def _wait_done(url: str, headers: dict[str, str], broadcast_id: str, timeout: float = 120) -> dict:
    seen: list[dict] = []

    def done() -> dict | None:
        seen[:] = [requests.get(f"{url}/api/v1/broadcasts/{broadcast_id}", headers=headers, timeout=10).json()]
        return seen[0] if seen[0].get("status") == "done" else None
    try:
        return wait_until(done, f"broadcast {broadcast_id} done", timeout, pause=0.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {seen}") from None


def _check_ussd(answers: list[Answer], down_at: float, promoted_at: float) -> None:
    """Apologies (fast) while no primary answered; normal screens again within 15 s of the promotion."""
    outage = [a for a in answers if down_at + 0.05 < a.at < promoted_at - 0.5]
    assert outage, "no USSD request fell while the primary was gone"
    assert all(a.body.startswith("END ") for a in outage), {a.body[:40] for a in outage}
    assert max(a.seconds for a in outage) < APOLOGY_WITHIN_S
    assert all(a.body.startswith(("CON ", "END ")) for a in answers), "every answer speaks the USSD protocol"
    normal = [a for a in answers if a.at > promoted_at and a.body.startswith("CON ")]
    assert normal, "no normal screen after the promotion"
    assert normal[0].at - promoted_at < PROMOTED_WITHIN_S
    late = [a for a in answers if a.at > promoted_at + PROMOTED_WITHIN_S]
    assert late and all(a.body.startswith("CON ") for a in late), "not whole 15 s after the promotion"


def _check_broadcast(at: ATServer, since: int, phones: set[str], view: dict, primary: Redis) -> int:
    """Everybody reached; duplicates within one batch per worker (the batches in flight). Returns duplicates."""
    requests_ = [s.to for s in at.sent[since:] if s.to and s.to[0] in phones]
    counts = Counter(p for to in requests_ for p in to if p in phones)
    meta = fields(primary.hgetall(keys.broadcast(view["id"])))
    states = Counter(state[:1] for state in texts(primary.hvals(keys.ledger(view["id"]))))
    evidence = (f"view {view['counts']}, nbatches {meta.get('nbatches')}, settled {meta.get('settled')}, "
                f"ledger {dict(states)}, provider requests {len(requests_)}, sizes {Counter(map(len, requests_))}")
    assert set(counts) == phones, f"{len(phones - set(counts))} recipients lost: {evidence}"
    duplicated = sum(n - 1 for n in counts.values())
    assert duplicated <= WORKERS * BATCH, f"{duplicated} duplicates: more than the batches in flight: {evidence}"
    assert view["counts"]["sent"] == SUBSCRIBERS and view["counts"]["queued"] == 0, evidence
    return duplicated


def _check_acknowledged(url: str, headers: dict[str, str], traffic: Traffic) -> None:
    count = requests.get(url + "/api/v1/subscribers/count?country=UG", headers=headers, timeout=10).json()["count"]
    assert count >= len(traffic.imported) > 0, "an acknowledged import was lost"
    assert traffic.broadcasts
    for broadcast_id in traffic.broadcasts:
        assert requests.get(f"{url}/api/v1/broadcasts/{broadcast_id}", headers=headers,
                            timeout=10).status_code == 200, f"acknowledged broadcast {broadcast_id} lost"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_primary_killed_then_failed_back_under_load(tmp_path):
    group = SentinelGroup(tmp_path / "redis").start()
    at = ATServer().start()
    at.behaviour.delay_s = PROVIDER_LATENCY_S
    processes: list[subprocess.Popen[bytes]] = []
    traffic = None
    try:
        env = _env(group, at, tmp_path / "var")
        headers = {"Authorization": f"Bearer {_api_key(env)}"}
        ports = [free_port() for _ in range(2)]
        processes += [_start(["serve", "--port", str(port)], env, tmp_path / f"serve-{port}.log") for port in ports]
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            wait_until(lambda url=url: requests.get(url + "/healthz", timeout=1).status_code == 200,
                       "gateway serve up", 30)
        rows = [{"phone": f"+2547110{i:05d}", "country": "KE", "language": "sw", "topics": ["weather"]}
                for i in range(SUBSCRIBERS)]
        for i in range(0, SUBSCRIBERS, 10_000):
            answer = requests.post(urls[0] + "/api/v1/subscribers", headers=headers, timeout=60,
                                   json={"subscribers": rows[i:i + 10_000]})
            assert answer.status_code == 200 and answer.json()["imported"] == 10_000
        phones = {r["phone"] for r in rows}
        processes += [_start(["worker"], env, tmp_path / f"worker-{i}.log") for i in range(WORKERS)]
        traffic = Traffic(urls, headers)
        traffic.start()
        pids = _tree(processes)

        # Drill 1: SIGKILL the primary while the broadcast is going.
        first = _broadcast(urls[0], headers, "drill one")
        wait_until(lambda: at.requests >= 10, "the broadcast sending", 30)
        old = group.primary_port()
        down_at = time.monotonic()
        group.node(old).kill()
        new = group.wait_promotion(old)
        promoted_at = time.monotonic()
        view = _wait_done(urls[1], headers, first)
        time.sleep(max(0.0, promoted_at + PROMOTED_WITHIN_S + 2 - time.monotonic()))
        _check_ussd(list(traffic.ussd), down_at, promoted_at)
        duplicates_1 = _check_broadcast(at, 0, phones, view, new.client())
        _check_acknowledged(urls[0], headers, traffic)

        # Drill 2: the old primary comes back as a replica of the new one; then fail back to it.
        old_node = group.node(old)
        old_node.args += ["--replicaof", "127.0.0.1", str(new.port)]
        old_node.start()
        wait_until(lambda: old_node.client().info("replication")["master_link_status"] == "up", "resynced", 30)
        wait_until(lambda: group.sentinels[0].client().sentinel_master(MASTER)["num-slaves"] >= 1
                   and all(not r["is_sdown"] for r in group.sentinels[0].client().sentinel_slaves(MASTER)),
                   "Sentinels see the old primary as a replica", 30)
        since = len(at.sent)
        second = _broadcast(urls[1], headers, "drill two")
        wait_until(lambda: len(at.sent) >= since + 10, "the second broadcast sending", 30)
        switch_at = time.monotonic()
        # A planned switch: writes on the current primary pause first, so none lands there after the promotion
        # (SENTINEL FAILOVER alone leaves it taking writes until the Sentinels demote it, and they vanish then).
        new.client().execute_command("CLIENT", "PAUSE", 15_000, "WRITE")
        group.sentinels[0].client().execute_command("SENTINEL", "FAILOVER", MASTER)
        back = group.wait_promotion(new.port)
        assert back.port == old
        promoted_at = time.monotonic()
        view = _wait_done(urls[0], headers, second)
        time.sleep(max(0.0, promoted_at + PROMOTED_WITHIN_S + 2 - time.monotonic()))
        traffic.stopped.set()
        later = [a for a in traffic.ussd if a.at > switch_at]
        assert all(a.seconds < APOLOGY_WITHIN_S for a in later)
        assert [a for a in later if a.at > promoted_at + PROMOTED_WITHIN_S and a.body.startswith("CON ")]
        assert all(a.body.startswith("CON ") for a in later if a.at > promoted_at + PROMOTED_WITHIN_S)
        duplicates_2 = _check_broadcast(at, since, phones, view, back.client())
        _check_acknowledged(urls[1], headers, traffic)

        assert all(p.poll() is None for p in processes), "a gateway process died"
        assert _tree(processes) == pids, "a gateway process was restarted"
        print(f"\ndrill: duplicates {duplicates_1} at the kill, {duplicates_2} at the failback; "
              f"{len(traffic.imported)} imports and {len(traffic.broadcasts)} broadcasts acknowledged")
    finally:
        if traffic is not None:
            traffic.stopped.set()
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)  # reaped, or Popen's finaliser fails the test with a ResourceWarning
        at.stop()
        group.stop()
