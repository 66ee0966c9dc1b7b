"""Caller geography: where the caller is now (MCC); where the caller is from is the number's country
(:func:`identity.phones.region_of`).

Two facts drive the emergency-help screens (DESIGN.md, "One USSD request"): the country the caller is in *now*
comes from the MCC, the first three digits of Africa's Talking's ``networkCode``; the *home* country comes from
the phone number. A Kenyan SIM roaming in Qatar reports ``networkCode`` 427xx and ``phoneNumber`` +254...: Qatar's
emergency numbers, Kenya's embassy in Doha.

The lookup sits on the hot path, so the MCC table is built once, at import, from the ``mobile-codes`` package.

Values from the outside world are never trusted: junk input yields ``None``, never an exception.
"""

from __future__ import annotations

import mobile_codes

__all__ = ["SANDBOX_NETWORK_CODE", "country_for_network", "mcc_table"]

SANDBOX_NETWORK_CODE = "99999"
"""Africa's Talking's simulator ("Athena") sends this code. It names no real network, so it maps to ``None``:
callers then fall back to the home country from the phone number, which is what a sandbox tester expects
(a +254 test number gets Kenya's screens) without pretending the simulator is in Kenya."""

# Where ITU assigned one MCC to several territories, mobile-codes lists them all. The principal country wins:
# a 310 SIM is far more likely American than Bermudian, a 234 SIM British than Manx.
_PRINCIPAL: dict[str, str] = {
    "208": "FR",  # France, also Mayotte
    "234": "GB",  # United Kingdom, also Guernsey, Jersey, Isle of Man
    "242": "NO",  # Norway, also Bouvet Island
    "244": "FI",  # Finland, also Åland
    "310": "US",  # United States, also Bermuda, Guam, Puerto Rico
    "311": "US",  # United States, also Guam
    "338": "JM",  # Jamaica, also Bermuda, Turks and Caicos
    "340": "GP",  # French Antilles: Guadeloupe, Martinique, Saint Martin, French Guiana share one MCC
    "362": "CW",  # former Netherlands Antilles: Curaçao, Sint Maarten, Caribbean Netherlands
    "425": "IL",  # Israel, also Palestine
    "505": "AU",  # Australia, also Norfolk Island
    "604": "MA",  # Morocco, also Western Sahara
}

# ITU-assigned MCCs that mobile-codes 0.7 does not list at all, for countries this gateway serves.
_MISSING: dict[str, str] = {
    "312": "US",
    "314": "US",
    "315": "US",
    "406": "IN",
    "430": "AE",  # historically Abu Dhabi; still reported by some UAE networks
    "431": "AE",  # historically Dubai
}


def _build_mcc_table() -> dict[str, str]:
    """Map every MCC to one ISO 3166-1 alpha-2 code, resolving shared MCCs through ``_PRINCIPAL``."""
    table: dict[str, str] = {}
    # mobile-codes has no public "list everything"; asking for each of the 1000 possible MCCs through its public
    # mcc() costs about a millisecond, once.
    for n in range(1000):
        code = f"{n:03d}"
        alpha2s = sorted({country.alpha2 for country in mobile_codes.mcc(code)})
        if not alpha2s:
            continue
        if len(alpha2s) == 1:
            table[code] = alpha2s[0]
        elif code in _PRINCIPAL:
            table[code] = _PRINCIPAL[code]
        else:
            # A new shared MCC in a future mobile-codes: pick deterministically rather than by list order.
            table[code] = alpha2s[0]
    for code, alpha2 in _MISSING.items():
        table.setdefault(code, alpha2)
    return table


_MCC_TO_COUNTRY: dict[str, str] = _build_mcc_table()


def mcc_table() -> dict[str, str]:
    """A copy of the MCC -> alpha-2 table (for diagnostics and tests; lookups use the module's own)."""
    return dict(_MCC_TO_COUNTRY)


def country_for_network(network_code: str) -> str | None:
    """The ISO alpha-2 country of the network the caller is attached to now, or ``None``.

    ``network_code`` is MCC+MNC as sent by Africa's Talking (``"63902"`` Safaricom -> ``"KE"``). Anything that is
    not 5 or 6 ASCII digits (empty, letters, a bare MCC fragment), the sandbox code, or an unassigned MCC gives
    ``None``; the caller should then fall back to the number's country.
    """
    if not isinstance(network_code, str):
        return None
    code = network_code.strip()
    if not (5 <= len(code) <= 6 and code.isascii() and code.isdigit()):
        return None
    if code == SANDBOX_NETWORK_CODE:
        return None
    return _MCC_TO_COUNTRY.get(code[:3])
