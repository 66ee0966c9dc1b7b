"""The outbox's settings and the process-wide runtime a worker's jobs use.

The gateway builds an :class:`OutboxConfig` from its Settings and hands it, with a provider, to
:func:`configure` once per worker process (``gateway worker``); tests do the same. RQ jobs run in that
process and read it through :func:`runtime`. This holds no Redis client: jobs use their own job's connection.
It is a module global because RQ imports a job function by its dotted path and passes it only the enqueued
arguments, so the worker process configures its jobs once, here, rather than through RQ internals.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from identity.keyring import Keyring

if TYPE_CHECKING:
    from menus.catalog import Catalog

    from .provider import Provider
    from .voice import VoiceProvider

#: Recipients per provider request (AT documents no maximum; 500 keeps a request well under a second).
DEFAULT_BATCH_SIZE = 500
#: Recipients per second the provider account may take (AT publishes no limit; ask your account manager).
DEFAULT_SEND_RATE = 1000
#: How long a worker holds a batch before the sweeper may give it to another worker. At least
#: :data:`LEASE_PER_PROVIDER_TIMEOUT` times the provider's timeout, or the sweeper would re-send a batch that is
#: still with the provider.
DEFAULT_LEASE_S = 60
LEASE_PER_PROVIDER_TIMEOUT = 2
#: How often each worker's sweeper looks for work to re-drive (due schedules, expired leases, lost jobs).
DEFAULT_SWEEP_INTERVAL_S = 5
#: Attempts of one batch on transient provider failures before its recipients count as failed.
DEFAULT_MAX_ATTEMPTS = 8
#: Back-off between attempts, doubling from the first, capped at the last.
RETRY_BASE_S = 5
RETRY_CAP_S = 300
#: How long message ids are kept for delivery reports (AT retries reports for hours, not days).
MESSAGE_TTL_S = 7 * 24 * 3600
#: How long a finished broadcast's record stays readable.
BROADCAST_TTL_S = 90 * 24 * 3600
#: Single SMS (confirmations, help numbers, balances) per number per UTC day, all kinds together, and for the
#: whole installation: what stops SMS pumping (a script making us text premium or random numbers).
DEFAULT_SMS_PER_NUMBER_PER_DAY = 5
DEFAULT_SMS_SINGLE_PER_DAY = 20_000
#: Replies to a number's own keyword SMS (JOIN, START, HELP, STOP) per number per UTC day: an allowance of their
#: own, so a number that used its single SMS still hears what its JOIN took.
DEFAULT_SMS_REPLIES_PER_NUMBER_PER_DAY = 20
#: Alert calls (:mod:`outbox.voice`): at most this many per broadcast (the rest of its voice subscribers get the
#: SMS), at this many a second on the account's own call bucket.
DEFAULT_VOICE_CALLS_PER_BROADCAST = 1000
DEFAULT_VOICE_CALL_RATE = 10


@dataclass(frozen=True)
class OutboxConfig:
    #: The installation's keys: numbers are sealed before they are stored and unsealed only in a job.
    keyring: Keyring = field(kw_only=True, repr=False)
    batch_size: int = DEFAULT_BATCH_SIZE
    send_rate: int = DEFAULT_SEND_RATE
    lease_s: int = DEFAULT_LEASE_S
    sweep_interval_s: int = DEFAULT_SWEEP_INTERVAL_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    #: Name of the provider account the token bucket is kept for.
    account: str = "default"
    #: Price of one SMS segment by ISO country code, with "default" for the rest.
    prices: dict[str, float] = field(default_factory=lambda: {"default": 0.01})
    currency: str = "USD"
    #: Where a subscriber sends STOP (the short code or number that receives inbound SMS), named in the footer
    #: of every normal broadcast; None: the footer says to reply.
    stop_to: str | None = None
    #: The catalogs the footer's words come from (the web app passes the one it loaded; None: loaded when needed).
    catalog: Catalog | None = field(default=None, compare=False, repr=False)
    #: First back-off after a transient provider failure; it doubles per attempt up to RETRY_CAP_S.
    retry_base_s: float = RETRY_BASE_S
    #: Caps on single SMS (:mod:`outbox.sms`): per number per day, and for everyone per day.
    sms_per_number_per_day: int = DEFAULT_SMS_PER_NUMBER_PER_DAY
    sms_single_per_day: int = DEFAULT_SMS_SINGLE_PER_DAY
    #: Replies to the number's own keyword SMS, per number per day (under ``sms_single_per_day`` still).
    sms_replies_per_number_per_day: int = DEFAULT_SMS_REPLIES_PER_NUMBER_PER_DAY
    #: Whether voice subscribers are called (``AT_VOICE_NUMBER`` set); off, they get the SMS like everyone else.
    voice_calls: bool = False
    voice_calls_per_broadcast: int = DEFAULT_VOICE_CALLS_PER_BROADCAST
    voice_call_rate: int = DEFAULT_VOICE_CALL_RATE

    def backoff(self, attempt: int) -> float:
        return min(RETRY_CAP_S, self.retry_base_s * 2 ** max(0, attempt))


@dataclass(frozen=True)
class Runtime:
    provider: Provider
    config: OutboxConfig
    #: Places alert calls; None: voice alerts are off in this process and voice subscribers get the SMS.
    voice: VoiceProvider | None = None


log = logging.getLogger(__name__)
_runtime: Runtime | None = None


def configure(provider: Provider, config: OutboxConfig, voice: VoiceProvider | None = None) -> None:
    """Set the provider and settings this process's jobs use (once per worker; again in tests).

    A provider with a timeout (``within``) gets one of at most half the lease, so a batch is never re-driven
    while its first attempt may still be with the provider (a short ``SMS_LEASE_S`` shortens AT's timeout).
    """
    global _runtime
    within = getattr(provider, "within", None)
    if within is not None:
        bounded = within(config.lease_s / LEASE_PER_PROVIDER_TIMEOUT)
        if bounded is not provider:
            log.warning("SMS_LEASE_S=%d: the provider's timeout is cut to %.1f s (half the lease).", config.lease_s,
                        bounded.timeout_s)
        provider = bounded
    _runtime = Runtime(provider, config, voice if config.voice_calls else None)


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("The outbox is not configured in this process; call outbox.config.configure() first "
                           "(gateway worker does).")
    return _runtime
