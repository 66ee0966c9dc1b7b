"""``POST /voice``: a phone call walks the same menus as USSD, spoken (CONTRACT §7).

Each request AT sends is one step. The engine is the USSD engine and the session lives in the same store, under
AT's voice ``sessionId``; the caller's language is the one remembered for their number (USSD, SMS and voice
share it). The answer is AT's XML: the screen spoken by one ``<Say>`` (English) or ``<Play>`` (every other
language: a Swahili caller never hears English text-to-speech) inside a ``<GetDigits>``, or a ``<Record>`` where
the screen asks for free text, then a ``<Redirect>`` that AT follows only when the caller pressed nothing.

Replays. AT may send a request twice. Every ``callbackUrl`` we hand out carries the step it answers (``s``), so
a request is known by (step, keys pressed): the same again gets the same XML from the store's replay cache and
changes nothing; a request for a step already passed gets the current screen again. Keys go to the engine and
nowhere else: never logged, never spoken back (a PIN).

An outbound call AT reports answered is an alert call (:mod:`outbox.voice` placed it for a broadcast): it speaks
the alert in the subscriber's language instead of the menu.

Keys: ``0`` back and ``*`` repeat, as the prompts say; the USSD numbers pick options. No key: one re-prompt,
then goodbye. The final request (``isActive=0``) closes the session and counts the call's length and, for a
call that did not reach an end, the screen it was dropped on.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from redis import Redis
from redis.exceptions import RedisError

from identity.keyring import Keyring
from identity.phones import mask, region_of_calling_code
from menus.catalog import Catalog
from menus.engine import Caller, Effect, Engine, Turn
from menus.languages import default_language
from menus.state import EngineState
from outbox import voice as alert_calls
from sessions.keys import state_key
from sessions.store import ResumePoint, SessionBusy, SessionStore

from . import actions
from .audio import URL_PATH, AudioLibrary, Prompt
from .speech import is_free_text, line_prompt, screen_prompt, text_prompt
from .tts import has_voice as tts_has_voice

log = logging.getLogger(__name__)

#: Languages spoken with AT's own ``<Say>`` (AT documents English only); every other language is ``<Play>``.
SAY_LANGUAGES = frozenset({"en"})
#: What the engine gets for a recorded message; the recording's URL travels on ``Caller.recording_url``.
RECORDED = "voice message"
STATS_TTL = 90 * 24 * 3600
#: Seconds AT waits for keys, for a menu and for a number (a PIN) typed with ``#``.
MENU_TIMEOUT_S = 8
NUMBER_TIMEOUT_S = 15
#: A report's voice message at most this long.
RECORD_MAX_S = 120
#: An alert call repeats its alert at most this many times on request.
ALERT_REPEATS = 3
_SESSION_ID = re.compile(r"^[\w.:-]{1,128}$")
_PHONE = re.compile(r"^\+?\d{6,15}$")
_DIGITS = re.compile(r"^[0-9*#]{1,32}$")

EffectSink = Callable[[Sequence[Effect], Caller], None]


def stats_keys(day: str) -> tuple[str, str, str]:
    """Per day: calls by final status, dropped calls by last screen, and call seconds (``sum``/``count``)."""
    return f"stats:voice:{day}:status", f"stats:voice:{day}:dropoff", f"stats:voice:{day}:seconds"


@dataclass(frozen=True)
class VoiceRequest:
    """One AT voice callback, read leniently: anything missing or malformed is None, never an exception."""

    active: bool
    session_id: str | None
    outbound: bool
    phone: str | None
    digits: str | None
    recording_url: str | None
    duration_s: int | None
    status: str
    #: From our own callbackUrl: the step this request answers, and whether AT followed the no-input redirect.
    step: int | None
    silent: bool

    @classmethod
    def from_form(cls, form: Mapping[str, str], query: Mapping[str, str], own_number: str | None) -> VoiceRequest:
        session_id = (form.get("sessionId") or "").strip()
        outbound = (form.get("direction") or "").strip().lower() == "outbound"
        numbers = [_msisdn(form.get(name)) for name in ("callerNumber", "destinationNumber")]
        # On an outbound call the person is whichever number is not ours (AT's field use there is undocumented).
        phone = numbers[0]
        if outbound or (own_number and phone == own_number):
            phone = next((n for n in numbers if n and n != own_number), None)
        digits = (form.get("dtmfDigits") or "").strip()
        recording = (form.get("recordingUrl") or "").strip()
        step = (query.get("s") or "").strip()
        duration = (form.get("durationInSeconds") or "").strip()
        return cls(
            active=(form.get("isActive") or "1").strip() != "0",
            session_id=session_id if _SESSION_ID.match(session_id) else None,
            outbound=outbound,
            phone=phone,
            digits=digits if _DIGITS.match(digits) else ("?" if digits else None),
            recording_url=recording if recording.startswith(("https://", "http://")) and len(recording) < 1024
            else None,
            duration_s=int(duration) if duration.isdigit() and len(duration) < 7 else None,
            status=(form.get("status") or form.get("callSessionState") or "Other").strip()[:32] or "Other",
            step=int(step) if step.isdigit() and len(step) < 6 else None,
            silent=query.get("silent") == "1",
        )


def _msisdn(raw: str | None) -> str | None:
    phone = (raw or "").strip().replace(" ", "")
    if not _PHONE.match(phone):
        return None
    return phone if phone.startswith("+") else "+" + phone


@dataclass(frozen=True)
class Urls:
    """Where AT comes back to: this gateway's public base URL and the callback token."""

    base: str
    token: str | None

    def callback(self, step: int, *, silent: bool = False) -> str:
        query: dict[str, str] = {}
        if self.token:
            query["token"] = self.token
        query["s"] = str(step)
        if silent:
            query["silent"] = "1"
        return f"{self.base}/voice?{urlencode(query)}"

    def audio(self, name: str) -> str:
        return f"{self.base}{URL_PATH}{name}"


