"""Where a caller stands in the menus: the engine's state between two requests, and its JSON form.

The engine owns this shape; the session store keeps :meth:`EngineState.dumps`'s text without reading it, and the
gateway passes the few facts the store needs (the language to remember, whether to keep a resume point) as
arguments. The JSON keys are one letter because the text is written to Redis on every request.

Words used here and in the engine:

* a **screen** is a menu screen (``menu.screen``) or the resume offer (:data:`RESUME_OFFER`);
* a **view** is what a screen shows: a header, data lines and numbered options. A menu screen's view is rebuilt
  from the menu (and cached by the engine), so only views drawn by a handler are stored;
* a **resume point** is the state of a call that dropped, which the caller may *resume* (go back to) when they
  dial again within minutes. "Resume" means that and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .model import InputSpec, Target

#: The screen that offers a caller to resume a dropped call (not a menu screen: the engine draws it).
RESUME_OFFER = "~resume"


class StateError(ValueError):
    """Stored state that this version of the engine cannot read (malformed, or from an incompatible version)."""


@dataclass(frozen=True)
class View:
    """A screen's content. ``options`` maps the digits a caller may send to where each leads; ``option_lines`` are
    the same options as shown (``1 English``), in order."""

    header: str
    lines: tuple[str, ...] = ()
    option_lines: tuple[str, ...] = ()
    options: Mapping[str, Target] = field(default_factory=dict)
    expect: InputSpec | None = None
    end: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "h": self.header, "l": list(self.lines), "o": list(self.option_lines),
            "c": {key: target.to_json() for key, target in self.options.items()},
            "x": self.expect.to_json() if self.expect else None, "e": self.end,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> View:
        return cls(
            header=raw["h"], lines=tuple(raw["l"]), option_lines=tuple(raw["o"]),
            options={key: Target.from_json(value) for key, value in raw["c"].items()},
            expect=InputSpec.from_json(raw["x"]) if raw["x"] else None, end=raw["e"],
        )


@dataclass
class EngineState:
    """One session's place in the menus. Mutable: the engine changes a fresh copy per request (each request
    parses its own from the stored text)."""

    lang: str
    #: The current screen; None only before the first screen is shown.
    screen: str | None = None
    #: The page of the current screen the caller sees (0 = first).
    page: int = 0
    #: Screens to go back to with ``0``, most recent last.
    history: list[str] = field(default_factory=list)
    #: Values saved by inputs with ``save_as``; menu texts may show them as ``{name}``.
    vars: dict[str, str] = field(default_factory=dict)
    #: The current screen's view when a handler drew it; None for a menu screen (rebuilt from the menu).
    view: View | None = None
    #: While the resume offer is shown: the dropped call's state, restored if the caller picks "continue".
    resume_point: EngineState | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "l": self.lang, "s": self.screen, "p": self.page, "h": self.history, "v": self.vars,
            "w": self.view.to_json() if self.view else None,
            "r": self.resume_point.to_json() if self.resume_point else None,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> EngineState:
        return cls(
            lang=raw["l"], screen=raw["s"], page=raw["p"], history=list(raw["h"]), vars=dict(raw["v"]),
            view=View.from_json(raw["w"]) if raw["w"] else None,
            resume_point=cls.from_json(raw["r"]) if raw["r"] else None,
        )

    def dumps(self) -> str:
        """The state as compact JSON text, as the session store keeps it."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def loads(cls, text: str | bytes) -> EngineState:
        """The state from :meth:`dumps`'s text. Raises :class:`StateError` for text it cannot read."""
        try:
            return cls.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise StateError(f"Unreadable engine state ({type(exc).__name__}); the session starts again.") from exc
