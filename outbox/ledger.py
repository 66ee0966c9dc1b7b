"""The broadcast ledger: every batch's state, changed only by Lua scripts, so no recipient is lost or counted twice.

A broadcast's recipients are cut into immutable batches (``bc:{id}:b:<n>``). The ledger hash ``bc:{id}:ledger``
holds one state per batch:

* ``p<a>:<t>``: pending, attempt ``a``, not before epoch ``t`` (0: as soon as the broadcast is due);
* ``f<a>:<t>``: in flight with attempt ``a``; the lease runs out at epoch ``t``;
* ``s``: handed to the provider and counted; ``x``: settled without sending (cancelled, expired, given up).

A job claims ``p<a>`` → ``f<a>`` (only for its own attempt, so a duplicate or stale job does nothing), sends,
then completes ``f<a>`` → ``s`` and moves the counts in the same script. A worker killed between claim and
complete leaves ``f<a>`` behind; after the lease the sweeper turns it into ``p<a+1>`` and enqueues a new job, so
that batch, and only that batch, may reach the provider twice. Redis restarted from its AOF keeps the ledger.
A broadcast's own keys share the hash tag ``{id}``; the scripts also move the index of active broadcasts and the
fan-out's pop the resolved audience, so the outbox runs on one primary (Sentinel), not on a Cluster (README).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis

from redis_reply import fields

from . import keys, states
from .scripts import Lua
from .states import TERMINAL, BatchState, Status

__all__ = ["TERMINAL", "Claim", "Ledger", "drain_resolved"]

# Shared Lua: settle batch n (B_SENT or B_SETTLED), fix the queued count, and finish the broadcast when every
# batch is settled after the fan-out. Expects locals meta, ledger, bprefix, active, bid, now. keep(key) gives a key
# the record's remaining lifetime, so nothing of a broadcast outlives its record (BROADCAST_TTL_S). The state
# names (ST_*, B_*, TERMINAL) come from outbox.states.
_SETTLE = states.lua() + """
local function keep(key)
  local ttl = redis.call('PTTL', meta)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
local function settle(n, state, skipped)
  local bkey = bprefix .. n
  local size = tonumber(redis.call('HGET', bkey, 'n') or '0')
  redis.call('HSET', ledger, n, state)
  redis.call('HINCRBY', meta, 'queued', 0 - size)
  redis.call('HINCRBY', meta, 'settled', 1)
  redis.call('DEL', bkey)
  return size
end
local function finish_if_settled()
  local f = redis.call('HMGET', meta, 'fanout', 'settled', 'nbatches', 'status')
  if f[1] == '1' and tonumber(f[2] or '0') >= tonumber(f[3] or '0') then
    if f[4] == ST_SCHEDULED or f[4] == ST_SENDING then redis.call('HSET', meta, 'status', ST_DONE) end
    redis.call('HSET', meta, 'finished_at', now)
    redis.call('ZREM', active, bid)
    return 1
  end
  return 0
end
local function stop_all(status, reason)
  local st = redis.call('HGET', meta, 'status')
  if TERMINAL[st] then return st end
  redis.call('HSET', meta, 'status', status)
  if reason ~= '' then redis.call('HSET', meta, 'reason', reason) end
  local all = redis.call('HGETALL', ledger)
  for i = 1, #all, 2 do
    if string.sub(all[i + 1], 1, 1) == B_PENDING then settle(all[i], B_SETTLED) end
  end
  finish_if_settled()
  return status
end
"""

_PRELUDE = """
local meta, ledger, active = KEYS[1], KEYS[2], KEYS[3]
local bid, bprefix, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
""" + _SETTLE

# ARGV[4..]: n, attempt, lease seconds. Returns {'ok', lang, phones, text} or {reason}.
CLAIM = Lua(_PRELUDE + """
local n, attempt, lease = ARGV[4], ARGV[5], tonumber(ARGV[6])
local cur = redis.call('HGET', ledger, n)
if not cur then return {'gone'} end
if string.sub(cur, 1, 1) ~= B_PENDING then return {'stale'} end
local a, nb = string.match(cur, '^.(%d+):([%d.]+)$')
if a ~= attempt then return {'stale'} end
if tonumber(nb) > now then return {'early'} end
local f = redis.call('HMGET', meta, 'status', 'send_at', 'expires_at')
if TERMINAL[f[1]] then
  settle(n, B_SETTLED); finish_if_settled(); return {f[1]}
