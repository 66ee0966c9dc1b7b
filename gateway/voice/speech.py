"""What a screen sounds like: the menu's screen turned into one spoken prompt in the caller's language.

A screen reads well and sounds wrong in small ways: ``1 Emergency help`` becomes "For emergency help, press 1";
``98 More`` and ``00 Home`` do not exist on a call (the whole list is spoken; ``0`` goes back, ``*`` repeats);
a help number is read digit by digit. Where a catalog text does not work aloud at all, the catalog holds a
spoken form under the same key plus ``.voice`` (``money.pin.prompt.voice``), which wins. Every prompt is built
here, both ahead of time (:func:`static_prompts`, for ``gateway build-audio``) and during a call, so the text a
call needs is the text that was built.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from menus.catalog import SOURCE_LANGUAGE, Catalog, placeholders
from menus.engine import Engine, ScreenParts
from menus.model import InputSpec, MenuSet
from menus.state import EngineState

from .audio import Prompt
from .tts import Segment

VOICE_SUFFIX = ".voice"
LANGUAGE_SCREEN = "language.choose"
#: Keys of the fixed lines spoken outside a screen's prompt.
FIXED_KEYS = ("voice.no_input", "voice.goodbye", "common.invalid_choice", "common.invalid_input",
              "common.unavailable", "voice.alert.intro", "voice.alert.repeat")
#: A number to be read digit by digit: an international number, or any run of 3+ digits on a help screen.
_PHONE_LIKE = re.compile(r"\+?\d[\d \-]{5,}\d")
_DIGITS = re.compile(r"\+?\d[\d \-]*\d")
#: Marks that speech would read out literally ("greater than", "slash", "asterisk"): a breadcrumb's ``>``
#: (``Emergency help > Call me back``), a ``/`` between words, a footnote's ``*``. A step or alternative becomes a
#: pause (a comma); a mark with no meaning aloud is dropped. ``+`` and ``%`` are read as meant and stay.
_STEP = re.compile(r"\s*(?:>|<|→|»|›|«|‹|\|)\s*")
_BETWEEN_WORDS = re.compile(r"(?<=[^\W\d])\s*/\s*(?=[^\W\d])")
_DROPPED = re.compile(r"[*#_~^=\\\[\]{}@]+")
_LOOSE_COMMAS = re.compile(r"\s*,(?:\s*,)*")
#: Speaking rate used to estimate how long a prompt takes before it is built (words a second at 150 wpm).
WORDS_PER_SECOND = 2.5


def spoken_text(catalog: Catalog, lang: str, key: str, **params: object) -> str:
    """The catalog text of ``key``, or its spoken form ``key.voice`` where the catalog has one."""
    spoken = key + VOICE_SUFFIX
    if spoken in catalog.messages.get(SOURCE_LANGUAGE, {}):
        return catalog.text(lang, spoken, **params)
    return catalog.text(lang, key, **params)


def speakable(text: str) -> str:
    """``text`` without the marks speech would read aloud literally (:data:`_STEP`): every spoken prompt passes
    here, so a screen's ``Emergency help > Call me back`` is heard as "Emergency help, Call me back"."""
    text = _STEP.sub(", ", text)
    text = _BETWEEN_WORDS.sub(", ", text)
    text = _DROPPED.sub(" ", text)
    text = _LOOSE_COMMAS.sub(",", " ".join(text.split()))
    return re.sub(r",(?=\S)", ", ", text).strip(" ,")


def digit_by_digit(text: str, *, all_numbers: bool = False) -> str:
    """Phone numbers spaced out so that speech reads ``999`` as "nine nine nine", not "nine hundred …"."""
    pattern = _DIGITS if all_numbers else _PHONE_LIKE

    def spell(match: re.Match[str]) -> str:
        raw = match.group(0)
        digits = " ".join(ch for ch in raw if ch.isdigit())
        return ("+ " if raw.startswith("+") else "") + digits

    return pattern.sub(spell, text)


def is_free_text(spec: InputSpec) -> bool:
    """A free-text input (a report's details) is recorded as a voice message; a number is keyed."""
    return spec.accepts("ab cd")


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".?!:;،؟。" else text + "."


def screen_text(catalog: Catalog, lang: str, parts: ScreenParts) -> str:
    """The spoken text of a screen (without any notice): header, data lines, choices, how to go back."""
    header = spoken_text(catalog, lang, parts.header_key) if parts.header_key else parts.header
    every_number = (parts.screen or "").startswith("help.")
    out = [_sentence(digit_by_digit(header, all_numbers=every_number))]
    out += [_sentence(digit_by_digit(line, all_numbers=every_number)) for line in parts.lines]
    for option in parts.options:
        label = spoken_text(catalog, lang, option.label_key) if option.label_key else option.label
        out.append(catalog.text(lang, "voice.option", label=label.rstrip(".:"), digit=option.key_in))
    if parts.input is not None and not is_free_text(parts.input) and not (
        parts.header_key and parts.header_key + VOICE_SUFFIX in catalog.messages[SOURCE_LANGUAGE]
    ):
        out.append(catalog.text(lang, "voice.then_hash"))
    if not parts.end and parts.input is None:
        out.append(catalog.text(lang, "voice.nav" if parts.can_go_back else "voice.nav.first"))
    if parts.end:
        out.append(catalog.text(lang, "voice.goodbye"))
    return speakable(" ".join(filter(None, out)))


