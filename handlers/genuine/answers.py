"""What a check answers, in the caller's language: one function per thing a caller can check (the USSD screens
call these), and one that tells from the text which thing it is (``CHECK <text>`` by SMS).

The answers never say who flagged a number, and a private broadcast's words are never shown (see
:mod:`outbox.refs`). Texts are the catalog's ``check.answer.*`` keys (``menus/locale/check/<lang>.po``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from redis import Redis

from identity.keyring import Keyring
from identity.phones import InvalidNumber, normalise
from menus.catalog import Catalog
from outbox import refs

from ..context import country_name, screen_text
from . import flags, registers

#: Reasons named in one answer (the most recent agencies' first); more would not fit an SMS.
MAX_REASONS = 3


def day(timestamp: float) -> str:
    """A date every language reads the same way: ``2026-11-30`` (UTC)."""
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def about_ref(connection: Redis, catalog: Catalog, lang: str, typed: str) -> str:
    """A broadcast's reference, as typed (any case, spaces) or keyed as digits on a phone's keypad."""
    ref = refs.spelled(typed)
    found = refs.find_keyed(connection, ref) if ref.isdigit() else refs.find(connection, [ref])
    if found is None:
        return catalog.text(lang, "check.answer.not_ours", ref=screen_text(ref[: refs.REF_LENGTH + 2]))
    when = day(found.sent_at)
    if not found.public or not found.texts:
        return catalog.text(lang, "check.answer.genuine_private", agency=screen_text(found.agency), date=when,
                            ref=found.ref)
    words = found.texts.get(lang) or next(iter(found.texts.values()))
    return catalog.text(lang, "check.answer.genuine", agency=screen_text(found.agency), date=when, ref=found.ref,
                        words=screen_text(words))


def about_licence(connection: Redis, catalog: Catalog, lang: str, typed: str) -> str:
    """A recruiter's licence number: licensed (name, country, valid until), expired, or not on the register."""
    found = registers.find_recruiter(connection, typed)
    if found is None:
        return catalog.text(lang, "check.answer.unlicensed", licence=screen_text(" ".join(typed.split())[:40]))
    key = "check.answer.expired" if found.expired() else "check.answer.licensed"
    return catalog.text(lang, key, licence=screen_text(found.licence), name=screen_text(found.name),
                        country=country_name(found.country, lang), date=found.valid_until.isoformat())


def about_number(connection: Redis, keyring: Keyring, catalog: Catalog, lang: str, phone: str) -> str:
    """A phone number (E.164): whether it was flagged, how often and why; never by whom."""
    by_agencies = registers.agency_flags(connection, keyring, phone)
    by_callers = flags.upheld(connection, keyring, phone)
    count = len(by_agencies) + len(by_callers)
    if not count:
        return catalog.text(lang, "check.answer.not_flagged", phone=phone)
    reasons = [f.reason for f in reversed(by_agencies)]
    reasons += [catalog.text(lang, f"check.reason.{ask}") for ask in by_callers]
    shown = list(dict.fromkeys(reasons))[:MAX_REASONS]
    return catalog.text(lang, "check.answer.flagged", phone=phone, count=count,
                        reasons=screen_text("; ".join(shown)))


def as_number(typed: str, region: str | None) -> str | None:
    """``typed`` as an E.164 number, or None: international with ``+`` or ``00``, else national as a number of
    ``region`` (the caller's country), else international with the ``+`` left out (``974 5555 1234``)."""
    digits = "".join(c for c in typed if c.isdigit())
    if len(digits) < 6 or any(c.isalpha() for c in typed):  # letters: a licence (RA/2024/0173) or a ref, not a number
        return None
    stripped = typed.strip()
    tries = [typed] if stripped.startswith("+") else (
        ["+" + digits[2:]] if stripped.startswith("00") else [typed, "+" + digits])
    for candidate in tries:
        try:
            return normalise(candidate, None if candidate.startswith("+") else region)
        except InvalidNumber:
            continue
    return None


def about(connection: Redis, catalog: Catalog, lang: str, typed: str, *, region: str | None,
          keyring: Keyring) -> str:
    """Whatever ``typed`` is (``CHECK <typed>``), tried in this order: a broadcast's reference, a licence on the
    register, a phone number; then a text shaped like a reference is "not one of ours", and anything else (a
    made-up ref of another shape, an unknown licence: nothing tells them apart) is both."""
    ref = refs.spelled(typed)
    if refs.is_shaped(ref) and refs.find(connection, [ref]) is not None:
        return about_ref(connection, catalog, lang, ref)
    if registers.find_recruiter(connection, typed) is not None:
        return about_licence(connection, catalog, lang, typed)
    phone = as_number(typed, region)
    if phone is not None:
        return about_number(connection, keyring, catalog, lang, phone)
    if refs.is_shaped(ref):
        return about_ref(connection, catalog, lang, ref)
    return catalog.text(lang, "check.answer.unknown", text=screen_text(" ".join(typed.split())[:40]))
