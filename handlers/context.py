"""What every handler needs to know about the call: the stores, the caller's pseudonym, where they are and where
they are from, and text helpers that keep dynamic text (country names, amounts) inside a USSD page's alphabet.

The services object is typed by :class:`handlers.services.Services` (the gateway implements it), so this package
never imports ``gateway``.
"""

from __future__ import annotations

from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

from identity.phones import region_of
from menus.countries import short_name
from menus.engine import Call
from menus.gsm import is_gsm7, to_gsm_lookalikes

from .geo import country_for_network
from .remittance.amounts import format_money
from .services import Services

# Bidi marks Babel puts around Arabic numbers: invisible on a smartphone, junk boxes on many feature phones.
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u2066\u2067\u2068\u2069"), None)
_SPACES = {ord("\u00a0"): " ", ord("\u202f"): " "}


def services(call: Call[Services]) -> Services:
    """What the handler may use beyond the call (see :mod:`handlers.services`)."""
    return call.services


def pseudonym(call: Call[Services]) -> str:
    """The caller's pseudonym (32 hex characters): what every per-caller key is built from."""
    return call.caller.pseudonym


def host_of(call: Call) -> str | None:
    """The country the caller is in now: the MCC, else (simulator, unknown network) the number's country."""
    return country_for_network(call.caller.network_code) or region_of(call.caller.phone)


def origin_of(call: Call) -> str | None:
    """The caller's home country, from the number."""
    return region_of(call.caller.phone)


def screen_text(text: str) -> str:
    """Dynamic text made fit for a screen or an SMS: no bidi marks, plain spaces, and GSM-7 look-alikes when that
    keeps the whole text GSM-7 (one accent would otherwise halve the page)."""
    text = text.translate(_INVISIBLE).translate(_SPACES)
    folded = to_gsm_lookalikes(text)
    return folded if is_gsm7(folded) else text


@lru_cache(maxsize=4096)
def country_name(code: str | None, lang: str) -> str:
    """A country's name in ``lang`` (Babel/CLDR), e.g. ``KE`` in Swahili: ``Kenya``; the code itself if unknown."""
    if not code:
        return "?"
    if short := short_name(code, lang):  # a name that fits a screen line (menus/locale/countries.yaml)
        return screen_text(short)
    try:
        name = Locale.parse(lang).territories.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return screen_text(name or code)


def money(amount: float, currency: str, lang: str) -> str:
    """An amount the same way on every screen and SMS: ``KES 12,850.50`` (see :mod:`handlers.remittance.amounts`)."""
    return screen_text(format_money(amount, currency, lang))


def number(value: float, lang: str, digits: int = 2) -> str:
    """A plain decimal in the caller's locale (``1.97`` / ``1,97``)."""
    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    try:
        text = format_decimal(value, format=pattern, locale=lang)
    except (UnknownLocaleError, ValueError):
        text = format_decimal(value, format=pattern, locale="en")
    return screen_text(text)
