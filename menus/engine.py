"""The USSD engine: (menus, engine state, input) -> (screen, next state, effects).

Pure in the sense of ``flask.sansio``: no Redis, no Flask, no clock. Handlers (registered by name, built by the
gateway) may do I/O of their own; the engine only calls them, handing each the services the gateway built
(typed by the gateway as ``S``: the engine never looks inside). The state is :class:`menus.state.EngineState`,
which the session store keeps as text.

Inputs ``98`` (more), ``0`` (back) and ``00`` (home) are navigation everywhere. Anything the screen does not
expect gets the same page again under a short notice: the caller never gets an error page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Generic, TypeVar

from .catalog import Catalog, placeholders
from .gsm import fits_ussd
from .model import InputSpec, MenuSet, ScreenDef, Target
from .render import BACK, HOME, MORE, NavLabels, paginate, with_notice
from .state import RESUME_OFFER, EngineState, View

LANGUAGE_SCREEN = "language.choose"
#: The action behind the resume offer's "continue": restores the resume point (handled by the engine, which
#: alone can restore a whole state).
RESUME = "resume"
#: Picks the session's language (``params: {lang: sw, next: welcome.main}``) and starts history afresh.
SET_LANGUAGE = "set_language"
BUILTIN_ACTIONS = frozenset({RESUME, SET_LANGUAGE})
#: A notice's short form is the key with this suffix (``common.invalid_choice.short``), optional.
SHORT_NOTICE = ".short"
#: Screens deeper than this get ``00 Home`` on their last page.
_HOME_DEPTH = 2
_MAX_REDIRECTS = 8
_MAX_HISTORY = 20
# Set while a step may not call handlers (see Engine.feed's ``pure``).
_PURE: ContextVar[bool] = ContextVar("pure", default=False)

#: What the gateway hands every handler (``gateway.services.Services``; ``handlers.services.Services`` types it).
S = TypeVar("S")


class NeedsHandler(Exception):
    """A ``pure`` step reached a handler. Raised before the handler runs, so nothing happened."""


@dataclass(frozen=True)
class Caller:
    """Who is on the line, as this request tells it.

    ``session_id`` is a key-safe reference to AT's ``sessionId`` (the gateway derives it; whatever characters AT
    sent, it cannot name another key), ``pseudonym`` the caller's keyed pseudonym: what per-caller keys are
    built from, so that no handler needs to hash the number again."""

    session_id: str
    phone: str
    network_code: str
    service_code: str
    lang: str
    pseudonym: str = ""
    #: ``ussd`` or ``voice``: a handler may word or store things differently for a caller on a call.
    channel: str = "ussd"
    #: Voice only: the URL of the message the caller just recorded (AT's ``recordingUrl``), for the handler of a
    #: free-text input; the engine itself passes it on untouched.
    recording_url: str | None = None


@dataclass(frozen=True)
class Effect:
    """Work that leaves the machine (an SMS, a ticket): run by the gateway after the session is saved, so a
    replayed request never repeats it. Payloads are JSON-able and never hold a PIN."""

    kind: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Choice:
    label: str  # already translated
    target: Target


@dataclass
class Reply:
    """What a handler returns: a screen to show, or ``goto`` another screen; plus effects and variable changes."""

    text: str = ""
    choices: Sequence[Choice] = ()
    lines: Sequence[str] = ()
    end: bool = False
    expect: InputSpec | None = None
    goto: str | None = None
    effects: Sequence[Effect] = ()
    #: Switch the session (and the caller's remembered) language from here on.
    lang: str | None = None


@dataclass
class Call(Generic[S]):
    """A handler's view of one request."""

    caller: Caller
    services: S
    params: Mapping[str, str]
    vars: dict[str, str]
    input: str | None
    catalog: Catalog
    #: Whether a menu of these option labels keeps every option, and its back line, on its first page at this
    #: session's budget and language (CONTRACT §2; the title gives way if need be): a handler drawing a list of
    #: choices of unknown length (countries, subscriptions) offers as many as fit. Set by the engine; the default
    #: trusts every list.
    fits: Callable[[Sequence[str]], bool] = lambda labels: True

    def t(self, key: str, **params: object) -> str:
        return self.catalog.text(self.caller.lang, key, **params)

    def tn(self, key: str, count: int, **params: object) -> str:
        """A message with a count, in the plural form the caller's language uses for it (see
        :meth:`menus.catalog.Catalog.plural`)."""
        return self.catalog.plural(self.caller.lang, key, count, **params)


