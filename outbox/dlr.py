"""Delivery reports: map AT's message id back to its broadcast and count each outcome once.

Each message id handed to us by the provider gets one key ``sms:msg:{<id>}`` = ``<broadcast>|<status>``. A report
changes the status only while it is not final, so duplicates and late intermediate reports (``Buffered`` after
``Success``) change nothing. A report that arrives before the send job recorded the id is kept as ``?|<status>``
and applied when the id is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis

from . import keys
from .config import MESSAGE_TTL_S

DELIVERED = frozenset({"Success", "Delivered"})
FAILED = frozenset({"Failed", "Rejected", "AbsentSubscriber", "Expired"})
FINAL = DELIVERED | FAILED
#: The broadcast id recorded for individual messages (no counts to move).
SINGLE = "m"

_FINAL_LUA = "{" + ", ".join(f"['{s}'] = true" for s in sorted(FINAL)) + "}"

# KEYS: message key. ARGV: broadcast id, ttl. Returns an early final status to apply, or nil.
_RECORD = """
local final = """ + _FINAL_LUA + """
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, 2) == '?|' then
  local status = string.sub(cur, 3)
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. status, 'EX', tonumber(ARGV[2]))
  if final[status] then return status end
  return false
end
if not cur then redis.call('SET', KEYS[1], ARGV[1] .. '|', 'EX', tonumber(ARGV[2])) end
return false
"""

# KEYS: message key. ARGV: status, ttl. Returns {'final', broadcast} when this report settles the message,
# {'early'} when the id is not known yet, {'seen'} otherwise.
_REPORT = """
local final = """ + _FINAL_LUA + """
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], '?|' .. ARGV[1], 'EX', tonumber(ARGV[2]))
  return {'early'}
end
local sep = string.find(cur, '|', 1, true)
local bid, old = string.sub(cur, 1, sep - 1), string.sub(cur, sep + 1)
if final[old] or old == ARGV[1] then return {'seen'} end
redis.call('SET', KEYS[1], bid .. '|' .. ARGV[1], 'KEEPTTL')
if bid ~= '?' and final[ARGV[1]] then return {'final', bid} end
return {'seen'}
"""


def count_field(status: str) -> str | None:
    if status in DELIVERED:
        return "delivered"
    if status in FAILED:
        return "failed"
    return None


def record_sent(connection: Redis, broadcast_id: str, message_ids: Iterable[str]) -> None:
    """Remember which broadcast each message id belongs to; apply reports that came first."""
    script = connection.register_script(_RECORD)
    pipe = connection.pipeline(transaction=False)
    for message_id in message_ids:
        script(keys=[keys.message(message_id)], args=[broadcast_id, MESSAGE_TTL_S], client=pipe)
    early = [s.decode() for s in pipe.execute() if s]
    if broadcast_id != SINGLE:
        pipe = connection.pipeline(transaction=False)
        for status in early:
            field = count_field(status)
            if field:
                pipe.hincrby(keys.broadcast(broadcast_id), field, 1)
        pipe.execute()


def report(connection: Redis, message_id: str, status: str) -> str:
    """Apply one delivery report; returns 'counted', 'early' or 'seen'."""
    rv = connection.register_script(_REPORT)(keys=[keys.message(message_id)], args=[status, MESSAGE_TTL_S])
    outcome = rv[0].decode()
    if outcome != "final":
        return outcome
    broadcast_id = rv[1].decode()
    field = count_field(status)
    if broadcast_id != SINGLE and field:
        connection.hincrby(keys.broadcast(broadcast_id), field, 1)
    return "counted"
