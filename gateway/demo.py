"""Demo data for ``gateway run`` and ``gateway seed-demo``: enough to try every service by hand."""

from __future__ import annotations

from collections.abc import Iterator

from redis import Redis

from handlers.remittance import accounts
from handlers.remittance.providers import DEMO_ACCOUNTS
from identity.keyring import Keyring
from outbox import subscribers

from . import secrets
from .config import ConfigError, Settings


def seed(connection: Redis, settings: Settings) -> Iterator[str]:
    """Load the demo data (idempotent); yields one line per thing loaded. Refuses on a production installation
    (AT credentials set): demo numbers and PINs have no place next to real subscribers."""
    if settings.at_username and settings.at_api_key:
        raise ConfigError("AT_USERNAME and AT_API_KEY are set: this looks like production, where demo accounts "
                          "and subscribers must not be seeded. Unset them to seed a development Redis.")
    keyring = secrets.keyring(settings)
    connection.ping()
    yield "Demo data: menus, catalogs, the helpline directory and the corridors ship with the code."
    yield from seed_accounts(connection, keyring)
    yield from seed_subscribers(connection, keyring)


def seed_accounts(connection: Redis, keyring: Keyring) -> Iterator[str]:
    """Link the demo balance accounts to their numbers, with their PINs (hashed; printed here for trying)."""
    for demo in DEMO_ACCOUNTS:
        accounts.link(connection, keyring, demo.phone, provider="demo", account=demo.account, pin=demo.pin)
        yield f"Demo account: {demo.phone} PIN {demo.pin} ({demo.currency}, Money > My balance)"


#: Alert subscribers to try broadcasts on (``gateway run`` prints what the console provider "sends").
DEMO_SUBSCRIBERS = (("+254711000001", "KE", "sw"), ("+254711000002", "KE", "en"), ("+639171234567", "PH", "tl"),
                    ("+971501234567", "AE", "ar"))


def seed_subscribers(connection: Redis, keyring: Keyring) -> Iterator[str]:
    """A few alert subscribers (every topic); an earlier STOP from one of these numbers stays in force."""
    for phone, country, language in DEMO_SUBSCRIBERS:
        subscribers.subscribe(connection, keyring, phone, country=country, language=language, topics=subscribers.TOPICS,
                              source="demo")
    yield f"Demo alert subscribers: {len(DEMO_SUBSCRIBERS)} (KE, PH, AE); try POST /api/v1/broadcasts."