def screen_prompt(catalog: Catalog, lang: str, parts: ScreenParts) -> Prompt:
    """The prompt of a screen. The language choice is the one screen spoken in several languages: each language
    is offered in its own words, as the screen names each in its own script."""
    if parts.screen == LANGUAGE_SCREEN and parts.options and parts.header_key:
        segments = []
        for option in parts.options:
            own = (option.label_key or "").rpartition(".")[2]
            own = own if catalog.supports(own) else lang
            label = spoken_text(catalog, own, option.label_key) if option.label_key else option.label
            text = catalog.text(own, "voice.option", label=label, digit=option.key_in)
            segments.append(Segment(own, speakable(text)))
        return Prompt(LANGUAGE_SCREEN, "mul", tuple(segments))
    return Prompt(parts.screen or "screen", lang, (Segment(lang, screen_text(catalog, lang, parts)),))


def line_prompt(catalog: Catalog, lang: str, key: str, **params: object) -> Prompt:
    """One fixed line (goodbye, a notice) as a prompt of its own."""
    return text_prompt(key, lang, spoken_text(catalog, lang, key, **params))


def text_prompt(prompt_id: str, lang: str, text: str, spoken_lang: str | None = None) -> Prompt:
    """Text known only at run time (a notice, an alert) as a prompt for a caller of ``lang``, read in
    ``spoken_lang`` (default ``lang``)."""
    return Prompt(prompt_id, lang, (Segment(spoken_lang or lang, speakable(text)),))


def static_prompts(menus: MenuSet, catalog: Catalog, engine: Engine,
                   languages: tuple[str, ...] | None = None) -> Iterator[Prompt]:
    """Every prompt that can be known before a call: each menu screen whose text has no placeholders, in every
    language, as first screen and as a deeper one (the two differ in how to go back), and the fixed lines."""
    seen: set[str] = set()
    for lang in languages or catalog.languages:
        for screen in menus.screens.values():
            if screen.handler or (screen.text and placeholders(catalog.text(lang, screen.text))):
                continue
            for depth in (0, 1):
                state = EngineState(lang=lang, screen=screen.id, history=["x"] * depth)
                prompt = screen_prompt(catalog, lang, engine.parts(state))
                if prompt.key not in seen:
                    seen.add(prompt.key)
                    yield prompt
        for key in FIXED_KEYS:
            prompt = line_prompt(catalog, lang, key)
            if prompt.key not in seen:
                seen.add(prompt.key)
                yield prompt


def estimated_seconds(prompt: Prompt) -> float:
    """How long a prompt takes to say, from its words; :func:`gateway.voice.audio.build` measures the real one."""
    return sum(len(s.text.split()) for s in prompt.segments) / WORDS_PER_SECOND


def voice_faults(menus: MenuSet, catalog: Catalog, engine: Engine, max_seconds: float,
                 measured: Mapping[str, float] | None = None) -> list[str]:
    """``gateway check-menus`` for voice: every static screen has a spoken prompt in every language that takes at
    most ``max_seconds`` to say (``measured`` by the last audio build where it has the prompt, else estimated),
    and every screen that asks for input has a spoken form of its question (``<key>.voice``): "Type …" or
    "Enter …" is screen talk."""
    out = []
    source = catalog.messages[SOURCE_LANGUAGE]
    for screen in menus.screens.values():
        if screen.input is not None and screen.text and screen.text + VOICE_SUFFIX not in source:
            out.append(f"{screen.id}: asks for input but {screen.text + VOICE_SUFFIX!r} (its spoken form) is not "
                       "in en.po")
    longest: dict[tuple[str, str], float] = {}
    for prompt in static_prompts(menus, catalog, engine):
        if not " ".join(s.text for s in prompt.segments).strip():
            out.append(f"{prompt.lang}: {prompt.id}: has no spoken form")
            continue
        seconds = (measured or {}).get(prompt.key) or estimated_seconds(prompt)
        where = (prompt.lang, prompt.id)
        longest[where] = max(seconds, longest.get(where, 0.0))
    for (lang, screen_id), seconds in longest.items():
        if seconds > max_seconds:
            out.append(f"{lang}: {screen_id}: takes {seconds:.0f} s to say, over {max_seconds:.0f} s "
                       "(VOICE_MAX_PROMPT_S); give its options shorter spoken forms (<key>.voice)")
    return out
