"""``gateway dial --voice``: a phone call in the terminal, speaking AT's voice protocol to a running gateway.

It does what AT does with each answer: runs the actions in order (prints what a ``<Say>`` says, shows each
``<Play>`` URL and plays it where the machine has a player), reads keys at a ``<GetDigits>``, marks where a
``<Record>`` would record, follows ``callbackUrl`` with the keys pressed, or the ``<Redirect>`` when none were,
and sends the final ``isActive=0`` request when the call ends.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import click

TIMEOUT_S = 15
#: Players tried in turn for ``<Play>``; none found: the URL is shown only.
PLAYERS = (["mpg123", "-q"], ["ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"], ["play", "-q"])
ALLOWED = frozenset({"Say", "Play", "GetDigits", "Record", "Redirect", "Dial", "Reject"})


@dataclass(frozen=True)
class Spoken:
    kind: str  # "say" or "play"
    value: str  # the text, or the audio URL


@dataclass(frozen=True)
class Step:
    """One answer of the gateway, as AT reads it."""

    before: tuple[Spoken, ...] = ()
    #: "digits", "record" or None (the call ends after ``before``).
    gather: str | None = None
    prompt: Spoken | None = None
    callback: str | None = None
    finish_on_key: str | None = None
    num_digits: int | None = None
    redirect: str | None = None


def parse(xml: str) -> Step:
    """AT's reading of an answer. Raises ValueError for anything AT would not run."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    if root.tag != "Response":
        raise ValueError(f"root is <{root.tag}>, not <Response>")
    before: list[Spoken] = []
    gather: dict[str, object] = {}
    redirect = None
    for element in root:
        if element.tag not in ALLOWED:
            raise ValueError(f"<{element.tag}> is not an AT action")
        if element.tag in ("Say", "Play"):
            before.append(_spoken(element))
        elif element.tag in ("GetDigits", "Record") and not gather:
            inner = list(element)
            if len(inner) != 1 or inner[0].tag not in ("Say", "Play"):
                raise ValueError(f"<{element.tag}> must hold exactly one <Say> or <Play>")
            num = element.get("numDigits")
            gather = {"gather": "digits" if element.tag == "GetDigits" else "record", "prompt": _spoken(inner[0]),
                      "callback": element.get("callbackUrl"), "finish_on_key": element.get("finishOnKey"),
                      "num_digits": int(num) if num else None}
        elif element.tag == "Redirect":
            redirect = (element.text or "").strip()
    return Step(before=tuple(before), redirect=redirect, **gather)  # type: ignore[arg-type]


def _spoken(element: ET.Element) -> Spoken:
    if element.tag == "Say":
        return Spoken("say", (element.text or "").strip())
    url = element.get("url")
    if not url:
        raise ValueError("<Play> without url")
    return Spoken("play", url)


@dataclass
class VoicePhone:
    """A caller on the line. ``url`` is the gateway's ``/voice`` (with ``?token=`` when it needs one)."""

    url: str
    phone: str
    number: str = "+254711082000"
    play: bool = True
    session_id: str = field(default_factory=lambda: "ATVId_" + secrets.token_hex(16))
    started: float = field(default_factory=time.monotonic)

    def post(self, url: str, **fields: str) -> str:
        form = {"isActive": "1", "sessionId": self.session_id, "direction": "Inbound", "callerNumber": self.phone,
                "destinationNumber": self.number, **fields}
        request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return str(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise click.ClickException(f"The gateway answered HTTP {exc.code}.") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise click.ClickException(f"No answer from {url}: {exc}. Is the gateway running?") from None

    def run(self) -> None:
        click.echo(f"Calling {self.number} as {self.phone} ({self.url}). Keys: digits, * and #; Enter alone is "
                   "silence; Ctrl-D hangs up.")
        xml = self.post(self.url)
        try:
            while True:
                step = parse(xml)
                for spoken in step.before:
                    self.speak(spoken)
                if step.gather is None or step.callback is None:
                    if step.redirect:
                        xml = self.post(step.redirect)
                        continue
                    click.echo("(the gateway hung up)")
                    return
                assert step.prompt is not None
                self.speak(step.prompt)
                if step.gather == "record":
                    line = click.prompt("[recording would start here after a beep: type anything to stand for "
                                        "your message, Enter alone for silence]", default="", show_default=False)
                    fields = {"recordingUrl": "https://example.invalid/recording.mp3"} if line.strip() else {}
                else:
                    keys = click.prompt("Keys", default="", show_default=False).strip()
                    fields = {"dtmfDigits": keys} if keys else {}
                if not fields:
                    if step.redirect is None:
                        click.echo("(the call ended: no key pressed)")
                        return
                    xml = self.post(step.redirect)
                else:
                    xml = self.post(step.callback, **fields)
        except (click.Abort, EOFError):
            click.echo("\nHung up.")
        finally:
            self.post(self.url, isActive="0", durationInSeconds=str(int(time.monotonic() - self.started)),
                      status="Success")

    def speak(self, spoken: Spoken) -> None:
        if spoken.kind == "say":
            click.echo(f"  (says) {spoken.value}")
            return
        click.echo(f"  (plays) {spoken.value}")
        if self.play:
            play(spoken.value)


def play(url: str) -> bool:
    """Play an audio URL with the first player found; False when there is none (or it failed)."""
    for command in PLAYERS:
        if shutil.which(command[0]):
            break
    else:
        return False
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, tempfile.NamedTemporaryFile(
            suffix=".mp3"
        ) as tmp:
            tmp.write(response.read())
            tmp.flush()
            return subprocess.run([*command, tmp.name], check=False, timeout=120).returncode == 0
    except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
        return False
