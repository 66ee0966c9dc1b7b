"""Alerts by phone call: the voice-call provider (AT's Voice API through the official SDK's ``Voice.call``, or the
console) and what a broadcast batch does with its voice subscribers.

An alert call is placed with ``POST {base}/call`` (``from`` our AT number, ``to`` the subscriber); AT answers
at once with one entry per number (``Queued`` or a refusal such as ``InvalidPhoneNumber``) and calls our
``/voice`` callback when the subscriber picks up, which then speaks the alert. Errors are translated here, once,
into :mod:`outbox.errors`, exactly as :mod:`outbox.provider` does for SMS: a 401 body fails the broadcast's calls
for good, anything else transient is retried by the ledger.

A subscriber whose channel is ``voice`` (member of ``{aud}:voice``) is called instead of texted, inside the batch
that holds them (:func:`place_alert_calls`, from :func:`outbox.jobs.send_batch`): same ledger, same claim and
lease; whom a broadcast called is remembered (sealed), so a batch retried or re-driven calls nobody twice except
when a worker dies between AT taking the calls and that note (the SMS crash rule). Calls have
their own token bucket (``VOICE_CALL_RATE``) and a cap per broadcast (``VOICE_CALLS_PER_BROADCAST``), reserved
atomically on the broadcast record, so parallel workers never exceed it. Nobody is left without the alert: a
voice subscriber over the cap, one AT refuses to call, and all of them when the Voice API fails, get the SMS.

What a call needs when it is answered is kept under AT's session id (:func:`outbox.keys.alert_call`): the
broadcast and the language, never the number nor the text (the broadcast record already keeps that).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from africastalking.Voice import VoiceService
from redis import Redis

from identity.phones import mask

from . import keys, throttle
from .errors import ProviderError, ProviderUnavailable
from .provider import DEFAULT_TIMEOUT_S, sdk_errors
from .scripts import Lua

if TYPE_CHECKING:
    from .config import Runtime

log = logging.getLogger(__name__)

#: AT's entry status for a call it took; anything else is a refusal for that number.
QUEUED = "Queued"
#: How long an alert call's session is remembered: AT rings for a minute or so, and a call lasts minutes.
CALL_TTL_S = 6 * 3600
#: How long a broadcast remembers whom it called: longer than any batch's retries.
CALLED_TTL_S = 2 * 24 * 3600

# KEYS: broadcast record. ARGV: calls wanted, cap. Reserve up to the cap's remainder; returns how many were taken.
_RESERVE = Lua("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local used = tonumber(redis.call('HGET', KEYS[1], 'call_slots') or '0')
local take = math.max(0, math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - used))
if take > 0 then redis.call('HINCRBY', KEYS[1], 'call_slots', take) end
return take
""")
# KEYS: broadcast record. ARGV: field, amount. Count on a record that still exists (never create one without TTL).
_COUNT = Lua("""
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
""")


@dataclass(frozen=True)
class CallResult:
    phone: str
    status: str
    session_id: str | None

    @property
    def accepted(self) -> bool:
        return self.status == QUEUED


class VoiceProvider(Protocol):
    """Places calls from our AT number; one result per number it answered for."""

    name: str

    def call(self, phones: Sequence[str]) -> list[CallResult]: ...


class AfricasTalkingVoice:
    """AT's Voice API through ``africastalking`` 2.0.3, optionally pointed at an AT-compatible server."""

    name = "africastalking"

    def __init__(self, username: str, api_key: str, number: str, *, api_url: str | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT_S) -> None:
        self._service = VoiceService(username, api_key)
        if api_url:
            # A private attribute of the pinned SDK (AT-PROTOCOL §7): it has no other way to change the host.
            self._service._baseUrl = api_url.rstrip("/")
        self.number = number
        self._timeout = timeout

    def call(self, phones: Sequence[str]) -> list[CallResult]:
        with sdk_errors():
            answer = self._service.call(self.number, list(phones), timeout=self._timeout)
        parsed = _parse(answer)
        if parsed is None:
            raise ProviderUnavailable("The Voice API answered in an unexpected shape.", detail=str(answer)[:200])
        return parsed


