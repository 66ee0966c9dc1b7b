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

from identity.phones import mask, region_of_calling_code
from menus.catalog import Catalog
from menus.engine import Caller, Effect, Engine, NeedsHandler, Turn
from menus.languages import default_language
from menus.state import EngineState
from sessions.session import Session
from sessions.store import FirstScreen, ResumePoint, SessionBusy, SessionStore

from . import metrics

log = logging.getLogger(__name__)

#: A real AT callback is a few hundred bytes; anything far larger is not one.
MAX_BODY_BYTES = 16 * 1024
_PHONE = re.compile(r"^\+?\d{6,15}$")
#: AT's session ids are short printable tokens; any printable text up to 128 characters is accepted, since keys
#: are built from a digest of it (SessionStore.ref), never from the id itself.
_SESSION_ID = re.compile(r"^[^\x00-\x1f\x7f]{1,128}$")

EffectSink = Callable[[Sequence[Effect], Caller], None]
#: (body, outcome for the metrics)
Answer = tuple[str, str]


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
    """Answers one USSD callback. Thread-safe: every request's state lives in its own locals and in Redis.

    ``pseudonym`` names a caller by their number (the installation's keyed pseudonym).
    """

    def __init__(self, engine: Engine[Any], sessions: SessionStore, catalog: Catalog,
                 pseudonym: Callable[[str], str], effects: EffectSink | None = None) -> None:
        self.engine = engine
        self.sessions = sessions
        self.catalog = catalog
        self.pseudonym = pseudonym
        self.effects = effects

    def answer(self, form: Mapping[str, str]) -> str:
        """The body to send back: always ``CON …`` or ``END …``."""
        started = time.perf_counter()
        request = UssdRequest.from_form(form)
        try:
            body, outcome = self._answer(request)
        except Exception:  # a handler bug must reach the caller as an apology, never as a 5xx
            log.exception("USSD request failed (session %s, caller %s)", request.session_id[-8:],
                          mask(request.phone))
            body, outcome = self._apology(request, None), "error"
        metrics.USSD_REQUESTS.labels(outcome).inc()
        metrics.USSD_LATENCY.observe(time.perf_counter() - started)
        return body

    def screen_of(self, session_id: str, phone: str) -> str | None:
        """The screen a session was on (for end-of-session statistics), or None once it expired."""
        text = self.sessions.state_of(self.sessions.ref(session_id), self.pseudonym(phone))
        return EngineState.loads(text).screen if text else None

    def _answer(self, request: UssdRequest) -> Answer:
        """The second and later requests of a session usually find this process's copy of it: when the step only
        moves between menu screens (no handler can run twice), that copy answers with one compare-and-set save.
        Anything else (no copy, a stale one, a handler, a concurrent request) takes the locked path."""
        try:
            caller_id = self.pseudonym(request.phone)
            ref = self.sessions.ref(request.session_id)
            session = self.sessions.cached(ref, caller_id)
            if session is not None:
                try:
                    fast = self._step(session, request, pure=True)
                except NeedsHandler:
                    fast = None
                if fast is not None:
                    return fast
            session = self.sessions.open(ref, caller_id, self._first_screen(request, ref, caller_id))
            if session.created:
                return session.last_response or "", "ok"
        except (RedisError, SessionBusy) as exc:
            log.warning("USSD session store unavailable: %s", type(exc).__name__)
            return self._apology(request, None), "unavailable"
        try:
            answer = self._step(session, request, pure=False)
        except RedisError as exc:
            log.warning("USSD session store failed mid-request: %s", type(exc).__name__)
            return self._apology(request, session.lang), "unavailable"
        except Exception:  # a handler bug: the caller gets an apology, the session stays usable
            log.exception("USSD handler failed (session %s, caller %s)", request.session_id[-8:],
                          mask(request.phone))
            self._release_quietly(session)
            return self._apology(request, session.lang), "error"
        assert answer is not None  # only a pure step gives up
        return answer

    def _step(self, session: Session, request: UssdRequest, *, pure: bool) -> Answer | None:
        """One request against a loaded session: the replay cache, else the engine, then the save. ``pure``: the
        session is this process's unlocked copy; None (or :class:`NeedsHandler`) then sends the request down the
        locked path, and nothing was done."""
        cached = session.replay(request.text)
        if cached is not None:
            self.sessions.release(session)
            return cached, "replay"
        state = EngineState.loads(session.state) if session.state else None
        caller = self._caller(request, session, state.lang if state else None)
        if state is None:
            if pure:
                return None
            resume_point = EngineState.loads(session.resume_point) if session.resume_point else None
            turn = self.engine.start(caller, known_language=session.lang is not None, resume_point=resume_point)
            if request.text:  # a session that starts with inputs already (``*384*55*1#``)
                turn = self._then(caller, turn, request.text)
        else:
            rest = session.new_input(request.text)
            if rest is None:
                turn = self.engine.redisplay(state, "common.rewritten")
            else:
                turn = self.engine.feed(caller, state, rest, pure=pure)
        body = _body(turn)
        if self.engine.offers_resume(turn.state):
            resume = ResumePoint.KEEP
        else:
            resume = ResumePoint.SET if self.engine.resumable(turn.state) else ResumePoint.CLEAR
        saved = self.sessions.save(session, text=request.text, state=turn.state.dumps(), lang=turn.state.lang,
                                   response=body, ended=turn.end, resume=resume, compare=pure)
        if not saved:
            # Pure: another process saved the session since this copy was made; take the locked path. Locked:
            # the lock expired under a slow request, whoever holds it now decides; the caller still gets this.
            return None if pure else (body, "stale")
        if turn.effects and self.effects is not None:
            self.effects(turn.effects, caller)
        return body, "end" if turn.end else "ok"

    def _caller(self, request: UssdRequest, session: Session, lang: str | None) -> Caller:
        return Caller(session.id, request.phone, request.network_code, request.service_code,
                      lang or session.lang or self._guess_language(request), session.caller)

    def _first_screen(self, request: UssdRequest, ref: str, caller_id: str) -> FirstScreen | None:
        """The answer to a session's first request, worked out on this process's guess of the caller's language
        (none for a caller it has not seen) and no resume point; the store saves it in the round trip that would
        otherwise only load, when the guess is right. None when the first request carries inputs already."""
        if request.text:
            return None
        known = self.sessions.known_language(caller_id)
        caller = Caller(ref, request.phone, request.network_code, request.service_code,
                        known or self._guess_language(request), caller_id)
        try:
            turn = self.engine.start(caller, known_language=known is not None, pure=True)
        except NeedsHandler:
            return None
        return FirstScreen(known or "", turn.state.dumps(), _body(turn))

    def _then(self, caller: Caller, first: Turn, text: str) -> Turn:
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
