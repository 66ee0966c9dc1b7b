"""Demo data for ``gateway run`` and ``gateway seed-demo``: enough to try every service by hand."""

from __future__ import annotations

from collections.abc import Iterator

from redis import Redis

from .config import Settings


def seed(connection: Redis, settings: Settings) -> Iterator[str]:
    """Load the demo data (idempotent); yields one line per thing loaded."""
    connection.ping()
    yield "Demo data: menus, catalogs and the helpline directory ship with the code; nothing else to load yet."
