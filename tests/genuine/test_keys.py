"""The package's Redis keys: one prefix, a caller's or number's pseudonym in a hash tag, no session id as sent."""

from __future__ import annotations

from handlers.genuine import keys
from tests.conftest import TEST_KEYRING


def test_keys_are_prefixed_and_tagged_by_pseudonym():
    number = TEST_KEYRING.pseudonym("+254711000050")
    assert keys.check_count(number) == f"genuine:{{{number}}}:checks"
    assert keys.flag_count(number) == f"genuine:{{{number}}}:flags"
    for key in (keys.flagged(number), keys.caller_flags(number), keys.flaggers(number)):
        assert key.startswith(f"genuine:flagged:{{{number}}}")
    assert len({keys.flagged(number), keys.caller_flags(number), keys.flaggers(number)}) == 3
    assert keys.recruiter("RA2019123") == "genuine:recruiter:RA2019123"


def test_a_session_id_never_shapes_a_key():
    draft = keys.flag_draft("zz:category")
    assert draft.startswith("genuine:draft:") and ":category" not in draft and len(draft) == len("genuine:draft:") + 32
