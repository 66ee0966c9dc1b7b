"""What a broadcast will cost before it is sent: encoding and segments per language, and money.

The arithmetic is :mod:`menus.gsm` (the one GSM 03.38 implementation); this module only adds prices. The price
table maps ISO country codes to the price of one segment, with ``default`` for the rest; a broadcast to several
countries is priced at the dearest of them, so the estimate is an upper bound.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from menus.gsm import SMS_PART, septets, size_of, sms_segments, to_gsm_lookalikes, utf16_units

ELLIPSIS = "..."


def fit_text(text: str, *, lookalikes: bool) -> str:
    """The text as it will be sent: with look-alike replacement when asked, so it may stay GSM-7."""
    return to_gsm_lookalikes(text) if lookalikes else text


def fit_segments(text: str, max_segments: int, suffix: str = "") -> str:
    """``text``, cut at a word with ``...`` if needed, so that it and ``suffix`` (a footer) take at most
    ``max_segments`` SMS segments.

    Bounded whatever the input: only the characters that can be sent are measured (a CAP headline of one
    8,000-character word once took seconds when the cut shed one character per segment count).
    """
    longest = SMS_PART["GSM-7"] * max_segments  # no text of more characters can fit
    head = text[:longest + 1]
    if len(text) <= longest and sms_segments(head + suffix).segments <= max_segments:
        return text
    encoding = size_of(head + suffix)[0]
    # Each part may lose one unit to an escape or surrogate pair that is not split across parts.
    budget = (SMS_PART[encoding] - 1) * max_segments - len(ELLIPSIS) - _units(suffix, encoding)
    used = end = 0
    for end, char in enumerate(head):  # noqa: B007  (stops within one budget of characters)
        used += _units(char, encoding)
        if used > budget:
            break
    cut = head[:max(0, end)]
    space = cut.rfind(" ")
    if space > len(cut) // 2:  # end at a word, unless that would drop most of the text
        cut = cut[:space]
    return cut.rstrip(" .,;:") + ELLIPSIS


def _units(text: str, encoding: str) -> int:
    return septets(text) if encoding == "GSM-7" else utf16_units(text)


def language_estimate(text: str, recipients: int) -> dict[str, object]:
    estimate = sms_segments(text)
    return {"encoding": estimate.encoding, "segments": estimate.segments, "characters": estimate.units,
            "recipients": recipients}


def price_per_segment(prices: Mapping[str, float], countries: Iterable[str]) -> float:
    default = prices.get("default", 0.0)
    found = [prices.get(c, default) for c in countries]
    return max(found) if found else default


def load_prices(path: Path) -> dict[str, float]:
    """A JSON price table ``{"default": 0.01, "KE": 0.008}``; raises ValueError naming the file when unusable."""
    try:
        table = json.loads(path.read_text())
        prices = {str(k).upper() if k != "default" else "default": float(v) for k, v in table.items()}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"The SMS price table {path} is not a JSON object of prices: {exc}") from exc
    prices.setdefault("default", 0.0)
    return prices
