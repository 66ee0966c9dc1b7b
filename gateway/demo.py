"""Demo data for ``gateway run`` and ``gateway seed-demo``: enough to try every service by hand."""

from __future__ import annotations

from collections.abc import Iterator

from redis import Redis

from handlers.remittance import accounts
from handlers.remittance.providers import DEMO_ACCOUNTS
from sessions.identity import caller_key, load_pepper

from .config import Settings


def seed(connection: Redis, settings: Settings) -> Iterator[str]:
    """Load the demo data (idempotent); yields one line per thing loaded."""
    connection.ping()
    yield "Demo data: menus, catalogs, the helpline directory and the corridors ship with the code."
    yield from seed_accounts(connection)


def seed_accounts(connection: Redis) -> Iterator[str]:
    """Link the demo balance accounts to their numbers, with their PINs (hashed; printed here for trying)."""
    pepper = load_pepper(connection)
    for demo in DEMO_ACCOUNTS:
        accounts.link(connection, caller_key(demo.phone, pepper), provider="demo", account=demo.account,
                      pin=demo.pin, phone=demo.phone)
        yield f"Demo account: {demo.phone} PIN {demo.pin} ({demo.currency}, Money > My balance)"
