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


def test_three_failures_lock_for_thirty_minutes(redis: Redis) -> None:
    assert pins.record_failure(redis, "who") == 2
    assert pins.record_failure(redis, "who") == 1
    assert not pins.lockout(redis, "who").locked
    assert pins.record_failure(redis, "who") == 0
    state = pins.lockout(redis, "who")
    assert state.locked and 1790 <= state.seconds_left <= 1800


def test_success_resets_the_count(redis: Redis) -> None:
    pins.record_failure(redis, "who")
    pins.record_failure(redis, "who")
    pins.record_success(redis, "who")
    assert pins.record_failure(redis, "who") == 2