Handler = Callable[[Call[S]], Reply]


@dataclass(frozen=True)
class SpokenOption:
    """One choice of a screen: the input that picks it, its label, and the label's catalog key when the screen
    comes from a menu file (so a channel can look up another form of it, e.g. a spoken one)."""

    key_in: str
    label: str
    label_key: str | None = None


@dataclass(frozen=True)
class ScreenParts:
    """The current screen in parts rather than as paged text, for a channel that does not show pages (voice):
    no pagination, no navigation lines."""

    screen: str | None
    header: str
    #: The header's catalog key for a menu screen whose text has no placeholders; None when drawn at run time.
    header_key: str | None
    #: Lines that are not choices (numbers, alerts, prices).
    lines: tuple[str, ...]
    options: tuple[SpokenOption, ...]
    input: InputSpec | None
    end: bool
    #: The one-line notice a re-prompt shows above the screen ("Sorry, that is not an option").
    notice: str | None
    can_go_back: bool


@dataclass
class Turn:
    """One answer: the page to show, whether the session ends, the state to keep and the effects to run."""

    text: str
    end: bool
    state: EngineState
    effects: list[Effect] = field(default_factory=list)
    #: The notice shown over the page (a re-prompt), if any: a channel without pages says it before the screen.
    notice: str | None = None


