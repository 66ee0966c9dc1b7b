"""The voice-call provider: Africa's Talking's Voice API through the official SDK (``Voice.call``), or the console.

An alert call is placed with ``POST {base}/call`` (``from`` our AT number, ``to`` the subscriber); AT answers
at once with one entry per number (``Queued`` or a refusal such as ``InvalidPhoneNumber``) and calls our
``/voice`` callback when the subscriber picks up, which then speaks the alert. Errors are translated here, once,
into :mod:`outbox.errors`, exactly as :mod:`outbox.provider` does for SMS: a 401 body fails the broadcast's calls
for good, anything else transient is retried by the ledger.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from africastalking.Voice import VoiceService

from identity.phones import mask

from .errors import ProviderUnavailable
from .provider import DEFAULT_TIMEOUT_S, sdk_errors

log = logging.getLogger(__name__)

#: AT's entry status for a call it took; anything else is a refusal for that number.
QUEUED = "Queued"


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