class VoiceService:
    """Answers AT's voice callbacks. Thread-safe: every request's state is in its locals and in Redis."""

    def __init__(self, engine: Engine[Any], sessions: SessionStore, catalog: Catalog, audio: AudioLibrary,
                 redis: Redis, keyring: Keyring, *,
                 effects: EffectSink | None = None, own_number: str | None = None) -> None:
        self.engine = engine
        self.sessions = sessions
        self.catalog = catalog
        self.audio = audio
        self.redis = redis
        self.keyring = keyring
        self.effects = effects
        self.own_number = own_number

    # -- entry point ------------------------------------------------------------------------------------------

    def answer(self, form: Mapping[str, str], query: Mapping[str, str], urls: Urls) -> str:
        """The body to send: XML while the call is active, empty for the final request."""
        request = VoiceRequest.from_form(form, query, self.own_number)
        if not request.active:
            self._close(request)
            return ""
        lang = self._guess_language(request.phone)
        if request.session_id is None or request.phone is None:
            return self._apology(lang, urls)
        try:
            if request.outbound:
                xml = self._alert(request, urls)
                if xml is not None:
                    return xml
            return self._step(request, urls)
        except (RedisError, SessionBusy) as exc:
            log.warning("Voice session store unavailable: %s", type(exc).__name__)
        except Exception:  # a handler bug or no speech: an apology, never a 5xx
            log.exception("Voice request failed (session %s, caller %s)", request.session_id[-8:],
                          mask(request.phone))
        return self._apology(lang, urls)

    # -- one step of the menu ---------------------------------------------------------------------------------

    def _step(self, request: VoiceRequest, urls: Urls) -> str:
        assert request.session_id is not None and request.phone is not None
        caller_id = self.keyring.pseudonym(request.phone)
        ref = self.sessions.ref(request.session_id)
        session = self.sessions.open(ref, caller_id)
        replay_text = f"{request.step}:{request.digits or ''}:{int(request.silent)}:{int(bool(request.recording_url))}"
        try:
            cached = session.replay(replay_text)
            if cached is not None:
                self.sessions.release(session)
                return cached
            wrapper = _VoiceState.loads(session.state)
            lang = wrapper.engine.lang if wrapper.engine else session.lang or self._guess_language(request.phone)
            caller = Caller(ref, request.phone, "", "voice", lang, caller_id, channel="voice",
                            recording_url=request.recording_url)
            turn, step, misses, notice = self._advance(caller, session.lang is not None, wrapper, request)
            if misses > 1:
                xml, ended = self._goodbye(turn.state.lang, urls), True
            else:
                xml, ended = self._render(turn, step, notice, urls), turn.end
            saved = self.sessions.save(session, text=replay_text, state=_VoiceState(turn.state, step, misses).dumps(),
                                       lang=turn.state.lang, response=xml, ended=ended, resume=ResumePoint.KEEP)
        except Exception:
            self._release_quietly(session)
            raise
        if saved and turn.effects and self.effects is not None:
            self.effects(turn.effects, replace(caller, lang=turn.state.lang, recording_url=None))
        return xml

    def _advance(self, caller: Caller, known_language: bool, wrapper: _VoiceState,
                 request: VoiceRequest) -> tuple[Turn, int, int, str | None]:
        """The turn for this request, the step the next request answers, no-input misses so far, and a notice
        key to speak before the screen."""
        state = wrapper.engine
        if state is None:
            return self.engine.start(caller, known_language=known_language), 0, 0, None
        step, misses = wrapper.step, wrapper.misses
        current = Turn(text="", end=self.engine.parts(state).end, state=state)
        if request.step != step:
            return current, step, misses, None  # an old prompt's callback: say where the caller is now
        if request.recording_url:
            return self.engine.step(caller, state, RECORDED), step + 1, 0, None
        keys = (request.digits or "").rstrip("#")
        if request.silent or not keys:
            return current, step + 1, misses + 1, "voice.no_input"
        if keys == "*":
            return current, step + 1, 0, None
        if request.digits == "?":
            return current, step + 1, 0, "common.invalid_choice"
        return self.engine.step(caller, state, keys), step + 1, 0, None

    # -- an alert call, answered ----------------------------------------------------------------------------------

    def _alert(self, request: VoiceRequest, urls: Urls) -> str | None:
        """The answer to an outbound alert call (:mod:`outbox.voice` placed it), or None when the call is not one.

        Answered: "this is an alert for you", the alert in the subscriber's language, "to hear it again, press 1"
        (at most :data:`ALERT_REPEATS` times), goodbye. Only the broadcast id and language are kept for the call;
        the words come from the broadcast record, and their audio from the run-time cache (a keyed name)."""
        assert request.session_id is not None
        call = alert_calls.answered(self.redis, request.session_id)
        if call is None:
            return None
        lang = call.language if self.catalog.supports(call.language) else self._guess_language(request.phone)
        found = alert_calls.alert_text(self.redis, call)
        step = request.step or 0
        again = request.step is None or ((request.digits or "").rstrip("#") == "1" and step <= ALERT_REPEATS)
        if found is None or not again:
            return self._goodbye(lang, urls)
        text, text_lang = found
        spoken_lang = text_lang if tts_has_voice(text_lang) else lang
        # Said with <Say> only when both the caller's language and the alert's are English.
        alert = text_prompt("alert", lang if lang not in SAY_LANGUAGES else spoken_lang, text, spoken_lang)
        return actions.response(
            self._speak(line_prompt(self.catalog, lang, "voice.alert.intro"), urls),
            self._speak(alert, urls),
            actions.GetDigits(self._speak(line_prompt(self.catalog, lang, "voice.alert.repeat"), urls),
                              urls.callback(step + 1), timeout=MENU_TIMEOUT_S, num_digits=1),
            self._speak(line_prompt(self.catalog, lang, "voice.goodbye"), urls),
        )

    # -- XML --------------------------------------------------------------------------------------------------

    def _render(self, turn: Turn, step: int, notice_key: str | None, urls: Urls) -> str:
        lang = turn.state.lang
        parts = self.engine.parts(turn.state, turn.notice)
        out: list[actions.Action] = []
        if parts.notice:
            out.append(self._speak(text_prompt("notice", lang, parts.notice), urls))
        elif notice_key:
            out.append(self._speak(line_prompt(self.catalog, lang, notice_key), urls))
        prompt = self._speak(screen_prompt(self.catalog, lang, parts), urls)
        if parts.end:
            out.append(prompt)
            return actions.response(*out)
        if parts.input is not None and is_free_text(parts.input):
            out.append(actions.Record(prompt, urls.callback(step), max_length=RECORD_MAX_S))
        elif parts.input is not None:
            out.append(actions.GetDigits(prompt, urls.callback(step), timeout=NUMBER_TIMEOUT_S, finish_on_key="#"))
        elif all(len(option.key_in) == 1 for option in parts.options):
            out.append(actions.GetDigits(prompt, urls.callback(step), timeout=MENU_TIMEOUT_S, num_digits=1))
        else:  # options 10 and up: keyed, then #
            out.append(actions.GetDigits(prompt, urls.callback(step), timeout=NUMBER_TIMEOUT_S, finish_on_key="#"))
        out.append(actions.Redirect(urls.callback(step, silent=True)))
        return actions.response(*out)

    def _speak(self, prompt: Prompt, urls: Urls) -> actions.Prompt:
        """``<Say>`` for English text, ``<Play>`` of our own audio for every other language (and mixed ones)."""
        if prompt.lang in SAY_LANGUAGES:
            return actions.Say(" ".join(s.text for s in prompt.segments))
        return actions.Play(urls.audio(self.audio.name_for(prompt.segments)))

    def _goodbye(self, lang: str, urls: Urls) -> str:
        return actions.response(self._speak(line_prompt(self.catalog, lang, "voice.goodbye"), urls))

    def _apology(self, lang: str, urls: Urls) -> str:
        """Said when anything fails (Redis down included), so it needs no Redis. English is ``<Say>``; any other
        language is ``<Play>`` of its apology: built, else made now beside the built clips; failing that (no
        speech engine) the caller's goodbye if one was built, else ``<Reject/>``, which ends the call. A caller
        who chose another language never hears English text-to-speech, even then."""
        prompt = line_prompt(self.catalog, lang, "common.unavailable")
        if lang in SAY_LANGUAGES:
            return actions.response(actions.Say(" ".join(s.text for s in prompt.segments)))
        name = self.audio.local_name(prompt.segments)
        if name is None:
            name = self.audio.static_name(line_prompt(self.catalog, lang, "voice.goodbye").segments)
        if name is None:
            log.error("No apology clip for %s and none can be made: ending the call.", lang)
            return actions.response(actions.Reject())
        return actions.response(actions.Play(urls.audio(name)))

    # -- the end of a call ------------------------------------------------------------------------------------

    def _close(self, request: VoiceRequest) -> None:
        """Count the call and drop its session. Losing a count beats a 5xx: AT documents no retry here."""
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        status_key, dropoff_key, seconds_key = stats_keys(day)
        try:
            screen = None
            if request.session_id and request.phone:
                caller_id = self.keyring.pseudonym(request.phone)
                ref = self.sessions.ref(request.session_id)
                key = state_key(caller_id, ref)
                engine_state = _VoiceState.loads(self.sessions.state_of(ref, caller_id)).engine
                if engine_state and not self.engine.parts(engine_state).end:
                    screen = engine_state.screen
                self.redis.delete(key)
            pipe = self.redis.pipeline(transaction=False)
            pipe.hincrby(status_key, request.status, 1)
            if screen:
                pipe.hincrby(dropoff_key, screen, 1)
            if request.duration_s is not None:
                pipe.hincrby(seconds_key, "sum", request.duration_s)
                pipe.hincrby(seconds_key, "count", 1)
            for key in (status_key, dropoff_key, seconds_key):
                pipe.expire(key, STATS_TTL)
            pipe.execute()
        except RedisError as exc:
            log.warning("Could not record the end of a voice call: %s", type(exc).__name__)

    def _release_quietly(self, session: Any) -> None:
        try:
            self.sessions.release(session)
        except RedisError:
            pass  # the lock expires by itself

    def _guess_language(self, phone: str | None) -> str:
        return default_language(region_of_calling_code(phone or ""), self.catalog.messages)


@dataclass(frozen=True)
class _VoiceState:
    """What a call keeps between AT's callbacks: the engine's state, the step the next callback must answer (an
    older prompt's callback is answered with the current screen), and the no-input misses so far."""

    engine: EngineState | None = None
    step: int = 0
    misses: int = 0

    def dumps(self) -> str:
        return json.dumps({"e": self.engine.to_json() if self.engine else None, "k": self.step, "m": self.misses},
                          separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def loads(cls, text: str | None) -> _VoiceState:
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(EngineState.from_json(raw["e"]) if raw.get("e") else None, int(raw["k"]), int(raw["m"]))
