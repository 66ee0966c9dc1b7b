"""Fixtures for the service flows: demo accounts seeded, callers in the four acceptance countries."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from redis import Redis

from gateway.demo import seed_accounts
from identity.keyring import Keyring
from menus.catalog import Catalog
from tests.conftest import Phone

CATALOG = Catalog.load()

#: (phone, network code) per acceptance caller: Kenya, the Philippines, a Kenyan roaming in the UAE, Bangladesh.
CALLERS = {
    "KE": ("+254711000001", "63902"),
    "PH": ("+639171234567", "51502"),
    "AE": ("+254711000002", "42402"),
    "BD": ("+8801712345678", "47001"),
}


@pytest.fixture
def accounts(redis: Redis, keyring: Keyring) -> None:
    list(seed_accounts(redis, keyring))


def handset(client: FlaskClient, where: str, lang_option: str = "1") -> Phone:
    """A caller of ``where`` who picked a language (``1`` English … ``5`` Tagalog) and stands on the welcome menu."""
    number, network = CALLERS[where]
    phone = Phone(client, phone=number, network=network)
    body = phone.dial()
    if "Kiswahili" not in body:  # a caller seen before: welcome menu (or a resume offer), then Language
        phone.send(language_option(fresh(phone)))
    phone.send(lang_option)
    phone.redial()
    return phone


def language_option(welcome: str) -> str:
    """The number of the welcome menu's Language option, in whatever language the menu is (its place may move)."""
    names = {CATALOG.text(lang, "welcome.language") for lang in CATALOG.languages}
    for line in welcome[4:].split("\n"):
        number, _, label = line.partition(" ")
        if label in names:
            return number
    raise AssertionError(f"no Language option on {welcome!r}")


def fresh(phone: Phone) -> str:
    """Hang up and dial again, declining a resume offer: the welcome menu of a caller who knows their language."""
    body = phone.redial()
    if len(re.findall(r"^(?:CON )?\d ", body, re.MULTILINE)) == 2:  # the resume offer: continue, start again
        body = phone.send("2")  # later sends extend this session's text, as a handset would
    return body
