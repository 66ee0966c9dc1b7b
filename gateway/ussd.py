"""The USSD callback: Africa's Talking posts a form, we answer ``CON <screen>`` or ``END <screen>``.

This is the hot path, so it is written against plain WSGI rather than Flask's request machinery (Flask's routing
alone halves throughput here; see bench/README.md): one Redis round trip to lock and load the session, the pure
engine step, one round trip to save. Effects (SMS, tickets) are dispatched after the save, so a replayed
request never repeats them. Nothing here logs ``text`` (it carries every earlier input, PINs included) or a
full phone number.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from redis.exceptions import RedisError

from identity.keyring import Keyring
from identity.phones import mask, region_of_calling_code
from menus.catalog import Catalog
from menus.engine import RESUME, Caller, Effect, Engine, NeedsHandler, Turn
from menus.languages import default_language
from sessions.store import FirstScreen, Session, SessionBusy, SessionStore

from . import metrics

log = logging.getLogger(__name__)

#: A real AT callback is a few hundred bytes; anything far larger is not one.
MAX_BODY_BYTES = 16 * 1024
_PHONE = re.compile(r"^\+?\d{6,15}$")
_SESSION_ID = re.compile(r"^[\w.:-]{1,128}$")

EffectSink = Callable[[Sequence[Effect], Caller], None]


class BadCallback(ValueError):
    """The form is not an AT USSD callback; the message names the field."""


@dataclass(frozen=True)
class UssdRequest:
    session_id: str
    phone: str
    network_code: str
    service_code: str
    text: str

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> UssdRequest:
        session_id = (form.get("sessionId") or "").strip()
        if not _SESSION_ID.match(session_id):
            raise BadCallback("sessionId is missing or malformed")
        phone = msisdn(form.get("phoneNumber"))
        if phone is None:
            raise BadCallback("phoneNumber is missing or is not a phone number")
        return cls(
            session_id=session_id,
            phone=phone,
            network_code=(form.get("networkCode") or "").strip()[:8],
            service_code=(form.get("serviceCode") or "").strip()[:32],
            text=form.get("text") or "",
        )


def _body(turn: Turn) -> str:
    """AT's answer: ``CON`` keeps the session open, ``END`` closes it."""
    return ("END " if turn.end else "CON ") + turn.text


def msisdn(raw: str | None) -> str | None:
    """AT's ``phoneNumber`` in E.164 (``+`` added when missing), or None when it is not a number at all. A full
    ``phonenumbers`` parse is not needed here: AT sends the network's own MSISDN."""
    phone = (raw or "").strip().replace(" ", "")
    if not _PHONE.match(phone):
        return None
    return phone if phone.startswith("+") else "+" + phone


