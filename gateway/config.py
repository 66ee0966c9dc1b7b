"""Settings from the environment, read in one place.

Every variable is optional on a development machine (``GATEWAY_DEV=1``) and under ``gateway run``; in production
``GATEWAY_SECRET`` and ``CALLBACK_TOKEN`` are required (CONTRACT §1, enforced by :mod:`gateway.secrets`). Names are
the ones the contract gives; project-specific knobs carry a ``GATEWAY_`` or ``USSD_`` prefix. Values are parsed
here, once, so nothing downstream touches ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

#: The screen budget most operators accept (Safaricom is reported at 160 characters); the protocol allows 182.
DEFAULT_PAGE_BUDGET = 160
#: How long an idle USSD session is kept. Operators drop a session after 30–180 s; a little slack costs nothing.
DEFAULT_SESSION_TTL = 300
#: A caller who redials within this many seconds is offered to continue where they were (CONTRACT §2).
DEFAULT_RESUME_TTL = 600
#: How long a USSD request waits for the balance provider before promising the balance by SMS.
DEFAULT_BALANCE_DEADLINE_S = 3.0
#: How long reports and call-back tickets are kept for agencies.
DEFAULT_REPORT_RETENTION_DAYS = 180
#: Outbox: recipients per second for the AT account (AT publishes no limit), per provider request, lease seconds.
#: A lease under twice AT's timeout (~18 s) is allowed (the crash drills use 5 s): the worker then cuts the
#: provider's timeout to half the lease (outbox.config.configure).
DEFAULT_SMS_SEND_RATE = 1000
DEFAULT_SMS_BATCH_SIZE = 500
DEFAULT_SMS_LEASE_S = 60
#: Voice: calls one broadcast may place (a call costs far more than an SMS and takes minutes), and the longest
#: a static voice prompt may take to say (``gateway check-menus``).
DEFAULT_VOICE_CALLS_PER_BROADCAST = 1000
#: Alert calls per second the AT account may place (its own bucket, apart from SMS): a call rings for up to a
#: minute and holds a line, so calls go out far slower than texts.
DEFAULT_VOICE_CALL_RATE = 10
DEFAULT_VOICE_MAX_PROMPT_S = 35
#: Genuine-or-fake checks (handlers/genuine): answers per number per hour (guessing a broadcast's ref is then
#: hopeless: outbox/refs.py), and numbers one caller may flag per day.
DEFAULT_CHECK_PER_NUMBER_PER_HOUR = 5
DEFAULT_CHECK_FLAGS_PER_DAY = 3


class ConfigError(ValueError):
    """A setting has a value the gateway cannot use; the message names the variable and the fix."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; unset it or give one from {low} to {high}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range; give a number from {low} to {high}.")
    return value


def _sentinels(env: Mapping[str, str]) -> tuple[tuple[str, int], ...]:
    """``REDIS_SENTINELS`` as (host, port) pairs: ``host:port,host:port``; an IPv6 host in brackets."""
    raw = (env.get("REDIS_SENTINELS") or "").strip()
    pairs = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        host, _, port = item.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"REDIS_SENTINELS: {item!r} is not host:port (e.g. 10.0.0.5:26379).")
        pairs.append((host, int(port)))
    if pairs and not (env.get("REDIS_SENTINEL_MASTER") or "").strip():
        raise ConfigError("REDIS_SENTINELS needs REDIS_SENTINEL_MASTER (the name the Sentinels monitor).")
    return tuple(pairs)


def _balance_provider(env: Mapping[str, str]) -> str:
    name = (env.get("BALANCE_PROVIDER") or "demo").strip().lower()
    if name not in ("demo", "http"):
        raise ConfigError(f"BALANCE_PROVIDER={name!r} is not known; use 'demo' or 'http'.")
    if name == "http" and not env.get("BALANCE_API_URL"):
        raise ConfigError("BALANCE_PROVIDER=http needs BALANCE_API_URL (the provider's base URL).")
    return name


