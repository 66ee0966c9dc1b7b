"""Delivery reports: map AT's message id back to its broadcast and count each outcome once.

Each message id handed to us by the provider gets one key ``sms:msg:{<id>}`` = ``<broadcast>|<status>``. A report
changes the status only while it is not final, so duplicates and late intermediate reports (``Buffered`` after
``Success``) change nothing. A report that arrives before the send job recorded the id is kept as ``?|<status>``
and applied when the id is recorded. The count moves in the same script that makes the status final, so a Redis
failure cannot leave a final status whose count was never moved (AT's retry would then be "seen"). That script
writes the broadcast's record too, a key of another hash slot: atomicity matters more here than Cluster slots.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis

from . import keys
from .config import MESSAGE_TTL_S
from .scripts import Lua

DELIVERED = frozenset({"Success", "Delivered"})
FAILED = frozenset({"Failed", "Rejected", "AbsentSubscriber", "Expired"})
FINAL = DELIVERED | FAILED
#: The broadcast id recorded for individual messages (no counts to move).
SINGLE = "m"


def count_field(status: str) -> str | None:
    if status in DELIVERED:
        return "delivered"
    if status in FAILED:
        return "failed"
    return None


_FINAL_LUA = "{" + ", ".join(f"['{s}'] = true" for s in sorted(FINAL)) + "}"
# Final status → the count it moves; count(meta, status) adds one to a broadcast record that still exists.
_COUNT_LUA = """
local fields = {""" + ", ".join(f"['{s}'] = '{count_field(s)}'" for s in sorted(FINAL)) + """}
local function count(meta, status)
  if fields[status] and redis.call('EXISTS', meta) == 1 then redis.call('HINCRBY', meta, fields[status], 1) end
end
"""

# KEYS: the broadcast record (only when ARGV[3] is 2; none for single messages), then every message key of one
# provider answer. ARGV: broadcast id, ttl, index of the first message key. Each id is recorded once; an early
# report kept as ``?|<status>`` is applied (and its final status counted). One script per batch: a pipeline of 500
# single-key scripts was 40 % of a worker's time per batch (bench/RESULTS.md). Returns the early finals counted.
_RECORD = Lua("""
local final = """ + _FINAL_LUA + _COUNT_LUA + """
local bid, ttl, first = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local counted = 0
for i = first, #KEYS do
  local cur = redis.call('GET', KEYS[i])
  if cur and string.sub(cur, 1, 2) == '?|' then
    local status = string.sub(cur, 3)
    redis.call('SET', KEYS[i], bid .. '|' .. status, 'EX', ttl)
    if final[status] then
      if first == 2 then count(KEYS[1], status) end
      counted = counted + 1
    end
  elseif not cur then
    redis.call('SET', KEYS[i], bid .. '|', 'EX', ttl)
  end
end
return counted
""")

# KEYS: message key. ARGV: status, ttl, broadcast record key format (``%s`` for the id), the single-message id.
# Returns {'final', broadcast} when this report settles the message (its count moved), {'early'} when the id is
# not known yet, {'seen'} otherwise.
_REPORT = Lua("""
local final = """ + _FINAL_LUA + _COUNT_LUA + """
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], '?|' .. ARGV[1], 'EX', tonumber(ARGV[2]))
  return {'early'}
end
local sep = string.find(cur, '|', 1, true)
local bid, old = string.sub(cur, 1, sep - 1), string.sub(cur, sep + 1)
if final[old] or old == ARGV[1] then return {'seen'} end
redis.call('SET', KEYS[1], bid .. '|' .. ARGV[1], 'KEEPTTL')
if bid ~= '?' and final[ARGV[1]] then
  if bid ~= ARGV[4] then count(string.format(ARGV[3], bid), ARGV[1]) end
  return {'final', bid}
end
return {'seen'}
""")


def record_sent(connection: Redis, broadcast_id: str, message_ids: Iterable[str]) -> None:
    """Remember which broadcast each message id belongs to; count reports that came first."""
    record = [] if broadcast_id == SINGLE else [keys.broadcast(broadcast_id)]
    messages = [keys.message(message_id) for message_id in message_ids]
    if messages:
        _RECORD(connection, [*record, *messages], [broadcast_id, MESSAGE_TTL_S, len(record) + 1])


def report(connection: Redis, message_id: str, status: str) -> str:
    """Apply one delivery report; returns 'counted', 'early' or 'seen'."""
    rv = _REPORT(connection, [keys.message(message_id)], [status, MESSAGE_TTL_S, keys.broadcast("%s"), SINGLE])
    outcome = rv[0].decode()
    return "counted" if outcome == "final" else outcome
