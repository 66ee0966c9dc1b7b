"""A token bucket in Redis: every worker sending through one provider account shares one send rate.

The bucket refills at ``rate`` tokens (recipients) per second up to ``capacity`` and is read and changed in one
script using Redis's clock, so workers on several machines with skewed clocks still share it fairly.
"""

from __future__ import annotations

import time

from redis import Redis

from . import keys
from .scripts import Lua

# KEYS: bucket. ARGV: rate per second, capacity, tokens wanted. Returns 0 when taken, else seconds to wait.
_TAKE = Lua("""
local rate, capacity, want = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local f = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(f[1] or capacity), tonumber(f[2] or now)
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= want then tokens = tokens - want else wait = (want - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
""")
#: Longest single sleep while waiting for tokens, so a stop request is noticed.
MAX_SLEEP_S = 1.0


def acquire(connection: Redis, account: str, tokens: int, *, rate: float, capacity: float) -> float:
    """Block until ``tokens`` may be spent; returns the seconds waited."""
    capacity = max(capacity, tokens)
    waited = 0.0
    while True:
        wait = float(_TAKE(connection, [keys.throttle(account)], [rate, capacity, tokens]))
        if wait <= 0:
            return waited
        pause = min(wait, MAX_SLEEP_S)
        time.sleep(pause)
        waited += pause