@dataclass(frozen=True)
class Settings:
    """The gateway's configuration. Build it with :meth:`from_env`; tests use :func:`dataclasses.replace`."""

    redis_url: str | None = None
    #: Sentinels (host, port) and the name of the primary they watch; when set, used instead of ``redis_url``.
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = ""
    var_dir: Path = field(default_factory=lambda: Path("var"))
    sms_provider: str = "console"
    at_username: str | None = None
    at_api_key: str | None = None
    at_sender_id: str | None = None
    at_api_url: str | None = None
    callback_token: str | None = None
    #: ``GATEWAY_SECRET``: every key of :mod:`identity.keyring` derives from it; never written to Redis.
    secret: str | None = None
    #: ``GATEWAY_DEV=1``: a development machine, where missing secrets are made and kept under ``var_dir``.
    dev: bool = False
    port: int = 8000
    page_budget: int = DEFAULT_PAGE_BUDGET
    session_ttl: int = DEFAULT_SESSION_TTL
    resume_ttl: int = DEFAULT_RESUME_TTL
    log_level: str = "INFO"
    web_workers: int = 1
    web_threads: int = 8
    #: Services (handlers/): balance provider ``demo`` or ``http`` (the template in handlers/remittance).
    balance_provider: str = "demo"
    balance_api_url: str | None = None
    balance_deadline_s: float = DEFAULT_BALANCE_DEADLINE_S
    #: Makes the demo provider slow, to try the balance-by-SMS fallback by hand.
    balance_demo_delay_s: float = 0.0
    report_retention_days: int = DEFAULT_REPORT_RETENTION_DAYS
    #: A call-back ticket keeps the full number (apart from the ticket) this long.
    callback_contact_ttl: int = 3 * 24 * 3600
    #: "Send me these numbers by SMS", per number per day.
    help_sms_per_day: int = 2
    #: Every single SMS (confirmations, help numbers, balances) per number per day, and for everyone per day.
    sms_per_number_per_day: int = 5
    sms_single_per_day: int = 20_000
    #: Replies to a number's own keyword SMS (JOIN, START, HELP, STOP) per number per day: their own allowance.
    sms_replies_per_number_per_day: int = 20
    #: Outbox (outbox/): send rate, batch size and lease; SMS_PRICE_TABLE is a JSON file {"default": 0.01, "KE": …}.
    sms_send_rate: int = DEFAULT_SMS_SEND_RATE
    sms_batch_size: int = DEFAULT_SMS_BATCH_SIZE
    sms_lease_s: int = DEFAULT_SMS_LEASE_S
    sms_sweep_interval_s: int = 5
    sms_price_table: Path | None = None
    sms_currency: str = "USD"
    #: ``SMS_STOP_NUMBER``: where subscribers send STOP (the short code or number receiving inbound SMS), named in
    #: every normal broadcast's footer. Unset: ``AT_SENDER_ID`` when it is a number (a short code), else none and
    #: the footer says to reply.
    sms_stop_number: str | None = None
    #: Console: an audience at least this large needs a second, explicit confirmation before it is sent.
    console_confirm_threshold: int = 10_000
    #: Voice (gateway/voice/): the AT number that places alert calls (unset: voice alerts off), an AT-compatible
    #: Voice API's base URL, the public base URL AT reaches this gateway at (for callback and audio URLs in the
    #: XML; unset: the request's own host), where built audio lives, and the caps above.
    at_voice_number: str | None = None
    at_voice_api_url: str | None = None
    public_url: str | None = None
    voice_audio_dir: Path | None = None
    voice_calls_per_broadcast: int = DEFAULT_VOICE_CALLS_PER_BROADCAST
    voice_call_rate: int = DEFAULT_VOICE_CALL_RATE
    voice_max_prompt_s: int = DEFAULT_VOICE_MAX_PROMPT_S
    #: ``CHECK_PER_NUMBER_PER_HOUR`` and ``CHECK_FLAGS_PER_DAY`` (handlers/genuine/limits.py).
    check_per_number_per_hour: int = DEFAULT_CHECK_PER_NUMBER_PER_HOUR
    check_flags_per_day: int = DEFAULT_CHECK_FLAGS_PER_DAY

    @property
    def audio_dir(self) -> Path:
        """Where ``gateway build-audio`` writes and the web app reads the prompts' audio."""
        return self.voice_audio_dir or self.var_dir / "audio"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        username = env.get("AT_USERNAME") or None
        api_key = env.get("AT_API_KEY") or None
        provider = (env.get("SMS_PROVIDER") or "").strip().lower()
        if not provider:
            provider = "africastalking" if username and api_key else "console"
        if provider not in ("africastalking", "console"):
            raise ConfigError(f"SMS_PROVIDER={provider!r} is not known; use 'africastalking' or 'console'.")
        if provider == "africastalking" and not (username and api_key):
            raise ConfigError("SMS_PROVIDER=africastalking needs AT_USERNAME and AT_API_KEY to be set.")
        return cls(
            redis_url=env.get("REDIS_URL") or None,
            redis_sentinels=_sentinels(env),
            redis_sentinel_master=(env.get("REDIS_SENTINEL_MASTER") or "").strip(),
            var_dir=Path(env.get("GATEWAY_VAR_DIR") or "var"),
            sms_provider=provider,
            at_username=username,
            at_api_key=api_key,
            at_sender_id=env.get("AT_SENDER_ID") or None,
            at_api_url=(env.get("AT_API_URL") or "").rstrip("/") or None,
            callback_token=env.get("CALLBACK_TOKEN") or None,
            secret=env.get("GATEWAY_SECRET") or None,
            dev=(env.get("GATEWAY_DEV") or "").strip().lower() in ("1", "true", "yes"),
            port=_int(env, "PORT", 8000, 1, 65535),
            page_budget=_int(env, "USSD_PAGE_BUDGET", DEFAULT_PAGE_BUDGET, 40, 182),
            session_ttl=_int(env, "USSD_SESSION_TTL", DEFAULT_SESSION_TTL, 30, 3600),
            resume_ttl=_int(env, "USSD_RESUME_TTL", DEFAULT_RESUME_TTL, 60, 3600),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            web_workers=_int(env, "WEB_WORKERS", 1, 1, 64),
            web_threads=_int(env, "WEB_THREADS", 8, 1, 1024),
            balance_provider=_balance_provider(env),
            balance_api_url=(env.get("BALANCE_API_URL") or "").rstrip("/") or None,
            balance_deadline_s=_int(env, "BALANCE_DEADLINE_MS", int(DEFAULT_BALANCE_DEADLINE_S * 1000), 100,
                                    10000) / 1000,
            balance_demo_delay_s=_int(env, "BALANCE_DEMO_DELAY_MS", 0, 0, 60000) / 1000,
            report_retention_days=_int(env, "REPORT_RETENTION_DAYS", DEFAULT_REPORT_RETENTION_DAYS, 1, 3650),
            help_sms_per_day=_int(env, "HELP_SMS_PER_DAY", 2, 1, 50),
            sms_per_number_per_day=_int(env, "SMS_PER_NUMBER_PER_DAY", 5, 1, 100),
            sms_single_per_day=_int(env, "SMS_SINGLE_PER_DAY", 20_000, 1, 10_000_000),
            sms_replies_per_number_per_day=_int(env, "SMS_REPLIES_PER_NUMBER_PER_DAY", 20, 1, 100),
            sms_send_rate=_int(env, "SMS_SEND_RATE", DEFAULT_SMS_SEND_RATE, 1, 1_000_000),
            sms_batch_size=_int(env, "SMS_BATCH_SIZE", DEFAULT_SMS_BATCH_SIZE, 1, 10_000),
            sms_lease_s=_int(env, "SMS_LEASE_S", DEFAULT_SMS_LEASE_S, 5, 3600),
            sms_sweep_interval_s=_int(env, "SMS_SWEEP_INTERVAL_S", 5, 1, 300),
            sms_price_table=Path(env["SMS_PRICE_TABLE"]) if env.get("SMS_PRICE_TABLE") else None,
            sms_currency=(env.get("SMS_CURRENCY") or "USD").upper(),
            sms_stop_number=(env.get("SMS_STOP_NUMBER") or "").strip() or (
                env.get("AT_SENDER_ID") if (env.get("AT_SENDER_ID") or "").lstrip("+").isdigit() else None),
            console_confirm_threshold=_int(env, "CONSOLE_CONFIRM_THRESHOLD", 10_000, 1, 100_000_000),
            at_voice_number=(env.get("AT_VOICE_NUMBER") or "").strip() or None,
            at_voice_api_url=(env.get("AT_VOICE_API_URL") or "").rstrip("/") or None,
            public_url=(env.get("GATEWAY_PUBLIC_URL") or "").rstrip("/") or None,
            voice_audio_dir=Path(env["VOICE_AUDIO_DIR"]) if env.get("VOICE_AUDIO_DIR") else None,
            voice_calls_per_broadcast=_int(env, "VOICE_CALLS_PER_BROADCAST", DEFAULT_VOICE_CALLS_PER_BROADCAST, 0,
                                           10_000_000),
            voice_call_rate=_int(env, "VOICE_CALL_RATE", DEFAULT_VOICE_CALL_RATE, 1, 10_000),
            voice_max_prompt_s=_int(env, "VOICE_MAX_PROMPT_S", DEFAULT_VOICE_MAX_PROMPT_S, 5, 300),
            check_per_number_per_hour=_int(env, "CHECK_PER_NUMBER_PER_HOUR", DEFAULT_CHECK_PER_NUMBER_PER_HOUR, 1,
                                           1000),
            check_flags_per_day=_int(env, "CHECK_FLAGS_PER_DAY", DEFAULT_CHECK_FLAGS_PER_DAY, 1, 100),
        )

    def with_redis(self, url: str) -> Settings:
        return replace(self, redis_url=url)
