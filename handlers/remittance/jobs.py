"""The balance-by-SMS job: run by the outbox worker when the provider missed the USSD deadline.

It receives the caller's pseudonym, their language and the provider spec, never the PIN (already checked) and
never the number (read from the account link). It fetches the balance at the worker's own pace and queues one
SMS through the outbox.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from redis import Redis
from rq import get_current_job

from menus.catalog import Catalog

from ..context import money
from . import accounts
from .providers import ProviderError, provider_from_spec

log = logging.getLogger(__name__)


@cache
def _catalog() -> Catalog:
    return Catalog.load()


def send_balance(caller: str, lang: str, provider: dict[str, Any], connection: Redis | None = None) -> str:
    """Fetch the balance of ``caller``'s account and queue it as an SMS; returns what happened (for RQ's result)."""
    from outbox.sms import queue_message

    job = get_current_job()
    connection = connection or (job.connection if job else None)
    if connection is None:
        raise RuntimeError("send_balance needs a Redis connection: run it in an RQ worker or pass one.")
    account = accounts.get(connection, caller)
    if account is None:
        return "no-account"
    catalog = _catalog()
    try:
        balance = provider_from_spec({**provider, "delay_s": 0}).balance(account.account)
        text = catalog.text(lang, "money.balance.sms", amount=money(float(balance.amount), balance.currency, lang))
    except ProviderError as exc:
        log.warning("Balance SMS: provider failed (%s)", exc)
        text = catalog.text(lang, "money.balance.sms_failed")
    queue_message(connection, account.phone, text, dedupe_key=f"balance-{caller}-{job.id if job else 'direct'}")
    return "queued"
