"""Emergency help on a call: a number not yet checked is said to be so, in words, never read out as "star"."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.voice.test_voice_menu import _on_welcome


def test_an_unchecked_number_is_said_to_be_unchecked(voice_client: FlaskClient) -> None:
    caller = _on_welcome(voice_client, "+254711000001", "en")  # a Kenyan at home: Kenya's lines for its citizens
    caller.press("1")  # emergency help
    spoken = caller.press("2").prompt  # "my embassy": at home, the lines for workers abroad and their families
    assert spoken is not None
    text = spoken.value
    assert "not yet checked" in text and "*" not in text, text
    assert "0 2 0 7 8 7 6 0 0 0" in text  # the number itself, digit by digit
