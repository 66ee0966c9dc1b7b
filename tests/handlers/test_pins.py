"""PIN hashing, the lockout counter and its escalation."""

from __future__ import annotations

from redis import Redis

from handlers.remittance import pins
from identity.keyring import Keyring


def test_hash_is_salted_keyed_and_checks(keyring: Keyring) -> None:
    salt, other_salt = b"s" * 16, b"t" * 16
    digest = keyring.pin_hash("1234", salt)
    assert digest != keyring.pin_hash("1234", other_salt)
    assert pins.matches(keyring, "1234", salt, digest) and not pins.matches(keyring, "1235", salt, digest)
    assert not pins.matches(Keyring("another secret of enough length 123"), "1234", salt, digest)


def _fail(redis: Redis, caller: str) -> int:
    attempt = pins.claim_attempt(redis, caller)
    assert attempt.allowed
    return pins.record_failure(redis, caller, attempt).left


def _lock_out(redis: Redis, caller: str) -> pins.Failure:
    """Three wrong PINs, waiting out whatever lock is on first (by deleting it, as time would)."""
    redis.delete(f"pin:{{{caller}}}:locked")
    for _ in range(pins.MAX_TRIES - 1):
        _fail(redis, caller)
    attempt = pins.claim_attempt(redis, caller)
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
    assert pins.record_failure(redis, "who", claimed[2]).left == 0
    assert pins.lockout(redis, "who").locked and not pins.claim_attempt(redis, "who").allowed


def test_lockouts_escalate_then_ask_for_the_account_to_be_linked_again(redis: Redis) -> None:
    """3 wrong PINs in 30 minutes were 144 guesses a day for ever: now 30 minutes, then 4 hours, then no more PINs
    until the account is linked again (9 guesses in all)."""
    first = _lock_out(redis, "who")
    assert first == pins.Failure(0, locked_s=30 * 60)
    second = _lock_out(redis, "who")
    assert second == pins.Failure(0, locked_s=4 * 3600) and 14390 <= pins.lockout(redis, "who").seconds_left
    third = _lock_out(redis, "who")
    assert third.relink
    assert 0 < redis.ttl("pin:{who}:lockouts") <= pins.LOCKOUT_MEMORY_S


def test_a_right_pin_forgets_earlier_lockouts(redis: Redis) -> None:
    _lock_out(redis, "who")
    redis.delete("pin:{who}:locked")
    pins.record_success(redis, "who")
    assert _lock_out(redis, "who").locked_s == 30 * 60
