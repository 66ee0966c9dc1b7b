"""The USSD engine: (menus, session state, input) -> (screen, next state, effects).

Pure in the sense of ``flask.sansio``: no Redis, no Flask, no clock. Handlers (registered by name, built by the
gateway) may do I/O of their own; the engine only calls them. State is a plain dict the session store keeps as
JSON; it holds the screen shown, its page, the history for ``0`` (back), session variables and the view itself,
so an option drawn by a handler is still known when the caller answers it.

Inputs ``98`` (more), ``0`` (back) and ``00`` (home) are navigation everywhere. Anything the screen does not
expect gets the screen again with a short notice: the caller never gets an error page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from .catalog import Catalog, placeholders
from .model import InputSpec, MenuSet, ScreenDef, Target
from .render import BACK, HOME, MORE, NavLabels, paginate

LANGUAGE_SCREEN = "language.choose"
#: The action behind the resume offer's "continue"; handled by the engine, as it restores the whole state.
RESUME = "resume"
#: Picks the session's language (``params: {lang: sw, next: welcome.main}``) and starts history afresh.
SET_LANGUAGE = "set_language"
BUILTIN_ACTIONS = frozenset({RESUME, SET_LANGUAGE})
#: Screens deeper than this get ``00 Home`` on their last page.
_HOME_DEPTH = 2
_MAX_REDIRECTS = 8
_MAX_HISTORY = 20
# Set while a step may not call handlers (see Engine.feed's ``pure``).
_PURE: ContextVar[bool] = ContextVar("pure", default=False)


class NeedsHandler(Exception):
    """A ``pure`` step reached a handler. Raised before the handler runs, so nothing happened."""


@dataclass(frozen=True)
class Caller:
    """Who is on the line. ``services`` is whatever the gateway hands handlers (stores, outbox); the engine never
    looks inside it."""

    session_id: str
    phone: str
    network_code: str
    service_code: str
    lang: str
    services: Any = None
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
class Call:
    """A handler's view of one request."""

    caller: Caller
    params: Mapping[str, str]
    vars: dict[str, str]
    input: str | None
    catalog: Catalog

    def t(self, key: str, **params: object) -> str:
        return self.catalog.text(self.caller.lang, key, **params)


Handler = Callable[[Call], Reply]


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
    text: str
    end: bool
    state: dict[str, Any]
    effects: list[Effect] = field(default_factory=list)


@dataclass
class _View:
    header: str
    lines: list[str]
    choices: dict[str, list[Any]]
    expect: dict[str, Any] | None
    end: bool

    def to_json(self) -> dict[str, Any]:
        return {"h": self.header, "l": self.lines, "c": self.choices, "x": self.expect, "e": self.end}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> _View:
        return cls(raw["h"], list(raw["l"]), dict(raw["c"]), raw["x"], raw["e"])


