"""What handlers get to work with, and the registry that plugs them into the menus by name.

The gateway builds :class:`Services` once per process. Handlers receive it as ``call.services``; effects
they return are dispatched here after the session is saved, so a replayed USSD request never repeats them.

Effects:

=============== ===================================================== ==============================================
kind            payload                                               dispatched as
=============== ===================================================== ==============================================
``sms``         ``text``, ``priority`` (``normal``/``emergency``),    one SMS to the caller through the outbox
                ``dedupe`` (optional key: at most once a day),        (within the daily caps of :mod:`outbox.sms`)
                ``claimed`` (the handler took its place in the caps)
``balance_sms`` ``caller`` (pseudonym), ``lang``                      RQ job ``handlers.remittance.jobs.send_balance``
=============== ===================================================== ==============================================

No payload ever holds a PIN or a report's text; nothing here logs a payload or a full number.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis import Redis
from rq import Queue

from handlers import alerts, help, money, reports
from handlers import services as handler_services
from handlers.corridors import CorridorTable, load_corridors
from handlers.curation import LiveDirectory
from handlers.genuine import menu as genuine
from handlers.remittance.providers import BalanceReader
from identity.keyring import Keyring
from identity.phones import mask
from menus.catalog import Catalog
from menus.engine import Caller, Effect, Handler
from outbox.config import OutboxConfig

from .config import Settings

log = logging.getLogger(__name__)

BALANCE_JOB = "handlers.remittance.jobs.send_balance"


@dataclass(frozen=True)
class Services:
    """The gateway's implementation of :class:`handlers.services.Services`: one per process, every data file
    parsed when it is built (:meth:`build`), never on a caller's request."""

    settings: Settings
    redis: Redis
    catalog: Catalog
    #: The installation's keys (pseudonyms, sealed numbers, encrypted text, PIN hashes): handlers key per-caller
    #: data with it and store nothing readable without it.
    keyring: Keyring
    #: The outbox's settings (the same keyring, and the caps on single SMS).
    outbox: OutboxConfig
    balance: BalanceReader
    #: The help directory as callers see it: the file plus the console's curated edits (``directory()``).
    directory: LiveDirectory
    corridors: CorridorTable

    @classmethod
    def build(cls, settings: Settings, redis: Redis, catalog: Catalog, keyring: Keyring,
              outbox: OutboxConfig) -> Services:
        return cls(settings=settings, redis=redis, catalog=catalog, keyring=keyring, outbox=outbox,
                   balance=BalanceReader(balance_spec(settings), settings.balance_deadline_s),
                   directory=LiveDirectory(redis), corridors=load_corridors())


def balance_spec(settings: Settings) -> dict[str, object]:
    """The balance provider, as the JSON-able spec the handler and the fallback job both build it from."""
    if settings.balance_provider == "http":
        return {"kind": "http", "url": settings.balance_api_url or "", "timeout_s": 10.0}
    return {"kind": "demo", "delay_s": settings.balance_demo_delay_s}


#: Every handler a menu may name as ``handler`` or ``action``. Handlers are plain functions of a
#: :class:`menus.engine.Call`; they reach Redis, the data files and the outbox through ``call.services``.
HANDLERS: dict[str, Handler[handler_services.Services]] = {
    "help.emergency": help.emergency,
    "help.embassy": help.embassy,
    "help.offices": help.offices,
    "help.sms": help.send_sms,
    "help.callback": help.callback,
    "money.balance": money.balance,
    "money.check_pin": money.check_pin,
    "money.costs": money.costs,
    "alerts.here": alerts.pick_here,
    "alerts.countries": alerts.countries,
    "alerts.more_countries": alerts.more_countries,
    "alerts.pick": alerts.pick,
    "alerts.channel": alerts.channel,
    "alerts.topics": alerts.topics,
    "alerts.subscribe": alerts.subscribe,
    "alerts.mine": alerts.mine,
    "alerts.list": alerts.pairs,
    "alerts.stop": alerts.stop,
    "alerts.more_stops": alerts.more_stops,
    "alerts.cancel": alerts.cancel,
    "alerts.latest": alerts.latest,
    "report.category": reports.category,
    "report.write": reports.write,
    "report.submit": reports.submit,
    "check.ref": genuine.ref,
    "check.licence": genuine.licence,
    "check.number": genuine.number,
    "check.flag_number": genuine.flag_number,
    "check.flag_contact": genuine.flag_contact,
    "check.flag_submit": genuine.flag_submit,
}


def dispatch_effects(services: Services, effects: Sequence[Effect], caller: Caller) -> None:
    """Hand effects to the outbox. Never raises: the caller already has their answer."""
    for effect in effects:
        try:
            if effect.kind == "sms":
                _send_sms(services, effect, caller)
            elif effect.kind == "balance_sms":
                # The job builds the provider from the worker's own settings: no URL or credential in Redis.
                Queue("normal", connection=services.redis).enqueue(
                    BALANCE_JOB, str(effect.payload["caller"]), str(effect.payload["lang"]), job_timeout=60,
                    result_ttl=3600, description="balance SMS",
                )
            else:
                log.warning("No dispatcher for effect %r; dropped.", effect.kind)
        except Exception:  # the answer is already sent; record and carry on with the next effect
            log.exception("Effect %r for caller %s failed", effect.kind, mask(caller.phone))


def _send_sms(services: Services, effect: Effect, caller: Caller) -> None:
    from outbox.sms import queue_message

    payload = effect.payload
    queue_message(services.redis, services.outbox, caller.phone, str(payload["text"]),
                  priority=str(payload.get("priority", "normal")), dedupe_key=payload.get("dedupe"),
                  claimed=bool(payload.get("claimed")))
