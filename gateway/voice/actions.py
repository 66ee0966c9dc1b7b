"""Africa's Talking voice XML: the actions AT runs, in order, and nothing else.

AT reads ``<Response>`` with the actions ``Say``, ``Play``, ``GetDigits``, ``Record``, ``Redirect``, ``Dial`` and
``Reject`` (AT-PROTOCOL §7). Attribute names are case-sensitive at AT's end (an SDK that wrote ``callBackUrl`` left
callers looping), so they are spelled here once. Text is escaped by ElementTree, so an ``&`` in a prompt or a
``<`` in a URL can never break the document. The rules AT states are checked when the document is written:
``GetDigits`` and ``Record`` hold exactly one ``Say`` or ``Play``; nothing follows a ``Redirect``; ``Reject``
stands alone.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

#: Every element name AT's voice XML knows; tests check answers against it.
ACTIONS = frozenset({"Say", "Play", "GetDigits", "Record", "Redirect", "Dial", "Reject"})


@dataclass(frozen=True)
class Say:
    """Text spoken by AT's own text-to-speech: English only (AT documents no other language)."""

    text: str
    voice: str = "woman"

    def element(self) -> ET.Element:
        el = ET.Element("Say", voice=self.voice, playBeep="false")
        el.text = self.text
        return el


@dataclass(frozen=True)
class Play:
    """Audio at a URL (mp3 or wav). AT caches it by URL, so the URL must change when the audio does."""

    url: str

    def element(self) -> ET.Element:
        return ET.Element("Play", url=self.url)


Prompt = Say | Play


@dataclass(frozen=True)
class GetDigits:
    """Speak ``prompt`` and collect keys until ``finish_on_key``, ``num_digits`` keys or ``timeout`` seconds of
    silence. With no key pressed AT goes on to the next action without calling back."""

    prompt: Prompt
    callback_url: str
    timeout: int = 10
    finish_on_key: str | None = "#"
    num_digits: int | None = None

    def element(self) -> ET.Element:
        el = ET.Element("GetDigits", timeout=str(self.timeout), callbackUrl=self.callback_url)
        if self.finish_on_key:
            el.set("finishOnKey", self.finish_on_key)
        if self.num_digits:
            el.set("numDigits", str(self.num_digits))
        el.append(self.prompt.element())
        return el


@dataclass(frozen=True)
class Record:
    """Speak ``prompt``, then record the caller until ``finish_on_key``, silence or ``max_length`` seconds; the
    next callback carries ``recordingUrl``."""

    prompt: Prompt
    callback_url: str
    max_length: int = 60
    timeout: int = 5
    finish_on_key: str = "#"
    trim_silence: bool = True
    play_beep: bool = True

    def element(self) -> ET.Element:
        el = ET.Element("Record", finishOnKey=self.finish_on_key, maxLength=str(self.max_length),
                        timeout=str(self.timeout), trimSilence=_bool(self.trim_silence),
                        playBeep=_bool(self.play_beep), callbackUrl=self.callback_url)
        el.append(self.prompt.element())
        return el


@dataclass(frozen=True)
class Redirect:
    """Hand the rest of the call to ``url``: nothing after it runs."""

    url: str

    def element(self) -> ET.Element:
        el = ET.Element("Redirect")
        el.text = self.url
        return el


@dataclass(frozen=True)
class Dial:
    """Connect the caller to one of ``phone_numbers`` (in turn when ``sequential``)."""

    phone_numbers: Sequence[str]
    sequential: bool = True
    record: bool = False
    max_duration: int | None = None

    def element(self) -> ET.Element:
        el = ET.Element("Dial", phoneNumbers=",".join(self.phone_numbers), sequential=_bool(self.sequential),
                        record=_bool(self.record))
        if self.max_duration:
            el.set("maxDuration", str(self.max_duration))
        return el


@dataclass(frozen=True)
class Reject:
    """Refuse an incoming call without answering it (no charge)."""

    def element(self) -> ET.Element:
        return ET.Element("Reject")


Action = Say | Play | GetDigits | Record | Redirect | Dial | Reject


def response(*actions: Action) -> str:
    """The XML document AT expects, with the actions in order. Raises ValueError when AT would not run them as
    meant: anything after a ``Redirect``, or ``Reject`` beside other actions."""
    for i, action in enumerate(actions):
        if isinstance(action, Redirect) and i != len(actions) - 1:
            raise ValueError("Nothing runs after <Redirect>: make it the last action.")
        if isinstance(action, Reject) and len(actions) != 1:
            raise ValueError("<Reject/> must stand alone in the response.")
    root = ET.Element("Response")
    root.extend(action.element() for action in actions)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def _bool(value: bool) -> str:
    return "true" if value else "false"