end
if f[3] and f[3] ~= '' and now >= tonumber(f[3]) then stop_all(ST_EXPIRED, ''); return {ST_EXPIRED} end
if now < tonumber(f[2] or '0') then return {'early'} end
if f[1] == ST_SCHEDULED then redis.call('HSET', meta, 'status', ST_SENDING) end
redis.call('HSET', ledger, n, B_IN_FLIGHT .. attempt .. ':' .. (now + lease))
local b = redis.call('HMGET', bprefix .. n, 'l', 'p')
return {'ok', b[1], b[2], redis.call('HGET', meta, 'text:' .. b[1])}
""")

# ARGV[4..]: n, attempt, sent, failed, opted out, language, retry phones csv ('' for none), retry count, retry
# state, alert calls placed, then reason/count pairs. Recipients the provider refused for a transient reason
# (statusCode 5xx) become a new batch in the retry state. A completion is accepted while the batch is still this
# attempt's or waiting for a re-drive that has not started (which then finds it sent).
COMPLETE = Lua(_PRELUDE + """
local n, attempt = ARGV[4], ARGV[5]
local cur = redis.call('HGET', ledger, n)
if not cur then return 0 end
local kind, a = string.sub(cur, 1, 1), string.match(cur, '^.(%d+):')
if not (kind == B_IN_FLIGHT and a == attempt) and kind ~= B_PENDING then return 0 end
local sent, failed, opted = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
settle(n, B_SENT)
redis.call('HINCRBY', meta, 'sent', sent)
redis.call('HINCRBY', meta, 'failed', failed)
redis.call('HINCRBY', meta, 'opted_out', opted)
redis.call('HINCRBY', meta, 'recipients', 0 - opted)
if tonumber(ARGV[13]) > 0 then redis.call('HINCRBY', meta, 'called', tonumber(ARGV[13])) end
local retry_count = tonumber(ARGV[11])
if retry_count > 0 then
  local m = redis.call('HINCRBY', meta, 'nbatches', 1) - 1
  redis.call('HSET', bprefix .. m, 'l', ARGV[9], 'n', retry_count, 'p', ARGV[10])
  redis.call('HSET', ledger, m, ARGV[12])
  redis.call('HINCRBY', meta, 'queued', retry_count)
  keep(bprefix .. m)
