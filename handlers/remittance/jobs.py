"""The balance-by-SMS job: run by the outbox worker when the provider missed the USSD deadline.

It receives the caller's pseudonym and their language: never the PIN (already checked), never the number (sealed
in the account link, opened here) and never the provider's URL or credentials (the worker builds its provider
from its own settings). It fetches the balance at the worker's own pace and queues one SMS through the outbox.
"""

from __future__ import annotations

import logging
from functools import cache

from redis import Redis
from rq import get_current_job

from menus.catalog import Catalog
from outbox.config import OutboxConfig, runtime
from outbox.sms import queue_message

from ..context import money
from . import accounts
from .providers import BalanceProvider, ProviderError

log = logging.getLogger(__name__)


#: The balance provider of this worker process, built from its own settings (:func:`configure`).
_provider: BalanceProvider | None = None


def configure(provider: BalanceProvider) -> None:
    """Set the provider this process's balance jobs read from (``gateway worker`` does, from its settings), so no
    provider URL or credential ever travels in a job's arguments."""
    global _provider
    _provider = provider


@cache
def _catalog() -> Catalog:
    return Catalog.load()


def send_balance(caller: str, lang: str, *, connection: Redis | None = None, outbox: OutboxConfig | None = None,
                 provider: BalanceProvider | None = None) -> str:
    """Fetch the balance of ``caller``'s account and queue it as an SMS; returns what happened (for RQ's result).
    In a worker everything comes from the process (its job's connection, :func:`configure`,
    :func:`outbox.config.configure`); tests may pass them."""
    job = get_current_job()
    connection = connection or (job.connection if job else None)
    provider = provider or _provider
    if connection is None or provider is None:
        raise RuntimeError("send_balance runs in a configured worker (gateway worker) or is given its parts.")
    outbox = outbox or runtime().config
    account = accounts.get(connection, caller)
    if account is None:
        return "no-account"
    catalog = _catalog()
    try:
        balance = provider.balance(account.account)
        text = catalog.text(lang, "money.balance.sms", amount=money(float(balance.amount), balance.currency, lang))
    except ProviderError as exc:
        log.warning("Balance SMS: provider failed (%s)", exc)
        text = catalog.text(lang, "money.balance.sms_failed")
    # The screen that promised this SMS took its place in the daily caps already (handlers.money.check_pin).
    queue_message(connection, outbox, outbox.keyring.unseal(account.sealed_phone), text, claimed=True,
                  dedupe_key=f"balance-{caller}-{job.id if job else 'direct'}")
    return "queued"
