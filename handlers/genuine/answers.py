"""What a check answers, in the caller's language: one function per thing a caller can check, and one that tells
from the text which thing it is (``CHECK <text>`` by SMS).

The answers never say who flagged a number, and a private broadcast's words are never shown (see
:mod:`outbox.refs`). Texts are the catalog's ``check.answer.*`` keys (``menus/locale/check/<lang>.po``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from redis import Redis

from identity.keyring import Keyring
from menus.catalog import Catalog
from outbox import refs

from ..context import screen_text


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


def about(connection: Redis, catalog: Catalog, lang: str, typed: str, *, region: str | None,
          keyring: Keyring) -> str:
    """Whatever ``typed`` is (``CHECK <typed>``): a broadcast's reference."""
    return about_ref(connection, catalog, lang, typed)