class Engine:
    """Walks callers through the menus. One instance serves every request; it keeps no per-request state."""

    def __init__(self, menus: MenuSet, catalog: Catalog, handlers: Mapping[str, Handler], budget: int) -> None:
        self.menus = menus
        self.catalog = catalog
        self.budget = budget
        clash = BUILTIN_ACTIONS & set(handlers)
        if clash:
            raise ValueError(f"Handler names {sorted(clash)} are the engine's own; pick other names.")
        self.handlers = dict(handlers)
        # Views of menu screens by (screen, language), read-only once built; None for a screen whose text has
        # placeholders, which is built for each request.
        self._static_views: dict[tuple[str, str], _View | None] = {}
        self._nav = {
            lang: NavLabels(
                catalog.text(lang, "common.more"), catalog.text(lang, "common.back"), catalog.text(lang, "common.home")
            )
            for lang in catalog.languages
        }

    def resumable(self, state: Mapping[str, Any]) -> bool:
        """Whether a caller whose call drops on this state is offered to come back to it. Not the start, language
        or resume screens (nothing to come back to), not a private menu's screens (a report in progress), and
        not a screen asking for a secret (a PIN): whoever redials on that phone within minutes may not be the
        caller."""
        screen = state.get("s")
        if screen in (None, RESUME, self.menus.start, LANGUAGE_SCREEN):
            return False
        if screen.split(".", 1)[0] in self.menus.private:
            return False
        expect = self._view(dict(state)).expect
        return not (expect and expect.get("s"))

    def nav_labels(self, lang: str) -> NavLabels:
        return self._nav.get(lang) or self._nav[self.catalog.languages[0]]

    @property
    def action_names(self) -> set[str]:
        """Every name a menu may use as ``action`` or ``handler``."""
        return set(self.handlers) | BUILTIN_ACTIONS

    # -- entry points -------------------------------------------------------------------------------------------

    def start(self, caller: Caller, *, known_language: bool, resume: Mapping[str, Any] | None = None,
              pure: bool = False) -> Turn:
        """The first screen of a session: resume offer, language choice for a new caller, or the welcome menu.
        ``pure`` as in :meth:`feed`."""
        if pure:
            token = _PURE.set(True)
            try:
                return self.start(caller, known_language=known_language, resume=resume)
            finally:
                _PURE.reset(token)
        state: dict[str, Any] = {"s": None, "p": 0, "h": [], "v": {}, "l": caller.lang}
        effects: list[Effect] = []
        if resume and resume.get("s"):
            state["resume"] = dict(resume)
            self._show(state, "resume", self._resume_view(caller.lang))
        elif not known_language:
            self._enter(caller, state, LANGUAGE_SCREEN, effects, push=False)
        else:
            self._enter(caller, state, self.menus.start, effects, push=False)
        return self._turn(state, effects)

    def step(self, caller: Caller, state: dict[str, Any], value: str) -> Turn:
        """Apply one input to the session state."""
        state = _copy(state)
        effects: list[Effect] = []
        view = self._view(state)
        value = value.strip()
        pages = self._pages(state, view, state.get("n"))
        if value == MORE and state["p"] < len(pages) - 1:
            state["p"] += 1
        elif value == BACK:
            self._back(caller, state, effects)
        elif value == HOME:
            state["h"] = []
            state.pop("resume", None)
            self._enter(caller, state, self.menus.start, effects, push=False)
        elif view.expect is not None:
            spec = InputSpec.from_json(view.expect)
            if spec.accepts(value):
                if spec.save_as:
                    state["v"][spec.save_as] = value
                self._follow(caller, state, spec.target, value, effects)
            else:
                return self._notice(state, spec.error)
        elif value in view.choices:
            self._follow(caller, state, Target.from_json(view.choices[value]), value, effects)
        else:
            return self._notice(state, "common.invalid_choice")
        return self._turn(state, effects)

    def feed(self, caller: Caller, state: dict[str, Any], inputs: str, *, pure: bool = False) -> Turn:
        """Apply several inputs sent at once (``1*2``, as from a dial string like ``*384*55*1*2#``). A screen that
        asks for free input takes the rest whole, ``*`` included.

        ``pure`` steps may only move between menu screens: reaching a handler raises :class:`NeedsHandler`
        before it runs. The gateway uses this to answer from an unlocked session copy when nothing can happen
        twice.
        """
        if pure:
            token = _PURE.set(True)
            try:
                return self.feed(caller, state, inputs)
            finally:
                _PURE.reset(token)
        turn: Turn | None = None
        rest: str | None = inputs
        effects: list[Effect] = []
        while rest is not None:
            if self._view(state).expect is not None or "*" not in rest:
                value, rest = rest, None
            else:
                value, rest = rest.split("*", 1)
            turn = self.step(caller, state, value)
            effects.extend(turn.effects)
            state = turn.state
            if turn.end:
                break
        assert turn is not None
        turn.effects = effects
        return turn

    def redisplay(self, state: dict[str, Any], notice_key: str) -> Turn:
        """The current screen again with a notice (for a request that rewrote earlier inputs)."""
        return self._notice(_copy(state), notice_key)

    def parts(self, state: Mapping[str, Any]) -> ScreenParts:
        """The screen ``state`` is on, in parts (see :class:`ScreenParts`)."""
        view = self._view(dict(state))
        screen_id = state.get("s")
        screen = self.menus.screens.get(screen_id) if state.get("view") is None and screen_id else None
        data_lines = view.lines[: len(view.lines) - len(view.choices)]
        option_lines = view.lines[len(data_lines):]
        keys: list[str | None] = [o.label for o in screen.options] if screen else [None] * len(option_lines)
        options = tuple(
            SpokenOption(number, line.partition(" ")[2], key)
            for number, line, key in zip(view.choices, option_lines, keys, strict=True)
        )
        fixed = screen is not None and screen.text and not placeholders(self.catalog.text(state["l"], screen.text))
        return ScreenParts(
            screen=screen_id, header=view.header, header_key=screen.text if fixed and screen else None,
            lines=tuple(data_lines), options=options,
            input=InputSpec.from_json(view.expect) if view.expect else None, end=view.end, notice=state.get("n"),
            can_go_back=bool(state.get("h")) and not view.end,
        )

    # -- navigation -----------------------------------------------------------------------------------------

    def _back(self, caller: Caller, state: dict[str, Any], effects: list[Effect]) -> None:
        if state["p"] > 0:
            state["p"] -= 1
        elif state["h"]:
            self._enter(caller, state, state["h"].pop(), effects, push=False)

    def _follow(self, caller: Caller, state: dict[str, Any], target: Target, value: str, effects: list[Effect]) -> None:
        if target.goto:
            self._enter(caller, state, target.goto, effects, push=True)
            return
        if target.action == RESUME:
            saved = state.pop("resume", None) or {}
            state.pop("n", None)
            state.update({k: saved[k] for k in ("s", "p", "h", "v", "l", "view") if k in saved})
            return
        if target.action == SET_LANGUAGE:
            if self.catalog.supports(target.params.get("lang")):
                state["l"] = target.params["lang"]
            state["h"] = []
            self._enter(caller, state, target.params.get("next") or self.menus.start, effects, push=False)
            return
        assert target.action is not None
        self._run(caller, state, target.action, target.params, value, effects, push=True)

    def _enter(self, caller: Caller, state: dict[str, Any], screen_id: str, effects: list[Effect], *, push: bool,
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

    def _run(self, caller: Caller, state: dict[str, Any], name: str, params: Mapping[str, str], value: str | None,
             effects: list[Effect], *, push: bool, screen: str | None = None, depth: int = 0) -> None:
        if _PURE.get():
            raise NeedsHandler(name)
        call = Call(caller=_with_lang(caller, state["l"]), params=params, vars=state["v"], input=value,
                    catalog=self.catalog)
        reply = self.handlers[name](call)
        effects.extend(reply.effects)
        if reply.lang and self.catalog.supports(reply.lang):
            state["l"] = reply.lang
        if reply.goto:
            if push:
                self._push(state)
            self._enter(caller, state, reply.goto, effects, push=False, depth=depth + 1)
            return
        if push:
            self._push(state)
        view = _View(
            header=reply.text,
            lines=list(reply.lines),
            choices={},
            expect=reply.expect.to_json() if reply.expect else None,
            end=reply.end,
        )
        for number, choice in enumerate(reply.choices, start=1):
            view.lines.append(f"{number} {choice.label}")
            view.choices[str(number)] = choice.target.to_json()
        self._show(state, screen or state["s"], view)

    def _push(self, state: dict[str, Any]) -> None:
        if state["s"] and state["s"] != "resume":
            state["h"] = [*state["h"], state["s"]][-_MAX_HISTORY:]

    def _show(self, state: dict[str, Any], screen_id: str | None, view: _View | None) -> None:
        """Make ``screen_id`` the current screen. A menu screen's view is rebuilt from the menu when needed
        (``view`` None), which keeps the stored state small; a view drawn by a handler is stored whole."""
        state["s"] = screen_id
        state["p"] = 0
        state["view"] = view.to_json() if view is not None else None
        state.pop("n", None)

    def _view(self, state: dict[str, Any]) -> _View:
        if state["view"] is not None:
            return _View.from_json(state["view"])
        return self._static_view(self.menus.get(state["s"]), state)

    def _static_view(self, screen: ScreenDef, state: dict[str, Any]) -> _View:
        lang = state["l"]
        key = (screen.id, lang)
        if key not in self._static_views:
            fixed = not (screen.text and placeholders(self.catalog.text(lang, screen.text)))
            self._static_views[key] = self._build_static_view(screen, lang, {}) if fixed else None
        return self._static_views[key] or self._build_static_view(screen, lang, state["v"])

    def _build_static_view(self, screen: ScreenDef, lang: str, variables: Mapping[str, str]) -> _View:
        header = self.catalog.text(lang, screen.text, **variables) if screen.text else ""
        lines, choices = [], {}
        for number, option in enumerate(screen.options, start=1):
            lines.append(f"{number} {self.catalog.text(lang, option.label)}")
            choices[str(number)] = option.target.to_json()
        expect = screen.input.to_json() if screen.input else None
        return _View(header, lines, choices, expect, screen.end)

    # -- built-in actions ---------------------------------------------------------------------------------------

    def _resume_view(self, lang: str) -> _View:
        t = self.catalog.text
        return _View(
            header=t(lang, "common.resume.title"),
            lines=[f"1 {t(lang, 'common.resume.continue')}", f"2 {t(lang, 'common.resume.restart')}"],
            choices={"1": Target(action=RESUME).to_json(), "2": Target(goto=self.menus.start).to_json()},
            expect=None,
            end=False,
        )

    # -- output -------------------------------------------------------------------------------------------------

    def _t(self, state: dict[str, Any], key: str) -> str:
        return self.catalog.text(state["l"], key)

    def _pages(self, state: dict[str, Any], view: _View, notice: str | None = None) -> list[str]:
        header = f"{notice}\n{view.header}" if notice else view.header
        nav = self.nav_labels(state["l"])
        return paginate(
            header,
            view.lines,
            nav,
            self.budget,
            can_go_back=bool(state["h"]) and not view.end,
            show_home=len(state["h"]) >= _HOME_DEPTH and not view.end,
        )

    def _notice(self, state: dict[str, Any], key: str) -> Turn:
        """The current screen again under a one-line notice, from its first page. The notice stays (``n``) while
        the caller pages through this screen, so ``98`` and ``0`` see the pages that were shown."""
        state["n"] = self._t(state, key)
        state["p"] = 0
        return self._turn(state, [])

    def _turn(self, state: dict[str, Any], effects: list[Effect]) -> Turn:
        view = self._view(state)
        pages = self._pages(state, view, state.get("n"))
        page = min(state["p"], len(pages) - 1)
        return Turn(text=pages[page], end=view.end, state=state, effects=effects)


def _copy(state: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(state)
    out["h"] = list(state.get("h", []))
    out["v"] = dict(state.get("v", {}))
    return out


def _with_lang(caller: Caller, lang: str) -> Caller:
    if caller.lang == lang:
        return caller
    return replace(caller, lang=lang)
