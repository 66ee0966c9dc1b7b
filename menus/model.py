"""Menu definitions: one YAML file per menu, parsed once at start into frozen objects.

A menu file::

    menu: welcome             # the menu's name; screens are addressed as ``welcome.main``
    start: main               # only the welcome menu's start matters: it is where every caller begins
    private: false            # true: a caller whose call drops here is not offered to resume (someone else
                              # may redial on that phone); for the report menu
    screens:
      main:
        text: welcome.title   # a translation key (menus/locale/*.po)
        options:
          - {label: welcome.help, goto: help.main}        # another screen (``screen`` or ``menu.screen``)
          - {label: welcome.lang, action: set_language, params: {lang: sw}}   # a handler, by name
      amount:
        text: money.amount
        input: {pattern: '\\d{1,6}', error: money.bad_amount, save_as: amount, goto: confirm}
      latest:
        handler: alerts.latest   # the screen is drawn by a handler each time it is shown
        params: {limit: "5"}
      bye:
        text: common.bye
        end: true

Screen text may use ``{name}`` placeholders filled from the session's variables. ``input`` with
``secret: true`` (a PIN) hands the value to its action and nowhere else: it cannot be saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

MENU_DIR = Path(__file__).parent / "data"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_EMPTY: Mapping[str, str] = MappingProxyType({})
#: libyaml's safe loader when PyYAML was built with it (several times faster at start-up), else the pure one.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class MenuError(Exception):
    """A menu file is malformed; the message names the file, the screen and the fix."""


@dataclass(frozen=True)
class Target:
    """Where a choice leads: a screen (``goto``) or a handler (``action`` with ``params``)."""

    goto: str | None = None
    action: str | None = None
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)

    def to_json(self) -> list[Any]:
        return ["g", self.goto] if self.goto else ["a", self.action, dict(self.params)]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Target:
        if raw[0] == "g":
            return cls(goto=raw[1])
        return cls(action=raw[1], params=MappingProxyType(dict(raw[2])))


@dataclass(frozen=True)
class Option:
    label: str  # translation key
    target: Target


@dataclass(frozen=True)
class InputSpec:
    """Free input a screen asks for, and what to do with it."""

    target: Target
    pattern: str = r".+"
    error: str = "common.invalid_input"
    max_length: int = 160
    secret: bool = False
    save_as: str | None = None

    def accepts(self, value: str) -> bool:
        return len(value) <= self.max_length and re.fullmatch(self.pattern, value) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "t": self.target.to_json(), "p": self.pattern, "e": self.error,
            "m": self.max_length, "s": self.secret, "a": self.save_as,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> InputSpec:
        return cls(Target.from_json(raw["t"]), raw["p"], raw["e"], raw["m"], raw["s"], raw["a"])


@dataclass(frozen=True)
class ScreenDef:
    id: str  # ``menu.screen``
    text: str | None = None
    options: tuple[Option, ...] = ()
    input: InputSpec | None = None
    handler: str | None = None
    params: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    end: bool = False

    def keys(self) -> Iterator[str]:
        """Every translation key this screen names."""
        if self.text:
            yield self.text
        for option in self.options:
            yield option.label
        if self.input:
            yield self.input.error


@dataclass(frozen=True)
class MenuSet:
    """All screens of all menus, by qualified id."""

    screens: Mapping[str, ScreenDef]
    start: str
    files: tuple[str, ...] = field(default=())
    #: Menus whose screens are never offered for resume after a dropped call.
    private: frozenset[str] = field(default=frozenset())

    @classmethod
    def load(cls, directory: Path = MENU_DIR, start_menu: str = "welcome") -> MenuSet:
        screens: dict[str, ScreenDef] = {}
        starts: dict[str, str] = {}
        private: set[str] = set()
        files = sorted(directory.glob("*.yaml"))
        for path in files:
            raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
            name, start, parsed = _parse_menu(path.name, raw)
            starts[name] = start
            if raw.get("private"):
                private.add(name)
            for screen in parsed:
                if screen.id in screens:
                    raise MenuError(f"{path.name}: screen {screen.id!r} is defined twice.")
                screens[screen.id] = screen
        if start_menu not in starts:
            raise MenuError(f"No menu named {start_menu!r} in {directory}: callers would have nowhere to start.")
        return cls(MappingProxyType(screens), f"{start_menu}.{starts[start_menu]}", tuple(p.name for p in files),
                   frozenset(private))

    def get(self, screen_id: str) -> ScreenDef:
        return self.screens[screen_id]

    def faults(self, handler_names: set[str], catalog_keys: set[str]) -> list[str]:
        """Readable faults: a goto to no screen, a handler nobody registered, a key with no text."""
        out = []
        for screen in self.screens.values():
            targets = [o.target for o in screen.options] + ([screen.input.target] if screen.input else [])
            for target in targets:
                if target.goto and target.goto not in self.screens:
                    out.append(f"{screen.id}: goes to {target.goto!r}, which no menu defines")
                if target.action and target.action not in handler_names:
                    out.append(f"{screen.id}: action {target.action!r} has no registered handler")
            if screen.handler and screen.handler not in handler_names:
                out.append(f"{screen.id}: handler {screen.handler!r} is not registered")
            for key in screen.keys():
                if key not in catalog_keys:
                    out.append(f"{screen.id}: translation key {key!r} is not in en.po")
        return out


def _parse_menu(filename: str, raw: Any) -> tuple[str, str, list[ScreenDef]]:
    if not isinstance(raw, dict) or not isinstance(raw.get("screens"), dict):
        raise MenuError(f"{filename}: a menu file is a mapping with 'menu', 'start' and 'screens'.")
    name = raw.get("menu")
    if not isinstance(name, str) or not _NAME.match(name):
        raise MenuError(f"{filename}: 'menu' must be a lowercase name like 'welcome'.")
    start = raw.get("start", "main")
    if start not in raw["screens"]:
        raise MenuError(f"{filename}: start screen {start!r} is not among its screens.")
    screens = [_parse_screen(filename, name, key, body) for key, body in raw["screens"].items()]
    return name, start, screens


def _qualify(menu: str, ref: str) -> str:
    return ref if "." in ref else f"{menu}.{ref}"


def _target(where: str, menu: str, raw: Mapping[str, Any]) -> Target:
    goto, action = raw.get("goto"), raw.get("action")
    if bool(goto) == bool(action):
        raise MenuError(f"{where}: give exactly one of 'goto' or 'action'.")
    params = {str(k): str(v) for k, v in (raw.get("params") or {}).items()}
    if goto:
        return Target(goto=_qualify(menu, str(goto)))
    return Target(action=str(action), params=MappingProxyType(params))


def _parse_screen(filename: str, menu: str, key: str, raw: Any) -> ScreenDef:
    where = f"{filename}: screen {key!r}"
    if not _NAME.match(str(key)) or not isinstance(raw, dict):
        raise MenuError(f"{where}: screens are named in lowercase and hold a mapping.")
    unknown = set(raw) - {"text", "options", "input", "handler", "params", "end"}
    if unknown:
        raise MenuError(f"{where}: unknown fields {sorted(unknown)}.")
    options = tuple(
        Option(label=str(item["label"]), target=_target(f"{where} option {i}", menu, item))
        for i, item in enumerate(raw.get("options") or [], start=1)
    )
    spec = None
    if raw.get("input") is not None:
        body = raw["input"]
        spec = InputSpec(
            target=_target(f"{where} input", menu, body),
            pattern=str(body.get("pattern", r".+")),
            error=str(body.get("error", "common.invalid_input")),
            max_length=int(body.get("max_length", 160)),
            secret=bool(body.get("secret", False)),
            save_as=body.get("save_as"),
        )
        try:
            re.compile(spec.pattern)
        except re.error as exc:
            raise MenuError(f"{where}: input pattern {spec.pattern!r} does not compile: {exc}") from None
        if spec.secret and spec.save_as:
            raise MenuError(f"{where}: a secret input cannot be saved; remove 'save_as'.")
    if options and spec:
        raise MenuError(f"{where}: a screen has options or an input, not both.")
    handler = raw.get("handler")
    if not (raw.get("text") or handler):
        raise MenuError(f"{where}: needs 'text' or 'handler'.")
    return ScreenDef(
        id=f"{menu}.{key}",
        text=raw.get("text"),
        options=options,
        input=spec,
        handler=handler,
        params=MappingProxyType({str(k): str(v) for k, v in (raw.get("params") or {}).items()}),
        end=bool(raw.get("end", False)),
    )
