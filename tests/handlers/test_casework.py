"""The casework store: one case per session, newest first, retention, the call-back contact kept apart."""

from __future__ import annotations

import re
import time

from redis import Redis

from handlers import casework
from handlers.keys import case_contact_key, case_key, case_session_key
from tests.conftest import TEST_KEYRING
from tests.privacy import dump, leaks, number_forms


def test_one_case_per_session_and_updates_merge(redis: Redis) -> None:
    ref = casework.upsert(redis, casework.REPORT, "s1", {"category": "wages", "text": "late pay"}, ttl=60,
                          keyring=TEST_KEYRING)
    again = casework.upsert(redis, casework.REPORT, "s1", {"sms_confirmation": "no", "text": ""}, ttl=60,
                            keyring=TEST_KEYRING)
    assert ref == again and re.fullmatch(r"R-[2-9A-HJKMNP-Z]{6}", ref)
    case = casework.get(redis, casework.REPORT, ref, keyring=TEST_KEYRING)
    assert case is not None and dict(case.fields) == {"category": "wages", "sms_confirmation": "no", "status": "open"}
    assert 0 < redis.ttl(case_key(casework.REPORT, ref)) <= 60


def test_newest_first_and_expired_cases_drop_out(redis: Redis) -> None:
    first = casework.upsert(redis, casework.CALLBACK, "a", {"topic": "work"}, ttl=60, keyring=TEST_KEYRING)
    time.sleep(0.01)
    second = casework.upsert(redis, casework.CALLBACK, "b", {"topic": "health"}, ttl=60, keyring=TEST_KEYRING)
    assert [c.ref for c in casework.newest(redis, casework.CALLBACK, keyring=TEST_KEYRING)] == [second, first]
    redis.delete(case_key(casework.CALLBACK, first))  # as its TTL would
    assert [c.ref for c in casework.newest(redis, casework.CALLBACK, keyring=TEST_KEYRING)] == [second]
    assert redis.zcard("case:callback:index") == 1


def test_contact_is_kept_apart_with_its_own_expiry(redis: Redis) -> None:
    ref = casework.upsert(redis, casework.CALLBACK, "c", {"phone_masked": "+2547******01"}, ttl=600,
                          keyring=TEST_KEYRING, contact="+254711000001", contact_ttl=30)
    assert leaks(dump(redis), number_forms("+254711000001")) == []  # the contact is kept sealed
    case = casework.get(redis, casework.CALLBACK, ref, keyring=TEST_KEYRING)
    assert case is not None and case.fields["phone"] == "+254711000001"
    assert 0 < redis.ttl(case_contact_key(casework.CALLBACK, ref)) <= 30


def test_session_mapping_lives_a_session_not_the_retention(redis: Redis) -> None:
    """The provider's records map a session id to a number: the session -> case mapping must not outlive the
    session, or a report could be tied to a number for its whole retention."""
    retention = 180 * 86400
    for kind in casework.KINDS:
        ref = casework.upsert(redis, kind, "s9", {"status": "new"}, ttl=retention, keyring=TEST_KEYRING,
                              contact="+254711000001",
                              contact_ttl=3 * 86400)
        assert 0 < redis.ttl(case_session_key(kind, "s9")) <= casework.SESSION_TTL <= 600
        assert redis.ttl(case_key(kind, ref)) > retention - 60
        redis.expire(case_session_key(kind, "s9"), 5)
        assert casework.upsert(redis, kind, "s9", {"status": "open"}, ttl=retention, keyring=TEST_KEYRING) == ref
        assert redis.ttl(case_session_key(kind, "s9")) > 5  # each step refreshes it
