"""Demo data for ``gateway run`` and ``gateway seed-demo``: enough to try every service by hand."""

from __future__ import annotations

from collections.abc import Iterator

from redis import Redis

from handlers.remittance import accounts
from handlers.remittance.providers import DEMO_ACCOUNTS
from outbox import subscribers
from sessions.identity import caller_key, load_pepper

from .config import Settings


def seed(connection: Redis, settings: Settings) -> Iterator[str]:
    """Load the demo data (idempotent); yields one line per thing loaded."""
    connection.ping()
    yield "Demo data: menus, catalogs, the helpline directory and the corridors ship with the code."
    yield from seed_accounts(connection)
    yield from seed_subscribers(connection)


def seed_accounts(connection: Redis) -> Iterator[str]:
    """Link the demo balance accounts to their numbers, with their PINs (hashed; printed here for trying)."""
    pepper = load_pepper(connection)
    for demo in DEMO_ACCOUNTS:
        accounts.link(connection, caller_key(demo.phone, pepper), provider="demo", account=demo.account,
                      pin=demo.pin, phone=demo.phone)
        yield f"Demo account: {demo.phone} PIN {demo.pin} ({demo.currency}, Money > My balance)"


#: Alert subscribers to try broadcasts on (``gateway run`` prints what the console provider "sends").
DEMO_SUBSCRIBERS = (("+254711000001", "KE", "sw"), ("+254711000002", "KE", "en"), ("+639171234567", "PH", "tl"),
                    ("+971501234567", "AE", "ar"))


def seed_subscribers(connection: Redis) -> Iterator[str]:
    """A few alert subscribers (every topic); an earlier STOP from one of these numbers stays in force."""
    for phone, country, language in DEMO_SUBSCRIBERS:
        subscribers.subscribe(connection, phone, country=country, language=language, topics=subscribers.TOPICS,
                              source="demo")
    yield f"Demo alert subscribers: {len(DEMO_SUBSCRIBERS)} (KE, PH, AE); try POST /api/v1/broadcasts."