end
for i = 14, #ARGV, 2 do redis.call('HINCRBY', KEYS[4], ARGV[i], tonumber(ARGV[i + 1])) end
keep(KEYS[4])
finish_if_settled()
return 1
""")

# ARGV[4..]: n, attempt, next state ('' to give up), reason. A transient failure: try again later, or give up
# and count the batch's recipients as failed.
RELEASE = Lua(_PRELUDE + """
local n, attempt, nxt, reason = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local cur = redis.call('HGET', ledger, n)
if not cur then return 0 end
local kind, a = string.sub(cur, 1, 1), string.match(cur, '^.(%d+):')
if (kind ~= B_IN_FLIGHT and kind ~= B_PENDING) or a ~= attempt then return 0 end
if nxt ~= '' then redis.call('HSET', ledger, n, nxt); return 1 end
local size = settle(n, B_SETTLED)
redis.call('HINCRBY', meta, 'failed', size)
redis.call('HINCRBY', KEYS[4], reason, size)
keep(KEYS[4])
finish_if_settled()
return 2
""")

# ARGV[4..]: n, expected state, new state. The sweeper's compare-and-set for re-drives.
REDRIVE = Lua("""
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
""")

# ARGV[4..]: status, reason. Cancel, expire or fail: every batch not yet handed to the provider is settled.
STOP = Lua(_PRELUDE + """
return stop_all(ARGV[4], ARGV[5])
""")

# KEYS[5]: a resolved audience set. ARGV[4..]: language, count. Move up to ``count`` members of the resolved
# audience into the next batch and its ledger entry, in one step. Returns the batch's number; -1 once the set is
# drained; -2 once the broadcast has stopped (nothing popped: drain_resolved uncounts what is left); -3 while the
# audience is not resolved on this server (outbox.broadcasts.resolve_deferred). One script, so whichever primary
# runs it, a chunk is never popped without its batch nor batched twice: a fan-out whose steps (pop, then write the
# batch) landed on two primaries during a switch lost a chunk or sent one twice (tests/test_failover_drill.py).
CUT = Lua(_PRELUDE + """
local resolved, lang, count = KEYS[5], ARGV[4], tonumber(ARGV[5])
local f = redis.call('HMGET', meta, 'status', 'resolved')
if TERMINAL[f[1]] then return -2 end
if f[2] == '0' then return -3 end
local members = redis.call('SPOP', resolved, count)
if #members == 0 then return -1 end
local seq = redis.call('HINCRBY', meta, 'nbatches', 1) - 1
redis.call('HSET', bprefix .. seq, 'l', lang, 'n', #members, 'p', table.concat(members, ','))
redis.call('HSET', ledger, seq, B_PENDING .. '0:0')
keep(bprefix .. seq)
keep(ledger)
return seq
""")

# KEYS[5..]: the resolved audience sets. Mark the fan-out complete, and finish at once if nothing is left (an empty
# audience), only when every resolved set on this server is drained and the audience was resolved here; else -1,
# and the fan-out goes on.
FANOUT_DONE = Lua(_PRELUDE + """
if redis.call('HGET', meta, 'resolved') == '0' then return -1 end
for i = 5, #KEYS do
  if redis.call('SCARD', KEYS[i]) > 0 then return -1 end
end
redis.call('HSET', meta, 'fanout', '1')
return finish_if_settled()
""")


def pending_state(attempt: int, not_before: float = 0.0) -> str:
    """The ledger state of a batch waiting for ``attempt`` (from ``not_before``, an epoch; 0 for at once)."""
    return f"{BatchState.PENDING}{attempt}:{not_before!r}" if not_before else f"{BatchState.PENDING}{attempt}:0"


@dataclass(frozen=True)
class Claim:
    outcome: str
    language: str = ""
    phones: tuple[str, ...] = ()
    text: str = ""


class Ledger:
    """The scripts bound to one broadcast's keys."""

    def __init__(self, connection: Redis, broadcast_id: str) -> None:
        self.connection = connection
        self.id = broadcast_id
        self._keys = [keys.broadcast(broadcast_id), keys.ledger(broadcast_id), keys.active_broadcasts(),
                      keys.reasons(broadcast_id)]
        self._prefix = keys.batch(broadcast_id, 0)[:-1]

    def _run(self, source: Lua, now: float, *args: Any) -> Any:
        return source(self.connection, self._keys, [self.id, self._prefix, repr(now), *args])

    def claim(self, number: int, attempt: int, now: float, lease_s: int) -> Claim:
        rv = self._run(CLAIM, now, number, attempt, lease_s)
        outcome = rv[0].decode()
        if outcome != "ok":
            return Claim(outcome)
        phones = tuple(rv[2].decode().split(",")) if rv[2] else ()
        return Claim("ok", rv[1].decode(), phones, rv[3].decode() if rv[3] else "")

    def complete(self, number: int, attempt: int, now: float, *, sent: int, failed: int, opted_out: int,
                 reasons: Mapping[str, int], language: str = "", retry: Sequence[str] = (),
                 retry_at: float = 0.0, called: int = 0) -> bool:
        """Settle the batch as sent; ``retry`` numbers go into a new batch for the next attempt at ``retry_at``.
        ``called``: recipients reached by an alert call instead of an SMS (:mod:`outbox.voice`)."""
        pairs = [x for name, n in reasons.items() for x in (name, n)]
        return bool(self._run(COMPLETE, now, number, attempt, sent, failed, opted_out, language, ",".join(retry),
                              len(retry), pending_state(attempt + 1, retry_at), called, *pairs))

    def release(self, number: int, attempt: int, now: float, *, retry_at: float | None, reason: str) -> int:
        nxt = pending_state(attempt + 1, retry_at) if retry_at is not None else ""
        return int(self._run(RELEASE, now, number, attempt, nxt, reason))

    def redrive(self, number: int, expected: str, new: str) -> bool:
        return bool(REDRIVE(self.connection, [keys.ledger(self.id)], [number, expected, new]))

    def stop(self, status: Status, now: float, reason: str = "") -> str:
        rv = self._run(STOP, now, status, reason)
        return rv.decode() if isinstance(rv, bytes) else str(rv)

    def cut(self, language: str, count: int, now: float) -> int:
        """The next batch from the resolved audience of ``language``: its number, or -1 drained, -2 stopped,
        -3 not resolved (see :data:`CUT`)."""
        return int(CUT(self.connection, [*self._keys, keys.resolved(self.id, language)],
                       [self.id, self._prefix, repr(now), language, count]))

    def fanout_done(self, now: float, languages: Sequence[str]) -> int:
        """Mark the fan-out done once every resolved set is drained: 1 finished, 0 done, -1 not drained."""
        return int(FANOUT_DONE(self.connection, [*self._keys, *(keys.resolved(self.id, lang) for lang in languages)],
                               [self.id, self._prefix, repr(now)]))

    def states(self) -> dict[int, str]:
        return {int(k): v for k, v in fields(self.connection.hgetall(keys.ledger(self.id))).items()}


# KEYS: a resolved audience set. Drop what is left of it and say how many that was.
DRAIN = Lua("""
local n = redis.call('SCARD', KEYS[1])
redis.call('DEL', KEYS[1])
return n
""")


def drain_resolved(connection: Redis, broadcast_id: str, languages: list[str]) -> None:
    """Drop the not-yet-batched part of a stopped broadcast's audience, and take it off the queued count."""
    dropped = sum(int(DRAIN(connection, [keys.resolved(broadcast_id, lang)])) for lang in languages)
    if dropped:
        connection.hincrby(keys.broadcast(broadcast_id), "queued", -dropped)
