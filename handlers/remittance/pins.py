"""PIN checks: a salted slow hash (scrypt), and a lockout that outlives the session.

A PIN is 4 digits: 10,000 guesses. What protects it is the lockout: :data:`MAX_TRIES` wrong PINs in a row lock
the number for :data:`LOCK_S` seconds, counted per caller pseudonym in Redis, so hanging up and dialling again
does not reset it. Each attempt is counted *before* its PIN is compared (:func:`claim_attempt`), so parallel
sessions from one number cannot squeeze extra guesses in while a check is running. The hash is scrypt (n=2**14,
r=8, p=1: about 50 ms), so a copy of Redis does not hand over PINs cheaply either; the salt is per account.

The PIN itself is a function argument and nothing else: never stored, logged, or put in a session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from redis import Redis

from ..keys import pin_attempts_key, pin_lock_key

MAX_TRIES = 3
LOCK_S = 30 * 60
_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str, salt: bytes | None = None) -> tuple[bytes, bytes]:
    """``(salt, hash)`` for a PIN; a fresh 16-byte salt when none is given."""
    salt = salt or secrets.token_bytes(16)
    return salt, hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def matches(pin: str, salt: bytes, expected: bytes) -> bool:
    return hmac.compare_digest(hash_pin(pin, salt)[1], expected)


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


def record_failure(connection: Redis, caller: str, attempt: Attempt) -> int:
    """After a wrong PIN on a claimed ``attempt``: the tries left (0: the number is now locked for LOCK_S)."""
    left = MAX_TRIES - attempt.number
    if left <= 0:
        pipe = connection.pipeline(transaction=True)
        pipe.set(pin_lock_key(caller), "1", ex=LOCK_S)
        pipe.delete(pin_attempts_key(caller))
        pipe.execute()
        return 0
    return left


def record_success(connection: Redis, caller: str) -> None:
    """A right PIN starts the count afresh."""
    connection.delete(pin_attempts_key(caller))
