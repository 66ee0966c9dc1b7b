"""Demo data for ``gateway run`` and ``gateway seed-demo``: enough to try every service by hand.

Seeding adds only what is missing and never overwrites: a restart of ``gateway run`` keeps what a demo caller
changed (their alert language and topics, a PIN lockout) and what an operator created.
"""

from __future__ import annotations

import os
import secrets as random
from collections.abc import Iterator
from pathlib import Path

from redis import Redis

from handlers.remittance import accounts
from handlers.remittance.providers import DEMO_ACCOUNTS
from identity.keyring import Keyring
from outbox import subscribers

from . import secrets
from .config import ConfigError, Settings

#: The console's demo login (an admin of the demo agency); its password is made once and kept under var/.
DEMO_EMAIL = "admin@demo.example"
DEMO_AGENCY = "Demo agency"
PASSWORD_FILE = "demo-console-password"


def seed(connection: Redis, settings: Settings) -> Iterator[str]:
    """Load the demo data (idempotent, adding only what is missing); yields one line per thing loaded. Refuses
    on a production installation (AT credentials set): demo numbers and PINs have no place next to real
    subscribers."""
    if settings.at_username and settings.at_api_key:
        raise ConfigError("AT_USERNAME and AT_API_KEY are set: this looks like production, where demo accounts "
                          "and subscribers must not be seeded. Unset them to seed a development Redis.")
    keyring = secrets.keyring(settings)
    connection.ping()
    yield "Demo data: menus, catalogs, the helpline directory and the corridors ship with the code."
    yield from seed_accounts(connection, keyring)
    yield from seed_subscribers(connection, keyring)
    yield from seed_console(connection, settings.var_dir)


def seed_accounts(connection: Redis, keyring: Keyring) -> Iterator[str]:
    """Link the demo balance accounts to their numbers, with their PINs (hashed; printed here for trying). An
    account already linked is left as it is."""
    for demo in DEMO_ACCOUNTS:
        if accounts.get(connection, keyring.pseudonym(demo.phone)) is None:
            accounts.link(connection, keyring, demo.phone, provider="demo", account=demo.account, pin=demo.pin)
        yield f"Demo account: {demo.phone} PIN {demo.pin} ({demo.currency}, Money > My balance)"


#: Alert subscribers to try broadcasts on (``gateway run`` prints what the console provider "sends").
DEMO_SUBSCRIBERS = (("+254711000001", "KE", "sw"), ("+254711000002", "KE", "en"), ("+639171234567", "PH", "tl"),
                    ("+971501234567", "AE", "ar"))


def seed_subscribers(connection: Redis, keyring: Keyring) -> Iterator[str]:
    """A few alert subscribers (every topic). A number already subscribed keeps its language, countries and
    topics; an earlier STOP from one of these numbers stays in force."""
    for phone, country, language in DEMO_SUBSCRIBERS:
        if subscribers.get(connection, keyring, phone) is None:
            subscribers.subscribe(connection, keyring, phone, country=country, language=language,
                                  topics=subscribers.TOPICS, source="demo")
    yield f"Demo alert subscribers: {len(DEMO_SUBSCRIBERS)} (KE, PH, AE); try POST /api/v1/broadcasts."


def seed_console(connection: Redis, var_dir: Path) -> Iterator[str]:
    """An admin login for the agency console, its password random, made once and kept under ``var_dir``."""
    from .console import users

    path = Path(var_dir) / PASSWORD_FILE
    if users.get(connection, DEMO_EMAIL) is None:
        password = _new_password(path)
        users.create(connection, DEMO_EMAIL, agency=DEMO_AGENCY, role="admin", password=password)
    elif path.is_file():
        password = path.read_text().strip()
    else:
        password = "(the one set earlier)"
    yield f"Console login: {DEMO_EMAIL} password {password} (admin of {DEMO_AGENCY!r})"


def _new_password(path: Path) -> str:
    """A new random password, written to ``path`` (owner-only) in place of an older one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    password = random.token_urlsafe(12)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(password + "\n")
    return password
