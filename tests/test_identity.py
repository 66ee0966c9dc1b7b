"""The floor package: phone numbers, country and language codes, and the keyring."""

from __future__ import annotations

import hashlib
import os

import pytest

from identity import codes, phones
from identity.keyring import InvalidToken, Keyring
from menus.languages import default_language

SUPPORTED = {"en", "fr", "sw", "ar", "tl"}
SECRET = "k" * 40


# -- phones ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+254711000000", "KE"),
        ("+256772000000", "UG"),
        ("+255754000000", "TZ"),
        ("+251911000000", "ET"),
        ("+639171234567", "PH"),
        ("+6281234567890", "ID"),
        ("+94771234567", "LK"),
        ("+919812345678", "IN"),
        ("+9779841000000", "NP"),
        ("+8801711000000", "BD"),
        ("+923001234567", "PK"),
        ("+971501234567", "AE"),
        ("+12025550123", "US"),
        ("+447400123456", "GB"),
        ("+447911123456", "GG"),  # Guernsey range inside +44: the number says where it was issued
        (" +254711000000", "KE"),
    ],
)
def test_region_of(number, country):
    assert phones.region_of(number) == country


@pytest.mark.parametrize(
    "junk",
    ["", "+", "abc", "254711000000", "0711000000", "+80012345678", "+999123", None, 254711000000, ["+254711000000"]],
)
def test_region_of_junk_is_none(junk):
    assert phones.region_of(junk) is None


def test_region_of_parses_each_number_once():
    number = "+254722123456"
    phones.region_of(number)
    before = phones._region.cache_info()
    for _ in range(5):
        assert phones.region_of(number) == "KE"
    after = phones._region.cache_info()
    assert after.misses == before.misses
    assert after.hits == before.hits + 5
    assert after.maxsize == 100_000


@pytest.mark.parametrize(
    ("phone", "region", "lang"),
    [
        ("+254711000001", "KE", "sw"),
        ("+639171234567", "PH", "tl"),
        ("+971501234567", "AE", "ar"),
        ("+8801712345678", "BD", "en"),
        ("+221771234567", "SN", "fr"),
        ("+14155550100", "US", "en"),
        ("254711000001", "KE", "sw"),
        ("+9", None, "en"),
        ("", None, "en"),
        ("not a number", None, "en"),
    ],
)
def test_greeting_language_from_the_calling_code(phone, region, lang):
    assert phones.region_of_calling_code(phone) == region
    assert default_language(region, SUPPORTED) == lang


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+254711000033", "+2547******33"),
        ("+8801712345678", "+8801*******78"),
        ("+1234567", "+12****7"),  # a short number: at most half of its digits shown
        ("+12345", "+1***5"),
        ("+123", "+***"),
        ("", ""),
    ],
)
def test_mask_shows_at_most_half_the_digits(phone, masked):
    assert phones.mask(phone) == masked
    digits = [c for c in masked if c.isdigit()]
    assert len(digits) <= max(0, len(phone) - 1) // 2


def test_normalise_reads_national_formats_and_refuses_junk():
    assert phones.normalise("0712 345 678", "KE") == "+254712345678"
    for junk in ("", "12", "+254 7", "x" * 50):
        with pytest.raises(phones.InvalidNumber):
            phones.normalise(junk)


# -- codes ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "alpha2"),
    [("KE", "KE"), ("ke", "KE"), (" KEN ", "KE"), ("phl", "PH"), ("UK", None), ("PO", None), ("Kenya", None),
     ("KÉ", None), ("كي", None), ("", None), (None, None), (42, None)],
)
def test_country_code(value, alpha2):
    assert codes.country_code(value) == alpha2


def test_country_code_alpha2_only():
    assert codes.country_code("KEN", alpha3=False) is None
    assert codes.country_code("ke", alpha3=False) == "KE"


@pytest.mark.parametrize(
    ("value", "code"),
    [("sw", "sw"), ("EN", "en"), ("fil", "fil"), ("é", None), ("éé", None), ("ئا", None), ("e", None),
     ("engl", None), ("e1", None), (None, None)],
)
def test_language_code_is_ascii_only(value, code):
    assert codes.language_code(value) == code


# -- keyring --------------------------------------------------------------------------------------------------

def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="GATEWAY_SECRET"):
        Keyring("short")


def test_pseudonym_is_stable_keyed_and_not_the_old_unkeyed_hash():
    ring, other = Keyring(SECRET), Keyring("o" * 40)
    number = "+254711000001"
    assert ring.pseudonym(number) == Keyring(SECRET).pseudonym(number)
    assert ring.pseudonym(number) != other.pseudonym(number)
    assert len(ring.pseudonym(number)) == 32
    assert ring.pseudonym(number) != hashlib.blake2b(number.encode(), digest_size=16).hexdigest()


def test_seal_is_deterministic_short_and_reversible_only_with_the_secret():
    ring, other = Keyring(SECRET), Keyring("o" * 40)
    for number in ("+254711000001", "+12025550123", "+999999999999999", "+1"):
        token = ring.seal(number)
        assert token == ring.seal(number)
        assert len(token) == 31 and token.isascii() and "," not in token and "|" not in token
        assert ring.unseal(token) == number
        assert len(number) < 8 or number[1:] not in token
        with pytest.raises(InvalidToken):
            other.unseal(token)
    assert ring.seal("+254711000001") != ring.seal("+254711000002")


@pytest.mark.parametrize("junk", ["254711000001", "+0711", "+1234567890123456", "+25471100000a", ""])
def test_only_e164_numbers_are_sealed(junk):
    with pytest.raises(ValueError):
        Keyring(SECRET).seal(junk)


def test_unseal_refuses_anything_not_sealed():
    ring = Keyring(SECRET)
    token = ring.seal("+254711000001")
    for junk in ("", "!!!", token[:-1] + ("A" if token[-1] != "A" else "B"), "+254711000001"):
        with pytest.raises(InvalidToken):
            ring.unseal(junk)


def test_encrypt_is_randomised_and_bound_to_its_context():
    ring = Keyring(SECRET)
    a, b = ring.encrypt("Boss keeps passports", context="R-1"), ring.encrypt("Boss keeps passports", context="R-1")
    assert a != b and "passports" not in a
    assert ring.decrypt(a, context="R-1") == "Boss keeps passports"
    with pytest.raises(InvalidToken):
        ring.decrypt(a, context="R-2")
    with pytest.raises(InvalidToken):
        Keyring("o" * 40).decrypt(a, context="R-1")


def test_pin_hash_is_keyed_and_salted():
    ring = Keyring(SECRET)
    salt = os.urandom(16)
    assert ring.pin_hash("1234", salt) == ring.pin_hash("1234", salt)
    assert ring.pin_hash("1234", salt) != ring.pin_hash("1235", salt)
    assert ring.pin_hash("1234", salt) != ring.pin_hash("1234", os.urandom(16))
    assert ring.pin_hash("1234", salt) != Keyring("o" * 40).pin_hash("1234", salt)
    # without the key, the unkeyed scrypt of the salt does not reproduce it
    assert ring.pin_hash("1234", salt) != hashlib.scrypt(b"1234", salt=salt, n=2**14, r=8, p=1, dklen=32)


def test_subkeys_differ_by_purpose():
    ring = Keyring(SECRET)
    assert len({ring.key("pseudonym"), ring.key("seal"), ring.key("session digests")}) == 3
    assert ring.digest("dedupe", "x") != ring.digest("other", "x")
