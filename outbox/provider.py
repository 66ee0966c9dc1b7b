"""The SMS provider behind one small interface: Africa's Talking through its official SDK, or the console.

Everything the SDK can raise is translated here, once, into :mod:`outbox.errors` types. The SDK is synchronous
(``requests``) and sets its own default timeout; we always pass ours. It reports a non-2xx answer only as
``AfricasTalkingException(body)``, without the status code (AT-PROTOCOL §4), so a refusal of our credentials is
recognised by AT's 401 body ("The supplied authentication is invalid") or any body that speaks of
authentication; a body in AT's JSON shape (AT answers HTTP 409 for Nigerian do-not-disturb rejections) is read
as per-recipient results; anything else is treated as transient.
"""

from __future__ import annotations

import copy
import json
import logging
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from identity.phones import mask

from .errors import ProviderAuthError, ProviderError, ProviderUnavailable

log = logging.getLogger(__name__)

#: (connect, read) seconds for one provider request: a batch must finish well inside its lease. With a lease
#: shorter than twice their sum, :meth:`AfricasTalkingProvider.within` shortens them (see outbox.config.configure).
DEFAULT_TIMEOUT_S = (3.05, 15.0)
#: AT statusCodes meaning the provider took the message (100 Processed, 101 Sent, 102 Queued).
ACCEPTED = frozenset({100, 101, 102})
TRANSIENT = frozenset({500, 501, 502})
_AUTH_BODY = re.compile(r"authenticat|unauthori[sz]ed|invalid api ?key", re.IGNORECASE)


@dataclass(frozen=True)
class RecipientResult:
    phone: str
    status_code: int
    status: str
    message_id: str | None

    @property
    def accepted(self) -> bool:
        return self.status_code in ACCEPTED

    @property
    def transient(self) -> bool:
        """AT's own trouble (500 InternalServerError, 501 GatewayError, 502 RejectedByGateway): worth a retry."""
        return self.status_code in TRANSIENT


class Provider(Protocol):
    """Sends one text to many numbers; returns one result per number it answered for."""

    name: str

    def send(self, text: str, phones: Sequence[str]) -> list[RecipientResult]: ...


class AfricasTalkingProvider:
    """AT's SMS API through ``africastalking`` 2.0.3, optionally pointed at an AT-compatible server."""

    name = "africastalking"

    def __init__(self, username: str, api_key: str, *, sender_id: str | None = None, api_url: str | None = None,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT_S) -> None:
        # Our own instance, not africastalking.initialize(), which rebinds the SDK's module globals.
        self._service = SMSService(username, api_key)
        if api_url:
            # Private attributes of the pinned SDK (AT-PROTOCOL §4): it has no other way to change the host.
            self._service._baseUrl = api_url.rstrip("/") + "/version1"
            self._service._contentUrl = self._service._baseUrl
        self._sender_id = sender_id
        self._timeout = timeout

    @property
    def timeout_s(self) -> float:
        """The longest one request may take (connect plus read)."""
        return sum(self._timeout)

    def within(self, seconds: float) -> AfricasTalkingProvider:
        """This provider, or a copy whose timeouts add up to at most ``seconds`` (shared SDK service)."""
        if self.timeout_s <= seconds:
            return self
        scale = seconds / self.timeout_s
        bounded = copy.copy(self)
        bounded._timeout = (self._timeout[0] * scale, self._timeout[1] * scale)
        return bounded

    def send(self, text: str, phones: Sequence[str]) -> list[RecipientResult]:
        with sdk_errors():
            try:
                answer = self._service.send(text, list(phones), sender_id=self._sender_id, timeout=self._timeout)
            except AfricasTalkingException as exc:
                parsed = _parse(str(exc))  # AT's JSON under a non-2xx status: per-recipient results (409 DND)
                if parsed is None:
                    raise
                return parsed
        parsed = _parse(answer)
        if parsed is None:
            raise ProviderUnavailable("Africa's Talking answered in an unexpected shape.", detail=str(answer)[:200])
        return parsed


@contextmanager
def sdk_errors() -> Iterator[None]:
    """Everything the AT SDK raises, as :mod:`outbox.errors`: the one boundary for SMS and voice calls. A body
    that speaks of authentication (AT's 401 "The supplied authentication is invalid") is final; other refusals,
    timeouts and connection errors are transient; the SDK's own ``ValueError`` (a number it will not send to)
    is a bug upstream, as ours are E.164."""
    try:
        yield
    except AfricasTalkingException as exc:
        body = str(exc)
        if _AUTH_BODY.search(body):
            raise ProviderAuthError("Africa's Talking refused the credentials (AT_USERNAME/AT_API_KEY).",
                                    status=401, detail=body) from exc
        raise ProviderUnavailable("Africa's Talking answered with an error.", detail=body) from exc
    except requests.Timeout as exc:
        raise ProviderUnavailable("Africa's Talking did not answer in time.", detail=type(exc).__name__) from exc
    except requests.RequestException as exc:
        raise ProviderUnavailable("Could not reach Africa's Talking.", detail=type(exc).__name__) from exc
    except ValueError as exc:
        raise ProviderError("The SDK rejected a phone number.", detail=type(exc).__name__) from exc


def _parse(answer: Any) -> list[RecipientResult] | None:
    """AT's ``{"SMSMessageData": {"Recipients": [...]}}`` as results, or None when it is not that shape."""
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except ValueError:
            return None
    try:
        recipients = answer["SMSMessageData"]["Recipients"]
        return [
            RecipientResult(
                phone=str(r.get("number", "")),
                status_code=int(r.get("statusCode", 0)),
                status=str(r.get("status", ""))[:40],
                message_id=(str(r["messageId"]) if r.get("messageId") not in (None, "", "None") else None),
            )
            for r in recipients
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


class ConsoleProvider:
    """Prints what would be sent: ``gateway run`` without AT credentials. Numbers are masked."""

    name = "console"

    def send(self, text: str, phones: Sequence[str]) -> list[RecipientResult]:
        results = [RecipientResult(phone, 101, "Success", f"console-{uuid.uuid4().hex}") for phone in phones]
        shown = ", ".join(mask(p) for p in phones[:3]) + (f" and {len(phones) - 3} more" if len(phones) > 3 else "")
        print(f"[SMS to {shown}] {text}", flush=True)
        return results
