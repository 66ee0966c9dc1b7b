"""Phone numbers: parsed once, stored and compared as E.164, and masked whenever they reach a log."""

from __future__ import annotations

import mobile_codes
import phonenumbers

from .errors import InvalidNumber

#: Digits kept visible at each end of a masked number: enough to tell numbers apart in a log, not to dial one.
MASK_HEAD = 5
MASK_TAIL = 2


def normalise(raw: str, region: str | None = None) -> str:
    """``raw`` as E.164 (``+254711000001``); ``region`` (ISO 3166 alpha-2) reads national formats.

    Raises:
        InvalidNumber: the text is not a number, or phonenumbers does not hold it valid for its region.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidNumber("The phone number is empty.")
    if len(raw) > 40:
        raise InvalidNumber("The phone number is too long.")
    try:
        number = phonenumbers.parse(raw, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"Not a phone number ({exc}); give it as +<country><number>.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber("Not a valid number for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(phone: str) -> str | None:
    """The ISO country a normalised number belongs to, or None."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone)) or None
    except phonenumbers.NumberParseException:
        return None


def country_code(value: str) -> str | None:
    """An ISO 3166-1 alpha-2 or alpha-3 code (any case) as alpha-2; None for anything else (``PO``, ``UK``)."""
    value = (value or "").strip().upper()
    if len(value) not in (2, 3) or not value.isalpha():
        return None
    try:
        country = mobile_codes.alpha3(value) if len(value) == 3 else mobile_codes.alpha2(value)
    except KeyError:
        return None
    return str(country.alpha2)


def mask(phone: str) -> str:
    """``+254711000033`` → ``+2547******33``: for logs, which must never hold a full number."""
    if len(phone) <= MASK_HEAD + MASK_TAIL:
        return "*" * len(phone)
    return phone[:MASK_HEAD] + "*" * (len(phone) - MASK_HEAD - MASK_TAIL) + phone[-MASK_TAIL:]
