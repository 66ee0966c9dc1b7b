"""PIN hashing and the lockout counter."""

from __future__ import annotations

from redis import Redis

from handlers.remittance import pins


def test_hash_is_salted_and_checks() -> None:
    salt, digest = pins.hash_pin("1234")
    other_salt, other = pins.hash_pin("1234")
    assert salt != other_salt and digest != other
    assert pins.matches("1234", salt, digest) and not pins.matches("1235", salt, digest)
    assert b"1234" not in digest


def _fail(redis: Redis, caller: str) -> int:
    attempt = pins.claim_attempt(redis, caller)
    assert attempt.allowed
    return pins.record_failure(redis, caller, attempt)


def test_three_failures_lock_for_thirty_minutes(redis: Redis) -> None:
    assert _fail(redis, "who") == 2
    assert _fail(redis, "who") == 1
    assert not pins.lockout(redis, "who").locked
    assert _fail(redis, "who") == 0
    state = pins.lockout(redis, "who")
    assert state.locked and 1790 <= state.seconds_left <= 1800
    refused = pins.claim_attempt(redis, "who")
    assert not refused.allowed and 1790 <= refused.seconds_left <= 1800


def test_success_resets_the_count(redis: Redis) -> None:
    _fail(redis, "who")
    _fail(redis, "who")
    pins.record_success(redis, "who")
    assert _fail(redis, "who") == 2


def test_attempts_are_counted_before_the_check(redis: Redis) -> None:
    """Three attempts still being checked use up the window: a fourth is refused before any PIN is compared."""
    claimed = [pins.claim_attempt(redis, "who") for _ in range(pins.MAX_TRIES)]
    assert [a.number for a in claimed] == [1, 2, 3] and all(a.allowed for a in claimed)
    fourth = pins.claim_attempt(redis, "who")
    assert not fourth.allowed and fourth.seconds_left > 0
    assert not pins.lockout(redis, "who").locked  # no lock yet: the third may still turn out right
    assert pins.record_failure(redis, "who", claimed[2]) == 0
    assert pins.lockout(redis, "who").locked and not pins.claim_attempt(redis, "who").allowed