class Engine(Generic[S]):
    """Walks callers through the menus. One instance serves every request; it keeps no per-request state."""

    def __init__(self, menus: MenuSet, catalog: Catalog, handlers: Mapping[str, Handler[S]], budget: int,
                 services: S) -> None:
        self.menus = menus
        self.catalog = catalog
        self.budget = budget
        self.services = services
        clash = BUILTIN_ACTIONS & set(handlers)
        if clash:
            raise ValueError(f"Handler names {sorted(clash)} are the engine's own; pick other names.")
        self.handlers = dict(handlers)
        # Views of menu screens by (screen, language), read-only once built; None for a screen whose text has
        # placeholders, which is built for each request.
        self._static_views: dict[tuple[str, str], View | None] = {}
        self._nav = {
            lang: NavLabels(
                catalog.text(lang, "common.more"), catalog.text(lang, "common.back"), catalog.text(lang, "common.home")
            )
            for lang in catalog.languages
        }

    def resumable(self, state: EngineState) -> bool:
        """Whether a caller whose call drops on this state is offered to come back to it. Not the start or
        language screens (nothing to come back to), not the offer itself, not a private menu's screens (a report
        in progress), and not a screen asking for a secret (a PIN): whoever redials on that phone within minutes
        may not be the caller."""
        screen = state.screen
        if screen in (None, RESUME_OFFER, self.menus.start, LANGUAGE_SCREEN):
            return False
        assert screen is not None
        if screen.split(".", 1)[0] in self.menus.private:
            return False
        expect = self._view(state).expect
        return not (expect and expect.secret)

    @staticmethod
    def offers_resume(state: EngineState) -> bool:
        """Whether the caller is looking at the resume offer (their resume point then stays until they pick)."""
        return state.screen == RESUME_OFFER

    def nav_labels(self, lang: str) -> NavLabels:
        return self._nav.get(lang) or self._nav[self.catalog.languages[0]]

    @property
    def action_names(self) -> set[str]:
        """Every name a menu may use as ``action`` or ``handler``."""
        return set(self.handlers) | BUILTIN_ACTIONS

    # -- entry points -------------------------------------------------------------------------------------------

    def start(self, caller: Caller, *, known_language: bool, resume_point: EngineState | None = None,
              pure: bool = False) -> Turn:
        """The first screen of a session: the resume offer for a caller with a resume point, the language choice
        for a new caller, or the welcome menu. ``pure`` as in :meth:`feed`."""
        with _purity(pure):
            state = EngineState(lang=caller.lang)
            effects: list[Effect] = []
            if resume_point is not None and resume_point.screen:
                state.resume_point = resume_point
                self._show(state, RESUME_OFFER, self._resume_view(caller.lang))
            elif not known_language:
                self._enter(caller, state, LANGUAGE_SCREEN, effects, push=False)
            else:
                self._enter(caller, state, self.menus.start, effects, push=False)
            return self._turn(state, effects)

    def feed(self, caller: Caller, state: EngineState, inputs: str, *, pure: bool = False) -> Turn:
        """Apply several inputs sent at once (``1*2``, as from a dial string like ``*384*55*1*2#``), in turn; a
        single input is the usual case. A screen that asks for free input takes the rest whole, ``*`` included.
        ``state`` is changed in place.

        ``pure`` steps may only move between menu screens: reaching a handler raises :class:`NeedsHandler`
        before it runs. The gateway uses this to answer from an unlocked session copy when nothing can happen
        twice.
        """
        with _purity(pure):
            effects: list[Effect] = []
            rest = inputs
            while True:
                if self._view(state).expect is not None or "*" not in rest:
                    value, rest = rest, ""
                    last = True
                else:
                    value, rest = rest.split("*", 1)
                    last = False
                notice = self._step(caller, state, value.strip(), effects)
                if last or self._view(state).end:
                    return self._turn(state, effects, notice)

    def step(self, caller: Caller, state: EngineState, value: str) -> Turn:
        """Apply exactly one input, ``*`` and all (a channel whose inputs never come joined: voice)."""
        effects: list[Effect] = []
        return self._turn(state, effects, self._step(caller, state, value.strip(), effects))

    def redisplay(self, state: EngineState, notice_key: str) -> Turn:
        """The current page again with a notice (for a request that rewrote earlier inputs)."""
        return self._turn(state, [], notice_key)

    def parts(self, state: EngineState, notice: str | None = None) -> ScreenParts:
        """The screen ``state`` is on, in parts (see :class:`ScreenParts`), with the ``notice`` a turn showed."""
        view = self._view(state)
        screen = self.menus.screens.get(state.screen) if state.view is None and state.screen else None
        keys: list[str | None] = [o.label for o in screen.options] if screen else [None] * len(view.option_lines)
        options = tuple(
            SpokenOption(number, line.partition(" ")[2], key)
            for number, line, key in zip(view.options, view.option_lines, keys, strict=True)
        )
        fixed = screen is not None and screen.text and not placeholders(self.catalog.text(state.lang, screen.text))
        return ScreenParts(
            screen=state.screen, header=view.header, header_key=screen.text if fixed and screen else None,
            lines=view.lines, options=options, input=view.expect, end=view.end, notice=notice,
            can_go_back=bool(state.history) and not view.end,
        )

    # -- one input --------------------------------------------------------------------------------------------

    def _step(self, caller: Caller, state: EngineState, value: str, effects: list[Effect]) -> str | None:
        """Apply one input; returns the key of a notice to show over the page, or None."""
        view = self._view(state)
        if value == MORE and state.page < len(self._pages(state, view)) - 1:
            state.page += 1
        elif value == BACK:
            self._back(caller, state, effects)
        elif value == HOME:
            state.history = []
            state.resume_point = None
            self._enter(caller, state, self.menus.start, effects, push=False)
        elif view.expect is not None:
            if not view.expect.accepts(value):
                return view.expect.error
            if view.expect.save_as:
                state.vars[view.expect.save_as] = value
            self._follow(caller, state, view.expect.target, value, effects)
        elif value in view.options:
            self._follow(caller, state, view.options[value], value, effects)
        else:
            return "common.invalid_choice"
        return None

    def _back(self, caller: Caller, state: EngineState, effects: list[Effect]) -> None:
        if state.page > 0:
            state.page -= 1
        elif state.history:
            self._enter(caller, state, state.history.pop(), effects, push=False)

    def _follow(self, caller: Caller, state: EngineState, target: Target, value: str, effects: list[Effect]) -> None:
        if target.goto:
            self._enter(caller, state, target.goto, effects, push=True)
        elif target.action == RESUME:
            saved = state.resume_point
            if saved is None or saved.screen is None:  # nothing to resume after all: start afresh
                self._enter(caller, state, self.menus.start, effects, push=False)
                return
            state.screen, state.page, state.history = saved.screen, saved.page, list(saved.history)
            state.vars, state.lang, state.view, state.resume_point = dict(saved.vars), saved.lang, saved.view, None
        elif target.action == SET_LANGUAGE:
            if self.catalog.supports(target.params.get("lang")):
                state.lang = target.params["lang"]
            state.history = []
            self._enter(caller, state, target.params.get("next") or self.menus.start, effects, push=False)
        else:
            assert target.action is not None
            self._run(caller, state, target.action, target.params, value, effects, push=True)

    def _enter(self, caller: Caller, state: EngineState, screen_id: str, effects: list[Effect], *, push: bool,
               depth: int = 0) -> None:
        if depth > _MAX_REDIRECTS:
            raise RuntimeError(f"Screens redirect in a loop at {screen_id!r}; check the handlers' goto.")
        screen = self.menus.get(screen_id)
        if screen.handler:
            self._run(caller, state, screen.handler, screen.params, None, effects, push=push, screen=screen_id,
                      depth=depth)
            return
        if push:
            self._push(state)
        self._show(state, screen_id, None)

    def _run(self, caller: Caller, state: EngineState, name: str, params: Mapping[str, str], value: str | None,
             effects: list[Effect], *, push: bool, screen: str | None = None, depth: int = 0) -> None:
        if _PURE.get():
            raise NeedsHandler(name)
        call = Call(caller=caller if caller.lang == state.lang else replace(caller, lang=state.lang),
                    services=self.services, params=params, vars=state.vars, input=value, catalog=self.catalog,
                    fits=partial(self._fits, state))
        reply = self.handlers[name](call)
        effects.extend(reply.effects)
        if reply.lang and self.catalog.supports(reply.lang):
            state.lang = reply.lang
        if push:
            self._push(state)
        if reply.goto:
            self._enter(caller, state, reply.goto, effects, push=False, depth=depth + 1)
            return
        view = View(
            header=reply.text,
            lines=tuple(reply.lines),
            option_lines=tuple(f"{n} {choice.label}" for n, choice in enumerate(reply.choices, start=1)),
            options={str(n): choice.target for n, choice in enumerate(reply.choices, start=1)},
            expect=reply.expect,
            end=reply.end,
        )
        self._show(state, screen or state.screen, view)

    @staticmethod
    def _push(state: EngineState) -> None:
        if state.screen and state.screen != RESUME_OFFER:
            state.history = [*state.history, state.screen][-_MAX_HISTORY:]

    @staticmethod
    def _show(state: EngineState, screen_id: str | None, view: View | None) -> None:
        """Make ``screen_id`` the current screen. A menu screen's view is rebuilt from the menu when needed
        (``view`` None), which keeps the stored state small; a view drawn by a handler is stored whole. A resume
        point is kept only while its offer is shown."""
        state.screen = screen_id
        state.page = 0
        state.view = view
        if screen_id != RESUME_OFFER:
            state.resume_point = None

    # -- views ------------------------------------------------------------------------------------------------

    def _view(self, state: EngineState) -> View:
        if state.view is not None:
            return state.view
        if state.screen is None:
            raise ValueError("The engine state has no screen yet; start the session first.")
        return self._static_view(self.menus.get(state.screen), state)

    def _static_view(self, screen: ScreenDef, state: EngineState) -> View:
        key = (screen.id, state.lang)
        if key not in self._static_views:
            fixed = not (screen.text and placeholders(self.catalog.text(state.lang, screen.text)))
            self._static_views[key] = self._build_static_view(screen, state.lang, {}) if fixed else None
        return self._static_views[key] or self._build_static_view(screen, state.lang, state.vars)

    def _build_static_view(self, screen: ScreenDef, lang: str, variables: Mapping[str, str]) -> View:
        header = self.catalog.text(lang, screen.text, **variables) if screen.text else ""
        labels = [self.catalog.text(lang, option.label) for option in screen.options]
        return View(
            header=header,
            option_lines=tuple(f"{n} {label}" for n, label in enumerate(labels, start=1)),
            options={str(n): option.target for n, option in enumerate(screen.options, start=1)},
            expect=screen.input,
            end=screen.end,
        )

    def _resume_view(self, lang: str) -> View:
        t = self.catalog.text
        return View(
            header=t(lang, "common.resume.title"),
            option_lines=(f"1 {t(lang, 'common.resume.continue')}", f"2 {t(lang, 'common.resume.restart')}"),
            options={"1": Target(action=RESUME), "2": Target(goto=self.menus.start)},
        )

    # -- output -------------------------------------------------------------------------------------------------

    def _pages(self, state: EngineState, view: View) -> list[str]:
        nav = self.nav_labels(state.lang)
        # Data lines come before options; a view with options only is a menu (options stay on its first page).
        return paginate(
            view.header,
            [*view.lines, *view.option_lines],
            nav,
            self.budget,
            can_go_back=bool(state.history) and not view.end,
            show_home=len(state.history) >= _HOME_DEPTH and not view.end,
            options=bool(view.option_lines) and not view.lines,
        )

    def _fits(self, state: EngineState, labels: Sequence[str]) -> bool:
        """See :attr:`Call.fits`: the options and the back line fit one page (the title gives way if need be)."""
        lines = [f"{n} {label}" for n, label in enumerate(labels, start=1)]
        return fits_ussd("\n".join([*lines, f"{BACK} {self.nav_labels(state.lang).back}"]), self.budget)

    def _turn(self, state: EngineState, effects: list[Effect], notice_key: str | None = None) -> Turn:
        view = self._view(state)
        pages = self._pages(state, view)
        state.page = min(state.page, len(pages) - 1)
        text, notice = pages[state.page], None
        if notice_key is not None:
            notices = self._notices(state.lang, notice_key)
            text, notice = with_notice(text, notices, view.header, self.budget), notices[0]
        return Turn(text=text, end=view.end, state=state, effects=effects, notice=notice)


    def _notices(self, lang: str, key: str) -> list[str]:
        """A notice, then its short form (``<key>.short``) when the catalog has one: for pages too full for the
        whole sentence (an 80-character page holding a list of languages)."""
        short = f"{key}{SHORT_NOTICE}"
        notices = [self.catalog.text(lang, key)]
        if short in self.catalog.messages[self.catalog.languages[0]]:
            notices.append(self.catalog.text(lang, short))
        return notices


class _purity:
    """``with _purity(True):`` marks the steps inside as ``pure`` (see :meth:`Engine.feed`); nesting keeps the
    outer mark."""

    def __init__(self, pure: bool) -> None:
        self.pure = pure
        self.token: Any = None

    def __enter__(self) -> None:
        if self.pure:
            self.token = _PURE.set(True)

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _PURE.reset(self.token)
