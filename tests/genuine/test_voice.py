"""The check menu on a voice call (CONTRACT §7): a caller keys a broadcast's ref as the digits of its letters'
keys, and a number, ended with ``#``, and hears the answer; never a recording of what they would type."""

from __future__ import annotations

from outbox import refs
from tests.voice.conftest import VoiceCaller, voice_app, voice_audio, voice_client, voice_settings  # noqa: F401

from .test_refs import _broadcast


def test_a_voice_caller_keys_a_ref_and_hears_it_is_genuine(voice_client, redis, key_a):  # noqa: F811
    ref = _broadcast(voice_client, redis, key_a, {"en": "Clinic open Saturday"})
    caller = VoiceCaller(voice_client, phone="+254711000066")
    caller.call()
    caller.press("1")  # English, on a first call
    caller.press("5")  # check
    prompt = caller.press("1")  # a message
    assert prompt.gather == "digits" and "press the key that carries it" in caller.heard()
    caller.press(refs.keyed(ref) + "#")
    assert f"Genuine: agency-a sent ref {ref}" in caller.heard() and "Clinic open Saturday" in caller.heard()
    caller.press("0")
    caller.press("2345678923#")  # keys no live ref carries
    assert "is not one of ours" in caller.heard()
