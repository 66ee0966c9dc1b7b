"""The one way the gateway connects to Redis.

Timeouts are short and redis-py's own retries are off: a USSD caller must get an apology in well under a
second when Redis is down, not after redis-py's default exponential back-off. The pool blocks (briefly) instead
of failing when every connection is busy, and is sized to the server's threads, because redis-py's default pool
(100) is smaller than granian's default thread count and raised ``Too many connections`` under load
(bench-reference/RESULTS.md).
"""

from __future__ import annotations

from redis import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

CONNECT_TIMEOUT_S = 0.25
SOCKET_TIMEOUT_S = 0.5
POOL_WAIT_S = 1.0
DEFAULT_POOL_SIZE = 64


def connect(url: str, *, pool_size: int = DEFAULT_POOL_SIZE, socket_timeout: float = SOCKET_TIMEOUT_S) -> Redis:
    """A client for ``url`` (``redis://``, ``rediss://`` or ``unix://``) with the gateway's timeouts."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=POOL_WAIT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=socket_timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )
    return Redis(connection_pool=pool, retry=Retry(NoBackoff(), 0))
