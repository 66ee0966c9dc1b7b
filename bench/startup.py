"""Start-up time of ``gateway serve``: from the command to the first 200 on ``/healthz`` (DESIGN.md: under 2 s).

Usage: ``python bench/startup.py [--rounds N] [--redis-url URL] [--importtime FILE]``. Each round starts
``gateway serve`` on a free port as a development machine (``GATEWAY_DEV=1``, the secret kept in a temporary
folder), polls ``/healthz`` every 10 ms, and stops it. Prints each round and the median, in wall time and in CPU
time of the server's processes (steadier than wall time on a shared machine). ``--importtime`` also
runs one round under ``python -X importtime`` and writes the server's import log there, for
``tuna``-style reading (the largest cumulative costs first with ``sort -t'|' -k2 -n``).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_s(pid: int) -> float:
    """CPU seconds (user and system) spent so far by ``pid`` and its children: a busy machine stretches wall time,
    not this."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def one_round(redis_url: str, *, importtime: Path | None = None, timeout: float = 30.0) -> tuple[float, float]:
    """Seconds from starting ``gateway serve`` to its first 200 on /healthz, and the CPU seconds spent by then."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as var:
        env = {**os.environ, "GATEWAY_DEV": "1", "REDIS_URL": redis_url, "GATEWAY_VAR_DIR": var,
               "LOG_LEVEL": "WARNING"}
        flags = ["-X", "importtime"] if importtime else []
        stderr = importtime.open("w") if importtime else subprocess.DEVNULL
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, *flags, "-m", "gateway", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                        if response.status == 200:
                            return time.perf_counter() - started, _cpu_s(proc.pid)
                except (urllib.error.URLError, OSError):
                    pass
                if proc.poll() is not None or time.perf_counter() - started > timeout:
                    raise SystemExit("gateway serve did not come up")
                time.sleep(0.01)
        finally:
            proc.terminate()
            proc.wait(10)
            if importtime:
                stderr.close()  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--importtime", type=Path, default=None, help="write one round's -X importtime log here")
    args = parser.parse_args()
    walls, cpus = [], []
    for n in range(args.rounds):
        seconds, cpu = one_round(args.redis_url)
        walls.append(seconds)
        cpus.append(cpu)
        print(f"round {n + 1}: {seconds:.2f} s to the first 200 on /healthz ({cpu:.2f} s of CPU)")
    print(f"median {statistics.median(walls):.2f} s (best {min(walls):.2f} s), CPU median "
          f"{statistics.median(cpus):.2f} s, over {args.rounds} rounds")
    if args.importtime:
        one_round(args.redis_url, importtime=args.importtime)
        print(f"import log: {args.importtime}")


if __name__ == "__main__":
    main()
