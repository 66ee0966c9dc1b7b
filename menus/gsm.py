"""GSM 03.38 arithmetic, shared by the USSD page budget and the SMS segment count.

One implementation serves both because they are the same question: how many septets (GSM-7) or UTF-16 code
units (UCS-2) does a text take? A USSD page is 160 octets: 182 GSM-7 septets or 80 UCS-2 characters. An SMS is
140 octets: 160 septets or 70 UCS-2 units alone, 153 or 67 per part when concatenated (the UDH takes 6 octets).
Extension-table characters (``^{}\\[~]|€`` and form feed) take two septets: ESC plus the character, and an
escape pair is never split across SMS parts. A single character outside both tables makes the whole text UCS-2.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION

#: The USSD payload is 160 octets (AT-PROTOCOL §5).
USSD_MAX_SEPTETS = 182
USSD_MAX_UCS2 = 80

SMS_SINGLE = {"GSM-7": 160, "UCS-2": 70}
SMS_PART = {"GSM-7": 153, "UCS-2": 67}

# Characters with a GSM-7 look-alike that a reader takes for the same thing. Letters with diacritics that
# GSM-7 lacks are folded by Unicode decomposition in :func:`to_gsm_lookalikes`; this table holds the rest.
_LOOKALIKES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ", "\t": " ",
    "\u2022": "-", "\u00b7": ".", "\u00e7": "c", "\u0131": "i", "\u0130": "I",
    "\u0153": "oe", "\u0152": "OE", "\u00f0": "d", "\u00fe": "th",
}


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 basic or extension table."""
    return GSM7_ALL.issuperset(text)


def septets(text: str) -> int:
    """Septets ``text`` takes in GSM-7, extension characters counting two. Only meaningful when :func:`is_gsm7`."""
    if GSM7_EXTENSION.isdisjoint(text):  # the common case, answered in C
        return len(text)
    return len(text) + sum(text.count(c) for c in GSM7_EXTENSION)


def utf16_units(text: str) -> int:
    """UTF-16 code units: characters outside the BMP (emoji) take two."""
    return len(text.encode("utf-16-le")) // 2


def size_of(text: str) -> tuple[Encoding, int]:
    """The encoding ``text`` needs and its size in that encoding's units (septets or UTF-16 units)."""
    if is_gsm7(text):
        return "GSM-7", septets(text)
    return "UCS-2", utf16_units(text)


def ussd_limit(encoding: Encoding, budget: int) -> int:
    """Units one USSD page may hold. ``budget`` is the operator's septet budget (setting, default 160); a UCS-2
    page gets half of it in characters, as both count the same octets, and never more than 80."""
    if encoding == "GSM-7":
        return min(budget, USSD_MAX_SEPTETS)
    return min(USSD_MAX_UCS2, budget // 2)


def fits_ussd(text: str, budget: int) -> bool:
    encoding, size = size_of(text)
    return size <= ussd_limit(encoding, budget)


@dataclass(frozen=True)
class SmsEstimate:
    encoding: Encoding
    units: int
    segments: int


def sms_segments(text: str) -> SmsEstimate:
    """How many SMS parts ``text`` is sent as, packing parts the way handsets do (no escape pair or surrogate
    pair split across two parts)."""
    encoding, units = size_of(text)
    if units == 0:
        return SmsEstimate(encoding, 0, 1)
    if units <= SMS_SINGLE[encoding]:
        return SmsEstimate(encoding, units, 1)
    per_part = SMS_PART[encoding]
    parts, used = 1, 0
    for char in text:
        width = _width(char, encoding)
        if used + width > per_part:
            parts, used = parts + 1, 0
        used += width
    return SmsEstimate(encoding, units, parts)


def _width(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def to_gsm_lookalikes(text: str) -> str:
    """Replace characters GSM-7 lacks with look-alikes (``ê`` → ``e``, ``’`` → ``'``) where one exists.

    A single character outside GSM-7 doubles the cost of an SMS and halves a USSD page, so French, Swahili,
    Tagalog or Turkish text is worth folding. Characters with no look-alike (Arabic script, for one) stay as they
    are, and the text then stays UCS-2: call :func:`is_gsm7` on the result to know.
    """
    if is_gsm7(text):
        return text
    out = []
    for char in text:
        if char in GSM7_ALL:
            out.append(char)
        elif char in _LOOKALIKES:
            out.append(_LOOKALIKES[char])
        else:
            stripped = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
            out.append(stripped if stripped and is_gsm7(stripped) else char)
    return "".join(out)