class UssdService:
    """Answers one USSD callback. Thread-safe: every request's state lives in its own locals and in Redis."""

    def __init__(self, engine: Engine, sessions: SessionStore, catalog: Catalog, keyring: Keyring,
                 services: Any = None, effects: EffectSink | None = None) -> None:
        self.engine = engine
        self.sessions = sessions
        self.catalog = catalog
        self.keyring = keyring
        self.services = services
        self.effects = effects

    def answer(self, form: Mapping[str, str]) -> str:
        """The body to send back: always ``CON …`` or ``END …``."""
        started = time.perf_counter()
        request = UssdRequest.from_form(form)
        outcome = "ok"
        try:
            body, outcome = self._answer(request)
        except Exception:  # a handler bug must reach the caller as an apology, never as a 5xx
            log.exception("USSD request failed (session %s, caller %s)", request.session_id[-8:],
                          mask(request.phone))
            body, outcome = self._apology(request, None), "error"
        metrics.USSD_REQUESTS.labels(outcome).inc()
        metrics.USSD_LATENCY.observe(time.perf_counter() - started)
        return body

    def _answer(self, request: UssdRequest) -> tuple[str, str]:
        try:
            caller_id = self.keyring.pseudonym(request.phone)
            fast = self._from_local_copy(request, caller_id)
            if fast is not None:
                return fast
            session = self.sessions.open(request.session_id, caller_id, self._first_screen(request, caller_id))
            if session.created:
                return session.last_response or "", "ok"
        except (RedisError, SessionBusy) as exc:
            log.warning("USSD session store unavailable: %s", type(exc).__name__)
            return self._apology(request, None), "unavailable"
        lang = (session.state or {}).get("l") or session.lang or self._guess_language(request)
        try:
            cached = session.replay(request.text)
            if cached is not None:
                self.sessions.release(session)
                return cached, "replay"
            caller = Caller(request.session_id, request.phone, request.network_code, request.service_code, lang,
                            self.services)
            if session.state is None:
                turn = self.engine.start(caller, known_language=session.lang is not None, resume=session.resume)
                if request.text:
                    turn = self._then(caller, turn, request.text)
            else:
                rest = session.new_input(request.text)
                if rest is None:
                    turn = self.engine.redisplay(session.state, "common.rewritten")
                else:
                    turn = self.engine.feed(caller, session.state, rest)
            body, saved = self._save(session, request, turn)
        except RedisError as exc:
            log.warning("USSD session store failed mid-request: %s", type(exc).__name__)
            return self._apology(request, lang), "unavailable"
        except Exception:  # a handler bug: the caller gets an apology, the session stays usable
            log.exception("USSD handler failed (session %s, caller %s)", request.session_id[-8:],
                          mask(request.phone))
            self._release_quietly(session)
            return self._apology(request, lang), "error"
        if saved and turn.effects and self.effects is not None:
            self.effects(turn.effects, caller)
        return body, "end" if turn.end else "ok"

    def _from_local_copy(self, request: UssdRequest, caller_id: str) -> tuple[str, str] | None:
        """Answer from this process's copy of the session with one compare-and-set save, when the step only moves
        between menu screens (no handler can run twice). None sends the request down the locked path."""
        session = self.sessions.cached(request.session_id, caller_id)
        if session is None or session.state is None:
            return None
        cached = session.replay(request.text)
        if cached is not None:
            return cached, "replay"
        rest = session.new_input(request.text)
        if rest is None:
            return None
        caller = Caller(request.session_id, request.phone, request.network_code, request.service_code,
                        session.state["l"], self.services)
        try:
            turn = self.engine.feed(caller, session.state, rest, pure=True)
        except NeedsHandler:
            return None
        body, saved = self._save(session, request, turn, compare=True)
        if not saved:
            return None
        return body, "end" if turn.end else "ok"

    def _first_screen(self, request: UssdRequest, caller_id: str) -> FirstScreen | None:
        """The answer to a session's first request, worked out on this process's guess of the caller's language
        (none for a caller it has not seen) and no resume point; the store saves it in the round trip that would
        otherwise only load, when the guess is right. None when the first request carries inputs already."""
        if request.text:
            return None
        known = self.sessions.known_language(caller_id)
        caller = Caller(request.session_id, request.phone, request.network_code, request.service_code,
                        known or self._guess_language(request), self.services)
        try:
            turn = self.engine.start(caller, known_language=known is not None, pure=True)
        except NeedsHandler:
            return None
        return FirstScreen(known or "", turn.state, _body(turn))

    def _save(self, session: Session, request: UssdRequest, turn: Turn, *, compare: bool = False) -> tuple[str, bool]:
        """Save the turn; return the body to send and whether it was saved (False: another request got there
        first, or a lock expired under this one). The resume point follows :meth:`Engine.resumable`."""
        body = _body(turn)
        # On the resume offer itself the resume point stays as it is until the caller picks.
        resume = None if turn.state.get("s") == RESUME else self.engine.resumable(turn.state)
        saved = self.sessions.save(session, text=request.text, state=turn.state, response=body, ended=turn.end,
                                   resume=resume, compare=compare)
        return body, saved

    def _then(self, caller: Caller, first: Turn, text: str) -> Turn:
        """A session that starts with inputs already (a dial string like ``*384*55*1#``)."""
        turn = self.engine.feed(caller, first.state, text)
        turn.effects = [*first.effects, *turn.effects]
        return turn

    def _release_quietly(self, session: Session) -> None:
        try:
            self.sessions.release(session)
        except RedisError:
            pass  # the lock expires by itself

    def _guess_language(self, request: UssdRequest) -> str:
        return default_language(region_of_calling_code(request.phone), self.catalog.messages)

    def _apology(self, request: UssdRequest, lang: str | None) -> str:
        lang = lang or self._guess_language(request)
        return "END " + self.catalog.text(lang, "common.unavailable")


def read_form(environ: dict[str, Any]) -> dict[str, str]:
    """The form fields of a WSGI request (``application/x-www-form-urlencoded``), last value wins."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > MAX_BODY_BYTES:
        raise BadCallback("the request body is larger than an AT callback can be")
    if length >= 0:
        raw = environ["wsgi.input"].read(length)
    else:  # chunked: no length given, the server ends the stream
        raw = environ["wsgi.input"].read(MAX_BODY_BYTES + 1)
        if len(raw) > MAX_BODY_BYTES:
            raise BadCallback("the request body is larger than an AT callback can be")
    return parse_form(raw.decode("utf-8", "replace"))


def parse_form(body: str) -> dict[str, str]:
    """``dict(parse_qsl(body, keep_blank_values=True))``, three times faster on AT's forms, where most fields
    need no unquoting (measured in bench/README.md: parsing was a tenth of the hot path's CPU)."""
    form = {}
    for pair in body.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if "%" in value or "+" in value:
            value = unquote_plus(value)
        form[name] = value
    return form


class UssdEndpoint:
    """WSGI callable for ``POST /ussd``; :class:`gateway.app.Dispatcher` routes here before Flask."""

    def __init__(self, service: UssdService, callback_token: str | None) -> None:
        self.service = service
        self.callback_token = callback_token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if self.callback_token is not None and not _token_ok(environ, self.callback_token):
            return _respond(start_response, "403 Forbidden", "END Forbidden")
        try:
            body = self.service.answer(read_form(environ))
        except BadCallback as exc:
            return _respond(start_response, "400 Bad Request", f"END Bad request: {exc}")
        return _respond(start_response, "200 OK", body)


def _token_ok(environ: Mapping[str, Any], token: str) -> bool:
    given = dict(parse_qsl(environ.get("QUERY_STRING", ""))).get("token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def _respond(start_response: Callable[..., Any], status: str, body: str) -> list[bytes]:
    data = body.encode("utf-8")
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]
