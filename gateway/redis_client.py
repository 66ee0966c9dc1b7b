"""The one place every Redis client of the gateway is built: from ``REDIS_URL``, from Sentinel, or embedded.

Timeouts are short and redis-py's own retries are off: a USSD caller must get an apology in well under a
second when Redis is down, not after redis-py's default exponential back-off. The pool blocks (briefly) instead
of failing when every connection is busy, and is sized to the server's threads, because redis-py's default pool
(100) is smaller than granian's default thread count and raised ``Too many connections`` under load
(bench-reference/RESULTS.md).

With ``REDIS_SENTINELS`` the client follows the primary the Sentinels name (redis-py's Sentinel support): every
new connection asks the Sentinels where the primary is, a connection to a demoted primary is dropped on its first
``READONLY`` answer, and while no primary is known every call fails at once with ``MasterNotFoundError`` (a
``ConnectionError``), which the USSD path turns into its apology and ``/healthz`` into 503. Nothing restarts.

Replication is asynchronous, so a write the primary took may be lost if it dies before a replica has it.
:func:`wait_for_replica` closes that gap for the writes the API acknowledges (CONTRACT §5).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from redis import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelConnectionPool

from . import embedded_redis
from .config import Settings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 0.25
SOCKET_TIMEOUT_S = 0.5
POOL_WAIT_S = 1.0
DEFAULT_POOL_SIZE = 64
#: With Sentinel, how often a process asks the Sentinels where the primary is even when nothing failed.
RECHECK_S = 1.0
#: How long an acknowledged write waits for a replica to confirm it (``WAIT``) before the API answers 503.
REPLICA_WAIT_MS = 2000
#: A tiny key written just before ``WAIT``: ``WAIT`` covers the writes of its own connection, and this write on
#: that connection comes after every write of the request (whichever pooled connection made them).
_MARK_KEY = "gateway:replication-mark"


class _SentinelBlockingPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's primary discovery with the blocking pool's bounded size (see the module's docstring).

    redis-py asks the Sentinels only when it opens a connection, so an open connection to a primary that has been
    replaced (a planned switch, where the old primary still answers until the Sentinels demote it) would keep
    writing there, and those writes vanish at the demotion. At most every :data:`RECHECK_S` a checkout asks the
    Sentinels again; when the primary moved, idle connections are closed and busy ones on their release.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._checked_at = 0.0

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now - self._checked_at >= RECHECK_S:
            self._checked_at = now
            try:
                self.get_master_address()
            except RedisConnectionError:
                pass  # no primary: the connection's own connect() says so
        return super().get_connection(*args, **kwargs)


def resolve(settings: Settings) -> Settings:
    """``settings`` with a Redis to use: unchanged with Sentinels or ``REDIS_URL``, else the embedded server
    (started if needed)."""
    if settings.redis_sentinels or settings.redis_url:
        return settings
    return settings.with_redis(embedded_redis.ensure_running(settings.var_dir))


def connect(target: Settings | str, *, pool_size: int = DEFAULT_POOL_SIZE,
            socket_timeout: float = SOCKET_TIMEOUT_S) -> Redis:
    """A client with the gateway's timeouts for ``target``: the Sentinels' primary, the settings' URL (the
    embedded server when neither is set), or a URL (``redis://``, ``rediss://``, ``unix://``)."""
    common: dict[str, Any] = {
        "max_connections": pool_size, "timeout": POOL_WAIT_S, "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_timeout": socket_timeout, "retry": Retry(NoBackoff(), 0), "health_check_interval": 30,
    }
    pool: BlockingConnectionPool
    if isinstance(target, Settings) and target.redis_sentinels:
        sentinel = Sentinel(list(target.redis_sentinels), sentinel_kwargs={
            "socket_connect_timeout": CONNECT_TIMEOUT_S, "socket_timeout": SOCKET_TIMEOUT_S,
            "retry": Retry(NoBackoff(), 0)})
        pool = _SentinelBlockingPool(target.redis_sentinel_master, sentinel, **common)
    else:
        url = target if isinstance(target, str) else resolve(target).redis_url
        assert url is not None
        pool = BlockingConnectionPool.from_url(url, **common)
    return Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))


def export(settings: Settings) -> Settings:
    """:func:`resolve`, and put the embedded server's URL in the environment so child processes share it."""
    resolved = resolve(settings)
    if resolved.redis_url and not settings.redis_url and not settings.redis_sentinels:
        os.environ["REDIS_URL"] = resolved.redis_url
    return resolved


def wait_for_replica(connection: Redis, timeout_ms: int = REPLICA_WAIT_MS) -> bool:
    """Block until a replica holds every write made so far, when there is a replica; True when one does (or
    there is none to wait for), False when none confirmed in time.

    Call it after an acknowledged write and before answering: a failover then promotes a replica that has it.
    A replica counts when the primary lists it or, with Sentinel, when the Sentinels see one up: a primary whose
    replica was just promoted lists none, still takes writes until the Sentinels demote it, and then drops them,
    so trusting its own list alone would acknowledge writes that are about to vanish.
    """
    role = connection.execute_command("ROLE")
    replicas = len(role[2]) if role and role[0] in (b"master", "master") else 0
    pool = connection.connection_pool
    if not replicas and isinstance(pool, SentinelConnectionPool):
        replicas = len(pool.sentinel_manager.discover_slaves(pool.service_name))
    if not replicas:
        return True
    with connection.pipeline(transaction=False) as pipe:  # one connection: WAIT covers the mark's offset
        pipe.set(_MARK_KEY, "1", px=60_000)
        pipe.execute_command("WAIT", 1, timeout_ms)
        _, acked = pipe.execute()
    if int(acked) < 1:
        log.warning("No replica confirmed a write within %d ms.", timeout_ms)
        return False
    return True