def _parse(answer: Any) -> list[CallResult] | None:
    """AT's ``{"entries": [...], "errorMessage": "None"}`` as results, or None when it is not that shape."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            return None
    try:
        return [
            CallResult(phone=str(e.get("phoneNumber", "")), status=str(e.get("status", ""))[:40],
                       session_id=(str(e["sessionId"]) if e.get("sessionId") not in (None, "", "None") else None))
            for e in answer["entries"]
        ]
    except (KeyError, TypeError, AttributeError):
        return None


class ConsoleVoice:
    """Prints the calls it would place (``gateway run`` without AT credentials). Numbers are masked."""

    name = "console"

    def call(self, phones: Sequence[str]) -> list[CallResult]:
        print(f"[voice call to {', '.join(mask(p) for p in phones)}]", flush=True)
        return [CallResult(phone, QUEUED, f"console-{uuid.uuid4().hex}") for phone in phones]


def place_alert_calls(connection: Redis, rt: Runtime, broadcast_id: str, language: str,
                      token_of: dict[str, str]) -> set[str]:
    """Call this batch's voice subscribers (``token_of``: digits → sealed number, opted-out ones already gone);
    returns the sealed numbers AT took a call for. Everyone else in the batch is the SMS path's."""
    if rt.voice is None or not token_of:
        return set()
    tokens = list(token_of.values())
    wanted = [t for t, v in zip(tokens, connection.smismember(keys.voice_subscribers(), tokens), strict=True) if v]
    if not wanted:
        return set()
    # Called by an earlier attempt of this batch (then a crash, or an SMS failure that retries the batch): not again.
    done = {t for t, d in zip(wanted, connection.smismember(keys.called(broadcast_id), wanted), strict=True) if d}
    wanted = [t for t in wanted if t not in done]
    if not wanted:
        return done
    chosen = wanted[:int(_RESERVE(connection, [keys.broadcast(broadcast_id)],
                                  [len(wanted), rt.config.voice_calls_per_broadcast]))]
    if len(chosen) < len(wanted):
        log.info("Broadcast %s: %d voice subscribers over VOICE_CALLS_PER_BROADCAST get the SMS.", broadcast_id,
                 len(wanted) - len(chosen))
    if not chosen:
        return done
    digits_of = {token: digits for digits, token in token_of.items()}
    rate = rt.config.voice_call_rate
    throttle.acquire(connection, rt.config.account + ":voice", len(chosen), rate=rate, capacity=rate)
    try:
        results = rt.voice.call(["+" + digits_of[t] for t in chosen])
    except ProviderError as exc:
        log.warning("Broadcast %s: %d alert calls not placed (%s); they get the SMS.", broadcast_id, len(chosen), exc)
        results = []
    placed = {r.phone.lstrip("+"): r for r in results if r.accepted}
    reached = {t for t in chosen if digits_of[t] in placed}
    pipe = connection.pipeline(transaction=False)
    for session_id in (r.session_id for r in placed.values() if r.session_id):
        pipe.hset(keys.alert_call(session_id), mapping={"b": broadcast_id, "l": language})
        pipe.expire(keys.alert_call(session_id), CALL_TTL_S)
    if reached:
        pipe.sadd(keys.called(broadcast_id), *reached)
        pipe.expire(keys.called(broadcast_id), CALLED_TTL_S)
    if len(reached) < len(chosen):  # refused or failed: the slots go back, those people get the SMS
        _COUNT(connection, [keys.broadcast(broadcast_id)], ["call_slots", len(reached) - len(chosen)])
    pipe.execute()
    return reached | done


@dataclass(frozen=True)
class AlertCall:
    """An answered alert call: which broadcast it speaks, in which language."""

    broadcast_id: str
    language: str


def answered(connection: Redis, session_id: str) -> AlertCall | None:
    """The alert call AT's ``session_id`` belongs to, or None (not one of ours). The first time a call is seen
    answered, the broadcast's ``answered`` count moves (AT may repeat a request: it moves once)."""
    key = keys.alert_call(session_id)
    broadcast_id, language = (v.decode() if isinstance(v, bytes) else None for v in connection.hmget(key, "b", "l"))
    if broadcast_id is None or language is None:
        return None
    if connection.hsetnx(key, "a", "1"):
        _COUNT(connection, [keys.broadcast(broadcast_id)], ["answered", 1])
    return AlertCall(broadcast_id, language)


def alert_text(connection: Redis, call: AlertCall) -> tuple[str, str] | None:
    """The alert's words and their language: the broadcast's message in the call's language, else its first one
    (as the SMS does), without the SMS footer. None once the broadcast record is gone."""
    raw = connection.hget(keys.broadcast(call.broadcast_id), "message")
    if not raw:
        return None
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(message, dict) or not message:
        return None
    lang = call.language if call.language in message else next(iter(message))
    return str(message[lang]), lang


def voice_estimate(subscribers: int, *, enabled: bool, cap: int) -> dict[str, Any]:
    """What the estimate says about calls: how many of the audience take alerts by call, how many would be called
    (at most ``cap`` a broadcast), and that the rest get the SMS."""
    calls = min(subscribers, cap) if enabled else 0
    out: dict[str, Any] = {"subscribers": subscribers, "calls": calls, "cap": cap, "capped": enabled and
                           subscribers > cap, "sms_instead": subscribers - calls}
    if not enabled:
        out["note"] = "Voice alerts are off (AT_VOICE_NUMBER unset): voice subscribers get the SMS."
    elif subscribers > cap:
        out["note"] = (f"At most {cap} calls a broadcast (VOICE_CALLS_PER_BROADCAST): the other "
                       f"{subscribers - cap} voice subscribers get the SMS.")
    return out
