"""Faults a black-box check of CONTRACT §7 found: no audio after ``pip install .`` and ``gateway serve``, an English
``<Say>`` apology for a Swahili caller while Redis is down, and marks read aloud ("greater than")."""

from __future__ import annotations

import json
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.services import HANDLERS
from gateway.voice.audio import MANIFEST
from gateway.voice.prebuild import static_audio_prompts
from gateway.voice.speech import speakable, static_prompts, text_prompt
from menus.catalog import Catalog, placeholders
from menus.engine import Engine
from menus.model import MenuSet

from .conftest import TOKEN

#: Marks a speech engine reads out as words ("greater than", "slash", "asterisk", "hash").
READ_ALOUD = set("<>|/\\*#_~^=[]{}@→»«›‹")
SWAHILI_CALLER = "+255712000001"  # Tanzania: Swahili by default, nothing remembered while Redis is down


def test_serve_builds_the_missing_prompts_beside_itself(serve: Callable[..., str], tmp_path: Path,
                                                        voice_settings: Settings) -> None:
    """``pip install .`` then ``gateway serve``: no ``gateway build-audio`` was run, yet every static prompt's
    audio is there soon after start (the server answered at once meanwhile)."""
    audio = tmp_path / "fresh-audio"
    started = time.monotonic()
    serve(VOICE_AUDIO_DIR=str(audio))
    assert time.monotonic() - started < 15
    wanted = {p.key for p in static_audio_prompts(voice_settings)}
    deadline = time.monotonic() + 90  # ~6 s of speech synthesis on an idle 2-core machine
    clips: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            clips = json.loads((audio / MANIFEST).read_text(encoding="utf-8"))["clips"]
        except (OSError, ValueError, KeyError):
            clips = {}
        if wanted <= clips.keys():
            break
        time.sleep(0.5)
    assert wanted <= clips.keys(), f"{len(wanted - clips.keys())} of {len(wanted)} prompts not built"
    assert all((audio / clips[key]["file"]).stat().st_size > 1000 for key in wanted)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("built", [True, False], ids=["built", "nothing-built"])
def test_a_swahili_caller_never_hears_english_speech_while_redis_is_down(voice_settings: Settings, tmp_path: Path,
                                                                          built: bool) -> None:
    """Redis unreachable: the apology is a ``<Play>`` of Swahili audio the gateway serves, built or made now; never
    ``<Say>``."""
    settings = replace(voice_settings, redis_url=f"redis://127.0.0.1:{_closed_port()}/0",
                       voice_audio_dir=voice_settings.voice_audio_dir if built else tmp_path / "empty-audio")
    client = create_app(settings).test_client()
    response = client.post(f"/voice?token={TOKEN}", data={
        "isActive": "1", "sessionId": "ATVId_redis_down", "direction": "Inbound", "callerNumber": SWAHILI_CALLER,
        "destinationNumber": "+254711082000"})
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.get_data(as_text=True))
    assert not list(root.iter("Say")), response.get_data(as_text=True)
    plays = list(root.iter("Play"))
    assert len(plays) == 1, response.get_data(as_text=True)
    clip = client.get("/voice/audio/" + (plays[0].get("url") or "").rsplit("/", 1)[-1])
    assert clip.status_code == 200 and clip.mimetype in ("audio/mpeg", "audio/wav")


def _read_aloud(text: str) -> set[str]:
    return {ch for ch in text if ch in READ_ALOUD}


def test_no_spoken_prompt_holds_a_mark_read_aloud(voice_settings: Settings) -> None:
    """Every prompt built ahead of time, and every catalog text spoken at run time (a notice such as "To follow
    up: Emergency help > Call me back"), in every language, is free of marks speech reads out."""
    catalog, menus = Catalog.load(), MenuSet.load()
    engine: Engine[Any] = Engine(menus, catalog, HANDLERS, voice_settings.page_budget, services=None)
    faults = [f"{p.lang} {p.id}: {sorted(_read_aloud(s.text))} in {s.text!r}"
              for p in static_prompts(menus, catalog, engine) for s in p.segments if _read_aloud(s.text)]
    for lang, messages in catalog.messages.items():
        for key in messages:
            params = {name: "X1" for name in placeholders(catalog.text(lang, key))}
            spoken = text_prompt("notice", lang, catalog.text(lang, key, **params)).segments[0].text
            if _read_aloud(spoken):
                faults.append(f"{lang} {key}: {sorted(_read_aloud(spoken))} in {spoken!r}")
    assert not faults, "\n".join(faults)


@pytest.mark.parametrize(("text", "spoken"), [
    ("To follow up: Emergency help > Call me back, and give it.",
     "To follow up: Emergency help, Call me back, and give it."),
    ("* not yet checked: confirm", "not yet checked: confirm"),
    ("Trafficking/forced labour", "Trafficking, forced labour"),
    ("Fees + exchange (2%), 30/11", "Fees + exchange (2%), 30/11"),
])
def test_marks_become_pauses_or_go(text: str, spoken: str) -> None:
    assert speakable(text) == spoken
