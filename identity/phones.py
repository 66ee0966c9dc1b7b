"""Phone numbers: parsed once into E.164, mapped to their country, and masked whenever they reach a log.

Two ways to a number's country: :func:`region_of` parses with ``phonenumbers`` (exact, tens of microseconds, so
cached per number), and :func:`region_of_calling_code` only reads the calling code (``+254…`` → ``KE``, ``+1…`` →
``US``): enough to pick a greeting language on the USSD hot path, where a full parse per new caller costs too much.
"""

from __future__ import annotations

from functools import lru_cache

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

__all__ = ["InvalidNumber", "mask", "normalise", "region_of", "region_of_calling_code"]

#: The longest text worth parsing as a number (E.164 is 15 digits; formatting adds spaces, dashes, brackets).
MAX_RAW = 40


class InvalidNumber(ValueError):
    """A phone number that cannot be used; the message says why (and is safe to show to an agency)."""


def normalise(raw: str, region: str | None = None) -> str:
    """``raw`` as E.164 (``+254711000001``); ``region`` (ISO 3166 alpha-2) reads national formats.

    Raises:
        InvalidNumber: the text is not a number, or phonenumbers does not hold it valid for its region.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidNumber("The phone number is empty.")
    if len(raw) > MAX_RAW:
        raise InvalidNumber("The phone number is too long.")
    try:
        number = phonenumbers.parse(raw, (region or "").upper() or None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(f"Not a phone number ({exc}); give it as +<country><number>.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidNumber("Not a valid number for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(phone: str) -> str | None:
    """The ISO alpha-2 country that issued ``phone`` (``"+254711000000"`` → ``"KE"``), or None.

    Only international format is accepted: a number without ``+`` and a calling code has no defined country.
    Non-geographic numbers (``+800``, ``+882``…) and junk give None, never an exception.
    """
    if not isinstance(phone, str):
        return None
    return _region(phone.strip())


@lru_cache(maxsize=100_000)
def _region(number: str) -> str | None:
    """Cached: the hot path sees the same callers over and over, and a parse costs tens of microseconds."""
    if not number.startswith("+") or len(number) > MAX_RAW:
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    if not region or region in ("001", "ZZ"):
        return None
    return str(region)


def region_of_calling_code(phone: str) -> str | None:
    """The main region of a number's calling code, without a full parse (``+1…`` → ``US`` even for Canada).

    Calling codes are prefix-free, so the first of 1, 2 or 3 digits that is one is the one.
    """
    digits = phone[1:4] if phone.startswith("+") else phone[:3]
    for length in (1, 2, 3):
        if digits[:length].isdigit():
            regions = COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:length]))
            if regions:
                return regions[0]
    return None


def mask(phone: str) -> str:
    """A number fit for a log: ``+254711000033`` → ``+2547******33``, and never more than half its digits shown.

    Up to four leading digits (the calling code and a little more) and two trailing ones tell numbers apart in a
    log; a short number shows fewer (``+1234567`` → ``+12****67``), one of three digits or fewer shows none.
    """
    text = phone if isinstance(phone, str) else ""
    plus = "+" if text.startswith("+") else ""
    digits = text[len(plus):]
    shown = len(digits) // 2 if len(digits) > 3 else 0
    tail = min(2, shown // 2)
    head = min(4, shown - tail)
    return plus + digits[:head] + "*" * (len(digits) - head - tail) + (digits[-tail:] if tail else "")
