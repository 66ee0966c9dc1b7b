"""PIN checks: a keyed, salted slow hash, and a lockout that outlives the session and escalates.

A PIN is 4 digits: 10,000 guesses. What protects it is the lockout: :data:`MAX_TRIES` wrong PINs in a row lock
the number, counted per caller pseudonym in Redis, so hanging up and dialling again does not reset it. Each
attempt is counted *before* its PIN is compared (:func:`claim_attempt`), so parallel sessions from one number
cannot squeeze extra guesses in while a check is running. Lockouts escalate (:data:`LOCK_STEPS_S`: 30 minutes,
then 4 hours) and are remembered for :data:`LOCKOUT_MEMORY_S`; the lockout after those asks for the account to
be linked again and drops its PIN hash, so a number gets at most ``MAX_TRIES × (len(LOCK_STEPS_S) + 1)`` guesses
(9 in 10,000) before only the provider can let it in again. A right PIN forgets earlier lockouts.

The hash is :meth:`identity.keyring.Keyring.pin_hash` (scrypt keyed by ``GATEWAY_SECRET``, salted per account):
a copy of Redis without the secret cannot test a single PIN. The PIN itself is a function argument and nothing
else: never stored, logged, or put in a session.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from redis import Redis

from identity.keyring import Keyring

from ..keys import pin_attempts_key, pin_lock_key, pin_lockouts_key

MAX_TRIES = 3
#: How long the first, second … lockout lasts; the one after the last asks for the account to be linked again.
LOCK_STEPS_S = (30 * 60, 4 * 3600)
LOCK_S = LOCK_STEPS_S[0]
#: How long earlier lockouts count towards the next one's length.
LOCKOUT_MEMORY_S = 30 * 24 * 3600


def matches(keyring: Keyring, pin: str, salt: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(keyring.pin_hash(pin, salt), expected)


@dataclass(frozen=True)
class Failure:
    """After a wrong PIN: ``left`` tries before a lockout; else locked for ``locked_s``, or ``relink`` (the
    account must be linked again)."""

    left: int
    locked_s: int = 0
    relink: bool = False


@dataclass(frozen=True)
class Lockout:
    """Whether a caller is locked out, and for how many more seconds."""

    locked: bool
    seconds_left: int = 0


@dataclass(frozen=True)
class Attempt:
    """A PIN attempt, counted before the PIN is checked: ``number`` (1 to :data:`MAX_TRIES`) when the check may
    go ahead, else refused for ``seconds_left``."""

    allowed: bool
    number: int = 0
    seconds_left: int = 0


# Refuse while locked; else count the attempt (the window restarts with each one) and refuse past MAX_TRIES.
# KEYS: attempts, lock. ARGV: max tries, window seconds. Returns the attempt's number, or -seconds when refused.
_CLAIM = """
local locked = redis.call('TTL', KEYS[2])
if locked ~= -2 then return -math.max(locked, 1) end
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
if n > tonumber(ARGV[1]) then return -ARGV[2] end
return n
"""


def lockout(connection: Redis, caller: str) -> Lockout:
    """Read-only: for the screen before the PIN. What decides whether a PIN is checked is :func:`claim_attempt`."""
    ttl = connection.ttl(pin_lock_key(caller))
    if ttl is not None and ttl > 0:
        return Lockout(True, int(ttl))
    return Lockout(False)


def claim_attempt(connection: Redis, caller: str) -> Attempt:
    """Count one attempt before the PIN is compared, atomically. Checking the lock, hashing (~50 ms) and only then
    counting the failure let parallel sessions from one number each get a guess in that window; counted first,
    at most :data:`MAX_TRIES` comparisons are ever made per window, however many arrive together."""
    keys = [pin_attempts_key(caller), pin_lock_key(caller)]
    result = int(connection.register_script(_CLAIM)(keys=keys, args=[MAX_TRIES, LOCK_S]))
    if result < 0:
        return Attempt(False, seconds_left=-result)
    return Attempt(True, number=result)


# The last allowed try failed: count the lockout and lock for its step, or (past the steps) report a relink.
# KEYS: attempts, lock, lockouts. ARGV: lock steps csv, memory seconds. Returns seconds locked, or 0 for relink.
_LOCK = """
local n = redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[1])
local steps = {}
for s in string.gmatch(ARGV[1], '[^,]+') do steps[#steps + 1] = tonumber(s) end
if n > #steps then return 0 end
redis.call('SET', KEYS[2], '1', 'EX', steps[n])
return steps[n]
"""


def record_failure(connection: Redis, caller: str, attempt: Attempt) -> Failure:
    """After a wrong PIN on a claimed ``attempt``: the tries left, or the lockout it caused."""
    left = MAX_TRIES - attempt.number
    if left > 0:
        return Failure(left)
    locked = int(connection.register_script(_LOCK)(
        keys=[pin_attempts_key(caller), pin_lock_key(caller), pin_lockouts_key(caller)],
        args=[",".join(map(str, LOCK_STEPS_S)), LOCKOUT_MEMORY_S]))
    return Failure(0, locked_s=locked, relink=locked == 0)


def record_success(connection: Redis, caller: str) -> None:
    """A right PIN starts the count afresh and forgets earlier lockouts."""
    connection.delete(pin_attempts_key(caller), pin_lockouts_key(caller))


def forget(connection: Redis, caller: str) -> None:
    """A newly linked account starts with no attempts, lock or lockouts."""
    connection.delete(pin_attempts_key(caller), pin_lock_key(caller), pin_lockouts_key(caller))
