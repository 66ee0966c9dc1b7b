"""AT's voice XML: only AT's actions, escaped, in the shapes AT runs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gateway.voice import actions as a
from gateway.voice.dial import parse


def test_a_menu_prompt_is_getdigits_holding_one_prompt_then_a_redirect() -> None:
    xml = a.response(a.GetDigits(a.Say("For help, press 1 & stay <calm>"), "https://gw/voice?token=t&s=1",
                                 num_digits=1), a.Redirect("https://gw/voice?token=t&s=1&silent=1"))
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')
    root = ET.fromstring(xml)
    gather = root.find("GetDigits")
    assert gather is not None and gather.get("callbackUrl") == "https://gw/voice?token=t&s=1"
    assert gather.get("numDigits") == "1" and gather.get("finishOnKey") == "#"
    say = gather.find("Say")
    assert say is not None and say.text == "For help, press 1 & stay <calm>"
    assert "&amp;" in xml and "&lt;calm&gt;" in xml
    assert [child.tag for child in root] == ["GetDigits", "Redirect"]


def test_record_play_dial_reject() -> None:
    root = ET.fromstring(a.response(a.Record(a.Play("https://gw/a.mp3"), "https://gw/voice?s=2", max_length=90)))
    record = root.find("Record")
    assert record is not None and record.get("maxLength") == "90" and record.get("trimSilence") == "true"
    assert record.find("Play") is not None
    dial = ET.fromstring(a.response(a.Dial(["+254700000001", "+254700000002"]))).find("Dial")
    assert dial is not None and dial.get("phoneNumbers") == "+254700000001,+254700000002"
    assert a.response(a.Reject()).endswith("<Response><Reject /></Response>")


def test_rules_at_states_are_enforced() -> None:
    with pytest.raises(ValueError, match="Redirect"):
        a.response(a.Redirect("https://gw/voice"), a.Say("never heard"))
    with pytest.raises(ValueError, match="Reject"):
        a.response(a.Say("hello"), a.Reject())


def test_the_dial_reader_refuses_what_at_would_not_run() -> None:
    with pytest.raises(ValueError):
        parse("<Response><Speak>hi</Speak></Response>")
    with pytest.raises(ValueError):
        parse("<Response><GetDigits><Say>a</Say><Say>b</Say></GetDigits></Response>")
    with pytest.raises(ValueError):
        parse("not xml")
