"""What a handler may use, and nothing more: the seam between the handlers and the gateway that builds them.

The gateway implements :class:`Services` (``gateway.services.Services``, built once per process with every data
file already parsed) and the engine hands it to each handler as ``call.services``; handlers read it through
:func:`handlers.context.services`. Declaring it here, where handlers live, keeps this package from importing
``gateway`` and tells a reader of any handler exactly which doors it has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from redis import Redis

from identity.keyring import Keyring
from outbox.config import OutboxConfig

from .corridors import CorridorTable
from .directory import Directory
from .remittance.providers import BalanceReader


class HandlerSettings(Protocol):
    """The settings handlers read (a narrow view of ``gateway.config.Settings``)."""

    @property
    def help_sms_per_day(self) -> int:
        """"Send me these numbers by SMS", per number per day."""
        ...

    @property
    def report_retention_days(self) -> int:
        """How long reports and call-back tickets are kept."""
        ...

    @property
    def callback_contact_ttl(self) -> int:
        """Seconds a call-back ticket keeps the caller's full number."""
        ...

    @property
    def check_per_number_per_hour(self) -> int:
        """Genuine-or-fake checks answered per number per hour (handlers/genuine/limits.py)."""
        ...

    @property
    def check_flags_per_day(self) -> int:
        """Numbers one caller may flag per day (handlers/genuine/limits.py)."""
        ...


class Services(Protocol):
    """Everything handlers reach beyond the call itself."""

    @property
    def redis(self) -> Redis:
        """The web process's Redis client (0.5 s timeouts: the USSD path's)."""
        ...

    @property
    def settings(self) -> HandlerSettings: ...

    @property
    def keyring(self) -> Keyring:
        """The installation's keys: sealed numbers, encrypted text, PIN hashes, keyed digests (the caller's own
        pseudonym is already in ``call.caller.pseudonym``)."""
        ...

    @property
    def outbox(self) -> OutboxConfig:
        """The outbox's settings: what :func:`outbox.sms.claim` and single SMS need (the daily caps, the same
        keyring)."""
        ...

    @property
    def balance(self) -> BalanceReader:
        """Reads remittance balances under the USSD deadline."""
        ...

    @property
    def directory(self) -> Callable[[], Directory]:
        """Helplines, missions and international offices: ``directory()`` is the file parsed at start plus the
        console's curated edits as of their latest version (:class:`handlers.curation.LiveDirectory`)."""
        ...

    @property
    def corridors(self) -> CorridorTable:
        """Remittance corridors and their costs, parsed at start."""
        ...
