"""The USSD callback: Africa's Talking posts a form, we answer ``CON <screen>`` or ``END <screen>``.

This is the hot path, kept out of Flask's request machinery (Flask's routing alone halved throughput here;
bench/README.md). :class:`UssdService` answers a form in one Redis round trip when it can (this process's copy of
the session, a replay, a new session's first screen: :meth:`UssdService.answer_inline`, which an event loop may
call) and otherwise on the locked path (lock and load, the engine with its handlers, save), which may wait and so
runs in a thread. Effects (SMS, tickets) are dispatched after the save, so a replayed request never repeats them.
Nothing here logs ``text`` (it carries every earlier input, PINs included) or a full phone number.
"""

from __future__ import annotations

import hmac
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, unquote

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


@dataclass(frozen=True)
class Outcome:
    """A turn as it is saved and sent: the body, the engine's state as text, the language to remember, whether
    the session ends, what becomes of the resume point, and the effects to run after the save."""

    body: str
    state: str
    lang: str
    end: bool
    resume: ResumePoint
    effects: tuple[Effect, ...] = ()


#: The outcome recorded for a step that needs a handler (the locked path).
NEEDS_HANDLER = Outcome("", "", "", False, ResumePoint.KEEP)


@dataclass(frozen=True)
class _Opened:
    """A request that needs the locked path: its session's reference, the caller's pseudonym, and the session if
    it is already locked and loaded (None: another request holds the lock)."""

    ref: str
    caller: str
    session: Session | None


