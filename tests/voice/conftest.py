"""Fixtures for voice: the prompts' audio built once per test run, an app with a callback token, and a caller
that drives ``POST /voice`` the way AT does and checks every answer on the way."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.voice.actions import ACTIONS
from gateway.voice.dial import Step, parse

TOKEN = "voice-test-token"
#: Built once per checkout and reused (a rebuild only redoes what changed): ``make test`` builds it first.
AUDIO_DIR = Path(__file__).resolve().parents[2] / "var" / "audio"


@pytest.fixture(scope="session")
def voice_audio() -> Path:
    from click.testing import CliRunner

    from gateway.cli import main

    result = CliRunner().invoke(main, ["build-audio", "--out", str(AUDIO_DIR)])
    assert result.exit_code == 0, result.output
    return AUDIO_DIR


@pytest.fixture
def voice_settings(settings: Settings, voice_audio: Path) -> Settings:
    return replace(settings, voice_audio_dir=voice_audio, callback_token=TOKEN)


@pytest.fixture
def voice_app(voice_settings: Settings) -> Flask:
    return create_app(voice_settings)


@pytest.fixture
def voice_client(voice_app: Flask) -> FlaskClient:
    return voice_app.test_client()


def check_answer(client: FlaskClient, xml: str, *, fetch_audio: bool = True) -> Step:
    """Everything AT needs of one answer: XML with a ``<Response>`` root and only AT's actions, each
    ``GetDigits``/``Record`` with one ``Say`` or ``Play`` and a ``callbackUrl`` to our ``/voice`` with the token,
    and every ``Play`` URL served as audio."""
    root = ET.fromstring(xml)
    assert root.tag == "Response", xml
    for element in root.iter():
        assert element is root or element.tag in ACTIONS, xml
    for gather in [*root.iter("GetDigits"), *root.iter("Record")]:
        inner = list(gather)
        assert len(inner) == 1 and inner[0].tag in ("Say", "Play"), xml
        url = urlsplit(gather.get("callbackUrl") or "")
        assert url.path == "/voice" and f"token={TOKEN}" in url.query, xml
    if fetch_audio:
        for play in root.iter("Play"):
            response = client.get(urlsplit(play.get("url") or "").path)
            assert response.status_code == 200, play.get("url")
            assert response.mimetype in ("audio/mpeg", "audio/wav")
            assert len(response.get_data()) > 1000
    return parse(xml)


@dataclass
class VoiceCaller:
    """A caller on an AT voice call: each request goes where the last answer said AT should go next."""

    client: FlaskClient
    phone: str = "+254711000001"
    number: str = "+254711082000"
    session_id: str = field(default_factory=lambda: "ATVId_" + secrets.token_hex(16))
    answers: list[str] = field(default_factory=list)
    step: Step | None = None

    def post(self, url: str, **fields: str) -> str:
        form = {"isActive": "1", "sessionId": self.session_id, "direction": "Inbound", "callerNumber": self.phone,
                "destinationNumber": self.number, **fields}
        parts = urlsplit(url)
        response = self.client.post(f"{parts.path}?{parts.query}", data=form)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_data(as_text=True)
        if form["isActive"] == "1":
            assert response.mimetype == "application/xml", body
            self.step = check_answer(self.client, body)
            self.answers.append(body)
        return body

    def call(self) -> Step:
        self.post(f"/voice?token={TOKEN}")
        assert self.step is not None
        return self.step

    def press(self, keys: str) -> Step:
        assert self.step is not None and self.step.callback, "nothing is waiting for keys"
        self.post(self.step.callback, dtmfDigits=keys)
        return self.step

    def record(self, url: str) -> Step:
        assert self.step is not None and self.step.gather == "record" and self.step.callback
        self.post(self.step.callback, recordingUrl=url)
        return self.step

    def silence(self) -> Step:
        assert self.step is not None and self.step.redirect
        self.post(self.step.redirect)
        return self.step

    def hang_up(self, seconds: int = 30) -> str:
        return self.post(f"/voice?token={TOKEN}", isActive="0", durationInSeconds=str(seconds), status="Success")

    def heard(self) -> str:
        """Everything said or played in the last answer, as one string (Say text and Play URLs)."""
        assert self.step is not None
        spoken = [*self.step.before, *([self.step.prompt] if self.step.prompt else [])]
        return " | ".join(f"{s.kind}:{s.value}" for s in spoken)


@pytest.fixture
def voice_caller(voice_client: FlaskClient) -> Iterator[VoiceCaller]:
    yield VoiceCaller(voice_client)
