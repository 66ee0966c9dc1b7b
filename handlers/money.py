"""Money screens: the balance behind a PIN, and the cost of sending 200 USD home.

Balance: ``money.balance`` checks there is an account and no lockout, then shows the PIN screen (a ``secret``
input in money.yaml); ``money.check_pin`` gets the PIN as its input and nowhere else keeps it. A right PIN reads
the balance under the deadline; a late provider turns into a ``balance_sms`` effect (a job, after the session is
saved) and the caller is told the balance comes by SMS.

Costs: the caller's corridor is home (number) <- host (MCC), priced from the dated corridors file; demo figures
say so on screen.
"""

from __future__ import annotations

import logging
import math
from concurrent.futures import TimeoutError as FutureTimeout

from menus.engine import Call, Effect, Reply
from menus.model import InputSpec, Target
from outbox.sms import claim

from .context import country_name, host_of, money, number, origin_of, pseudonym, services
from .corridors import cheapest
from .home_costs import screen as home_costs_screen
from .home_costs import with_note
from .remittance import accounts, pins
from .remittance.providers import ProviderError

log = logging.getLogger(__name__)

PIN_SPEC = InputSpec(target=Target(action="money.check_pin"), pattern=r"\d{4}", error="money.pin.format",
                     max_length=4, secret=True)
_PROVIDER_KEYS = {
    "Digital money transfer operator": "money.provider.digital",
    "Mobile wallet": "money.provider.wallet",
    "Exchange house": "money.provider.exchange",
    "Money transfer operator (agent)": "money.provider.agent",
    "Bank": "money.provider.bank",
}


def _locked(call: Call, seconds: int) -> Reply:
    minutes = max(1, math.ceil(seconds / 60))
    return Reply(text=call.tn("money.pin.locked", minutes, minutes=minutes), end=True)


def _relink(call: Call) -> Reply:
    return Reply(text=call.t("money.pin.relink"), end=True)


def balance(call: Call) -> Reply:
    """``money.balance``: the gate in front of the PIN screen."""
    svc = services(call)
    caller = pseudonym(call)
    account = accounts.get(svc.redis, caller)
    if account is None:
        return Reply(text=call.t("money.no_account"), end=True)
    if account.needs_relink:
        return _relink(call)
    state = pins.lockout(svc.redis, caller)
    if state.locked:
        return _locked(call, state.seconds_left)
    return Reply(goto="money.pin")


def check_pin(call: Call) -> Reply:
    """``money.check_pin``: the PIN is ``call.input``; it is checked and dropped."""
    svc = services(call)
    caller = pseudonym(call)
    account = accounts.get(svc.redis, caller)
    if account is None:
        return Reply(text=call.t("money.no_account"), end=True)
    if account.needs_relink:
        return _relink(call)
    attempt = pins.claim_attempt(svc.redis, caller)  # counted before the compare: see pins.claim_attempt
    if not attempt.allowed:
        return _locked(call, attempt.seconds_left)
    if not pins.matches(svc.keyring, call.input or "", account.salt, account.pin_hash):
        failure = pins.record_failure(svc.redis, caller, attempt)
        if failure.relink:
            accounts.require_relink(svc.redis, caller)
            return _relink(call)
        if failure.locked_s:
            return _locked(call, failure.locked_s)
        return Reply(text=call.tn("money.pin.wrong", failure.left, tries=failure.left), expect=PIN_SPEC)
    pins.record_success(svc.redis, caller)
    accounts.renew(svc.redis, caller)
    reader = svc.balance
    try:
        result = reader.submit(account.account).result(timeout=reader.deadline_s)
    except FutureTimeout:
        # The SMS takes its place in the daily caps now, so the screen can tell when there is none left.
        if not claim(svc.redis, svc.outbox, call.caller.phone):
            return Reply(text=call.t("sms.capped"), end=True)
        effect = Effect("balance_sms", {"caller": caller, "lang": call.caller.lang})
        return Reply(text=call.t("money.balance.by_sms"), end=True, effects=[effect])
    except ProviderError as exc:
        log.warning("Balance provider failed: %s", exc)
        return Reply(text=call.t("money.balance.failed"), end=True)
    amount = money(float(result.amount), result.currency, call.caller.lang)
    # An END (the session keeps the balance only for AT's replay window), saying how to come back.
    return Reply(text=call.t("money.balance.show", amount=amount, code=call.caller.service_code), end=True)


def costs(call: Call) -> Reply:
    """``money.costs``: the three cheapest ways to send 200 USD along the caller's corridor."""
    host, origin = host_of(call), origin_of(call)
    lang = call.caller.lang
    if origin and origin == host:  # at home: no corridor to price, what relatives abroad pay instead
        return home_costs_screen(call, origin, lambda p: call.t(_PROVIDER_KEYS.get(p, "money.provider.other")))
    table = services(call).corridors
    quotes = cheapest(origin, host, amount_usd=table.quoted_amount_usd, limit=3, table=table) if origin and host else []
    if not quotes:
        return Reply(text=call.t("money.costs.none", home=country_name(origin, lang), host=country_name(host, lang)))
    header = call.t("money.costs.title", amount=money(table.quoted_amount_usd, "USD", lang),
                    home=country_name(origin, lang), host=country_name(host, lang))
    lines = []
    for quote in quotes:  # cheapest first; not numbered, so no line reads as an option
        option = quote.option
        label = call.t(_PROVIDER_KEYS.get(option.provider, "money.provider.other"))
        lines.append(call.t("money.costs.line", provider=label, total=money(quote.total_cost_usd, "USD", lang),
                            fee=money(option.fee_usd, "USD", lang), margin=number(option.fx_margin_pct, lang)))
    # Where the figures come from closes the list, on its last line: the first page holds a price, not the note.
    return with_note(call, header, lines, demo=table.demo, date=table.as_of.isoformat())