class PureSteps:
    """Outcomes of steps between menu screens by (state, input), :data:`NEEDS_HANDLER` for a step that needs a
    handler. Bounded, oldest out first; only short inputs and modest states are kept, so junk input cannot fill
    it."""

    MAX = 10_000
    MAX_INPUT = 32
    MAX_STATE = 2048

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Outcome] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> Outcome | None:
        return self._items.get(key)

    def put(self, key: tuple[str, str], outcome: Outcome) -> Outcome:
        if len(key[1]) <= self.MAX_INPUT and len(key[0]) <= self.MAX_STATE:
            with self._lock:
                self._items[key] = outcome
                while len(self._items) > self.MAX:
                    self._items.pop(next(iter(self._items)))
        return outcome


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
        self._pure = PureSteps()
        self._first: dict[tuple[str, bool], FirstScreen] = {}

    def answer(self, form: Mapping[str, str]) -> str:
        """The body to send back: always ``CON …`` or ``END …``. May wait (for a lock, a handler)."""
        answered = self.answer_inline(form)
        return answered if isinstance(answered, str) else answered()

    def answer_inline(self, form: Mapping[str, str]) -> str | Callable[[], str]:
        """The body, when the request can be answered without waiting on anything but one Redis round trip (this
        process's copy of the session, a replay, a new session's first screen); otherwise a callable that
        finishes the request and may wait, to be run in a thread (an event loop must not wait on a lock or a
        handler). Raises :class:`BadCallback` for a form that is not AT's."""
        started = time.perf_counter()
        request = UssdRequest.from_form(form)
        try:
            begun = self._begin(request)
        except Exception:  # a bug must reach the caller as an apology, never as a 5xx
            log.exception("USSD request failed (session %s, caller %s)", request.session_id[-8:],
                          mask(request.phone))
            begun = self._apology(request, None), "error"
        if isinstance(begun, tuple):
            return self._done(begun, started)
        return partial(self._complete, request, begun, started)

    def screen_of(self, session_id: str, phone: str) -> str | None:
        """The screen a session was on (for end-of-session statistics), or None once it expired."""
        text = self.sessions.state_of(self.sessions.ref(session_id), self.pseudonym(phone))
        return EngineState.loads(text).screen if text else None

    def _begin(self, request: UssdRequest) -> Answer | _Opened:
        """The second and later requests of a session usually find this process's copy of it: when the step only
        moves between menu screens (no handler can run twice), that copy answers with one compare-and-set save.
        Otherwise the session is locked and loaded (or created with its first screen) without waiting; what is
        left is :meth:`_complete`'s."""
        caller_id = self.pseudonym(request.phone)
        ref = self.sessions.ref(request.session_id)
        try:
            session = self.sessions.cached(ref, caller_id)
            if session is not None:
                fast = self._from_copy(session, request)
                if fast is not None:
                    return fast
            session = self.sessions.open(ref, caller_id, self._first_screen(request, caller_id), wait=False)
        except SessionBusy:
            return _Opened(ref, caller_id, None)
        except RedisError as exc:
            log.warning("USSD session store unavailable: %s", type(exc).__name__)
            return self._apology(request, None), "unavailable"
        if session.created:
            return session.last_response or "", "ok"
        return _Opened(ref, caller_id, session)

    def _complete(self, request: UssdRequest, opened: _Opened, started: float) -> str:
        """The rest of a request on a locked session: waiting for the lock if another request holds it, then the
        engine with its handlers."""
        session = opened.session
        try:
            if session is None:
                session = self.sessions.open(opened.ref, opened.caller)
        except (RedisError, SessionBusy) as exc:
            log.warning("USSD session store unavailable: %s", type(exc).__name__)
            return self._done((self._apology(request, None), "unavailable"), started)
        try:
            answer = self._locked(session, request)
        except RedisError as exc:
            log.warning("USSD session store failed mid-request: %s", type(exc).__name__)
            answer = self._apology(request, session.lang), "unavailable"
        except Exception:  # a handler bug: the caller gets an apology, the session stays usable
            log.exception("USSD handler failed (session %s, caller %s)", request.session_id[-8:],
                          mask(request.phone))
            self._release_quietly(session)
            answer = self._apology(request, session.lang), "error"
        return self._done(answer, started)

    @staticmethod
    def _done(answer: Answer, started: float) -> str:
        body, outcome = answer
        metrics.ussd_outcome(outcome).inc()
        metrics.USSD_LATENCY.observe(time.perf_counter() - started)
        return body

    def _from_copy(self, session: Session, request: UssdRequest) -> Answer | None:
        """The request answered from this process's unlocked copy of the session, or None (nothing done) when it
        needs the locked path: a handler to run, an input that rewrites the session, a copy gone stale.

        A step between menu screens depends on nothing but the state and the input, so its outcome is compiled
        once per (state, input) and reused: most callers walk the same few menus."""
        cached = session.replay(request.text)
        if cached is not None:
            return cached, "replay"
        rest = session.new_input(request.text)
        if rest is None or session.state is None:
            return None
        key = (session.state, rest)
        step = self._pure.get(key)
        if step is None:
            try:
                turn = self.engine.feed(self._caller(request, session), EngineState.loads(session.state), rest,
                                        pure=True)
            except NeedsHandler:
                turn = None
            step = self._pure.put(key, self._outcome(turn) if turn else NEEDS_HANDLER)
        if step is NEEDS_HANDLER:
            return None
        return self._finish(session, request, step, compare=True)

    def _locked(self, session: Session, request: UssdRequest) -> Answer:
        """The request answered on a locked session: the replay cache, else the engine with its handlers."""
        cached = session.replay(request.text)
        if cached is not None:
            self.sessions.release(session)
            return cached, "replay"
        caller = self._caller(request, session)
        if session.state is None:
            resume_point = EngineState.loads(session.resume_point) if session.resume_point else None
            turn = self.engine.start(caller, known_language=session.lang is not None, resume_point=resume_point)
            if request.text:  # a session that starts with inputs already (``*384*55*1#``)
                turn = self._then(caller, turn, request.text)
        else:
            state = EngineState.loads(session.state)
            caller = replace(caller, lang=state.lang)
            rest = session.new_input(request.text)
            turn = self.engine.redisplay(state, "common.rewritten") if rest is None else self.engine.feed(
                caller, state, rest)
        answer = self._finish(session, request, self._outcome(turn), caller=caller)
        # None: the lock expired under a slow request; whoever holds it now decides, the caller still gets this.
        return answer or (_body(turn), "stale")

    def _outcome(self, turn: Turn) -> Outcome:
        if self.engine.offers_resume(turn.state):
            resume = ResumePoint.KEEP
        else:
            resume = ResumePoint.SET if self.engine.resumable(turn.state) else ResumePoint.CLEAR
        return Outcome(_body(turn), turn.state.dumps(), turn.state.lang, turn.end, resume, tuple(turn.effects))

    def _finish(self, session: Session, request: UssdRequest, outcome: Outcome, *, compare: bool = False,
                caller: Caller | None = None) -> Answer | None:
        """Save the outcome (a compare-and-set for an unlocked copy), then hand its effects on; None when it was
        not saved."""
        if not self.sessions.save(session, text=request.text, state=outcome.state, lang=outcome.lang,
                                  response=outcome.body, ended=outcome.end, resume=outcome.resume, compare=compare):
            return None
        if outcome.effects and self.effects is not None and caller is not None:
            self.effects(outcome.effects, caller)
        return outcome.body, "end" if outcome.end else "ok"

    def _caller(self, request: UssdRequest, session: Session) -> Caller:
        return Caller(session.id, request.phone, request.network_code, request.service_code,
                      session.lang or self._guess_language(request), session.caller)

    def _first_screen(self, request: UssdRequest, caller_id: str) -> FirstScreen | None:
        """The answer to a session's first request, worked out on this process's guess of the caller's language
        (none for a caller it has not seen) and no resume point; the store saves it in the round trip that would
        otherwise only load, when the guess is right. None when the first request carries inputs already. The
        screen depends only on the language and whether it was chosen: worked out once for each."""
        if request.text:
            return None
        known = self.sessions.known_language(caller_id)
        lang = known or self._guess_language(request)
        first = self._first.get((lang, known is not None))
        if first is None:
            caller = Caller("", request.phone, request.network_code, request.service_code, lang)
            try:
                turn = self.engine.start(caller, known_language=known is not None, pure=True)
            except NeedsHandler:
                return None
            first = self._first[(lang, known is not None)] = FirstScreen(known or "", turn.state.dumps(), _body(turn))
        return first

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
    """``dict(parse_qsl(body, keep_blank_values=True))``, several times faster on AT's forms, where most fields
    need no unquoting and the rest only ``%2A`` (``*``), ``%2B`` (``+``) or ``%23`` (``#``): parsing was a fifth
    of the hot path's CPU (bench/RESULTS.md)."""
    form = {}
    for pair in body.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        if "%" in name or "+" in name:
            name = _unquote(name)
        if "%" in value or "+" in value:
            value = _unquote(value)
        form[name] = value
    return form


def _unquote(text: str) -> str:
    """``unquote_plus``, with the escapes AT sends decoded by ``str.replace`` (in C) first."""
    text = text.replace("+", " ")
    plain = text.replace("%2A", "*").replace("%2a", "*").replace("%2B", "+").replace("%2b", "+").replace("%23", "#")
    return unquote(text) if "%" in plain else plain


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
