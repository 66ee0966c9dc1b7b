"""Handler keys: one builder per key, per-caller keys hash-tagged by pseudonym, no number in any key."""

from handlers import keys


def test_keys_are_hash_tagged_and_well_formed() -> None:
    caller = "ab" * 16
    for key in (keys.account_key(caller), keys.pin_attempts_key(caller), keys.pin_lock_key(caller),
                keys.help_sms_count_key(caller, "20260101")):
        assert f"{{{caller}}}" in key and "::" not in key and "+" not in key
    assert keys.case_key("report", "R-ABC234") == "case:report:R-ABC234"
    assert keys.case_contact_key("callback", "C-ABC234") == "case:callback:C-ABC234:contact"
    assert keys.case_index_key("report") == "case:report:index"
