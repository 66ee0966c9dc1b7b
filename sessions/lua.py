"""Lua scripts on the USSD hot path, run by ``EVALSHA`` with as little client work as a call can have.

redis-py's ``Script`` goes through ``Redis.execute_command``: a pool checkout and release, a retry wrapper,
observability hooks, argument encoding in Python and response callbacks, which together were half of the
client's CPU for a USSD request (bench/RESULTS.md). Here each thread keeps one connection from the client's own
pool (so TLS, AUTH, the database and Sentinel's choice of primary stay the pool's business, as everywhere else),
packs the command with hiredis and reads the reply straight back. A connection that fails is dropped and handed
back to the pool, so the next call connects afresh (to the new primary after a failover).

On a Redis Cluster (a ``RedisCluster`` client) each call goes through the cluster client instead, which sends it to
the node that owns the keys' slot and follows ``MOVED``/``ASK``: every script here touches the keys of one caller,
all under the hash tag ``{<caller>}`` (:mod:`sessions.keys`), so one slot (tests/test_cluster.py).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol, cast

from hiredis import pack_command
from redis import Redis, RedisCluster
from redis.connection import Connection
from redis.exceptions import ConnectionError, NoScriptError, ReadOnlyError, RedisError, TimeoutError

#: A thread hands its connection back to the pool and takes one again at least this often, so that the pool's
#: checks run as for every other client: a connection the server closed (a restart) is replaced, and with
#: Sentinel, one to a primary that was switched away from is closed (gateway.redis_client.RECHECK_S).
HOLD_S = 1.0


class SessionScript:
    """One script: its source and the SHA1 Redis knows it by (computed once, at import)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()


class _Wire(Protocol):
    """The part of redis-py's connection used here (its methods are untyped)."""

    def send_packed_command(self, command: list[bytes], check_health: bool = ...) -> None: ...

    def read_response(self) -> Any: ...

    def disconnect(self) -> None: ...


class ScriptRunner:
    """Runs :class:`SessionScript` s on a connection kept per thread. Thread-safe: threads never share one."""

    def __init__(self, connection: Redis | RedisCluster) -> None:
        self.cluster = connection if isinstance(connection, RedisCluster) else None
        self.pool = None if isinstance(connection, RedisCluster) else connection.connection_pool
        self._local = threading.local()

    def __call__(self, script: SessionScript, keys: Sequence[str], args: Sequence[str | int]) -> Any:
        if self.cluster is not None:
            return self._on_cluster(self.cluster, script, keys, args)
        assert self.pool is not None
        conn: Connection | None = getattr(self._local, "conn", None)
        now = time.monotonic()
        if conn is not None and now - self._local.taken >= HOLD_S:
            self._local.conn = None
            self.pool.release(conn)
            conn = None
        if conn is None:
            conn = self._local.conn = self.pool.get_connection()
            self._local.taken = now
        wire = cast(_Wire, conn)
        try:
            wire.send_packed_command([_pack("EVALSHA", script.sha, keys, args)], False)
            try:
                return wire.read_response()
            except NoScriptError:  # a new or restarted Redis (or a new primary): load it with the call
                wire.send_packed_command([_pack("EVAL", script.source, keys, args)], False)
                return wire.read_response()
        except BaseException as exc:
            # An error reply leaves the connection in step; anything else (broken, timed out, interrupted, or
            # talking to a former primary) drops it, and the next call gets a fresh one from the pool.
            if not isinstance(exc, RedisError) or isinstance(exc, ConnectionError | TimeoutError | ReadOnlyError):
                self._drop(conn)
            raise

    def _drop(self, conn: Connection) -> None:
        self._local.conn = None
        cast(_Wire, conn).disconnect()
        assert self.pool is not None
        self.pool.release(conn)

    @staticmethod
    def _on_cluster(cluster: RedisCluster, script: SessionScript, keys: Sequence[str],
                    args: Sequence[str | int]) -> Any:
        try:
            return cluster.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:  # a node that has not seen it yet
            return cluster.eval(script.source, len(keys), *keys, *args)


def _pack(command: str, script: str, keys: Sequence[str], args: Sequence[str | int]) -> bytes:
    parts: tuple[str | int, ...] = (command, script, len(keys), *keys, *args)
    packed: bytes = pack_command(parts)  # type: ignore[arg-type]  # hiredis's stub types the argument as a 1-tuple
    return packed
