"""Country and language codes from the outside world (API bodies, CAP geocodes, SMS keywords): checked here.

Only ASCII letters count: ``str.isalpha`` is also true of ``"é"`` or ``"ك"``, and such a "code" would become a
Redis key and an audience that nobody can ever address again.
"""

from __future__ import annotations

from functools import lru_cache

import mobile_codes

__all__ = ["country_code", "language_code"]

_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _letters(value: object, lengths: tuple[int, ...]) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) not in lengths or not set(value) <= _ASCII_LETTERS:
        return None
    return value


def country_code(value: object, *, alpha3: bool = True) -> str | None:
    """An ISO 3166-1 country as its alpha-2 code (``"ke"``, ``"KEN"`` → ``"KE"``), or None for anything else
    (``"UK"``, ``"PO"``, ``"Kenya"``, non-ASCII). ``alpha3=False`` accepts alpha-2 codes only."""
    code = _letters(value, (2, 3) if alpha3 else (2,))
    return None if code is None else _known(code.upper())


@lru_cache(maxsize=1024)
def _known(code: str) -> str | None:
    try:
        country = mobile_codes.alpha3(code) if len(code) == 3 else mobile_codes.alpha2(code)
    except KeyError:
        return None
    return str(country.alpha2)


def language_code(value: object) -> str | None:
    """An ISO 639 language code, lower-cased (``"SW"`` → ``"sw"``), when ``value`` is two or three ASCII letters;
    else None. Which languages the gateway *speaks* is the catalogs' business, not this check's."""
    code = _letters(value, (2, 3))
    return None if code is None else code.lower()
