"""What a broadcast will cost before it is sent: encoding and segments per language, and money.

The arithmetic is :mod:`menus.gsm` (the one GSM 03.38 implementation); this module only adds prices. The price
table maps ISO country codes to the price of one segment, with ``default`` for the rest; a broadcast to several
countries is priced at the dearest of them, so the estimate is an upper bound.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from menus.gsm import sms_segments, to_gsm_lookalikes


def fit_text(text: str, *, lookalikes: bool) -> str:
    """The text as it will be sent: with look-alike replacement when asked, so it may stay GSM-7."""
    return to_gsm_lookalikes(text) if lookalikes else text


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
