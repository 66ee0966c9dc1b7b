"""Where balances come from: a provider interface, a demo provider and an HTTP provider template.

A provider answers ``balance(account) -> Balance`` and may be slow or fail; the USSD handler calls it through
:class:`BalanceReader`, which waits at most a deadline (``BALANCE_DEADLINE_S``, default 3 s) and otherwise lets
the caller go with "we will send your balance by SMS" (:mod:`.jobs`).

Provider errors surface as :class:`ProviderError`, whatever the transport raised.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol


class ProviderError(Exception):
    """The provider did not give a balance; the message names the provider and the reason."""


@dataclass(frozen=True)
class Balance:
    amount: Decimal
    currency: str  # ISO 4217


class BalanceProvider(Protocol):
    def balance(self, account: str) -> Balance: ...


@dataclass(frozen=True)
class DemoAccount:
    phone: str
    pin: str
    account: str
    currency: str
    amount: Decimal


#: Printed by ``gateway seed-demo``. Numbers from the demo ranges of each country's plan; PINs are for trying only.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("+254711000001", "1234", "demo-ke-0001", "KES", Decimal("12850.50")),
    DemoAccount("+254711000002", "2468", "demo-ke-0002", "KES", Decimal("530.00")),
    DemoAccount("+639171234567", "1357", "demo-ph-0001", "PHP", Decimal("4210.75")),
    DemoAccount("+8801712345678", "8642", "demo-bd-0001", "BDT", Decimal("15300.00")),
    DemoAccount("+971501234567", "4321", "demo-ae-0001", "AED", Decimal("1275.25")),
)


class DemoProvider:
    """Seeded demo balances; ``delay_s`` makes it as slow as a bad day, to try the SMS fallback."""

    name = "demo"

    def __init__(self, delay_s: float = 0.0, accounts: tuple[DemoAccount, ...] = DEMO_ACCOUNTS) -> None:
        self.delay_s = delay_s
        self._balances = {a.account: Balance(a.amount, a.currency) for a in accounts}

    def balance(self, account: str) -> Balance:
        if self.delay_s:
            time.sleep(self.delay_s)
        try:
            return self._balances[account]
        except KeyError:
            raise ProviderError(f"Demo provider has no account {account!r}; run `gateway seed-demo`.") from None


class HttpProvider:
    """Template for a real provider: ``GET {base_url}/accounts/{account}/balance`` answering
    ``{"amount": "123.45", "currency": "KES"}``. Adapt the path and fields to the provider's API."""

    name = "http"

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s

    def balance(self, account: str) -> Balance:
        url = f"{self.base_url}/accounts/{urllib.parse.quote(account, safe='')}/balance"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310 - configured URL
                body = json.loads(response.read().decode("utf-8"))
            return Balance(Decimal(str(body["amount"])), str(body["currency"]).upper())
        except (OSError, ValueError, KeyError, TypeError, InvalidOperation) as exc:
            # Not the URL: it may carry credentials, and this message reaches logs.
            raise ProviderError(f"The HTTP balance provider failed: {type(exc).__name__}") from exc


def provider_from_spec(spec: Mapping[str, Any]) -> BalanceProvider:
    """Build a provider from a small spec made from the settings of the process that uses it. The spec may hold a
    URL with credentials: it never goes into a job, a log or Redis (the worker builds its own)."""
    kind = spec.get("kind", "demo")
    if kind == "demo":
        return DemoProvider(delay_s=float(spec.get("delay_s", 0.0)))
    if kind == "http":
        return HttpProvider(str(spec["url"]), timeout_s=float(spec.get("timeout_s", 10.0)))
    raise ProviderError(f"Balance provider {kind!r} is not known; use 'demo' or 'http'.")


class BalanceReader:
    """Reads balances in a small thread pool so the USSD request can stop waiting at a deadline."""

    def __init__(self, spec: Mapping[str, Any], deadline_s: float, threads: int = 8) -> None:
        self.provider = provider_from_spec(spec)
        self.deadline_s = deadline_s
        self._pool: ThreadPoolExecutor | None = None
        self._threads = threads

    def submit(self, account: str) -> Future[Balance]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="balance")
        return self._pool.submit(self.provider.balance, account)
