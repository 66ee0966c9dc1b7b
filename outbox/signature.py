"""What every broadcast SMS ends with: the agency's name and the broadcast's public reference, and for ``normal``
broadcasts how to stop them (CONTRACT §6, issue #8 item 7).

The reference is minted and remembered by :mod:`outbox.refs` (its length and the arithmetic of guessing are
there); this module only writes it into the text.

The words are the catalogs' (``broadcast.footer``, ``broadcast.footer.stop``, ``broadcast.footer.stop_reply``, in
every language), in the subscriber's language, so the STOP keyword is one the inbound router reads in that
language. Where to send it is ``SMS_STOP_NUMBER`` (the short code or number that receives inbound SMS); without
one the footer says to reply. The footer is part of the text whose segments the estimate counts.
"""

from __future__ import annotations

from functools import lru_cache

from menus.catalog import Catalog

from . import refs

#: Stands in for a reference not yet minted (an estimate): every reference character is one GSM-7 septet.
PLACEHOLDER_REF = "X" * refs.REF_LENGTH


@lru_cache(maxsize=1)
def _catalog() -> Catalog:
    return Catalog.load()


def footer(language: str, *, agency: str, ref: str, priority: str, stop_to: str | None,
           catalog: Catalog | None = None) -> str:
    """The footer in ``language`` (the catalog's source language when it has none), with its leading newline."""
    catalog = catalog or _catalog()
    lang = language if catalog.supports(language) else catalog.languages[0]
    text = catalog.text(lang, "broadcast.footer", agency=agency, ref=ref)
    if priority != "emergency":
        stop = (catalog.text(lang, "broadcast.footer.stop", to=stop_to) if stop_to
                else catalog.text(lang, "broadcast.footer.stop_reply"))
        text = f"{text}. {stop}"
    return "\n" + text
