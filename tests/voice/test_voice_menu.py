"""The voice menu through ``POST /voice`` only, as AT drives it and as the acceptance walk will.

Every answer is checked on the way (tests/voice/conftest.py ``check_answer``): AT's XML with AT's actions only,
a ``callbackUrl`` with the token, and every ``<Play>`` URL fetchable as audio.
"""

from __future__ import annotations

import logging
from collections import deque

import pytest
from flask.testing import FlaskClient
from redis import Redis

from gateway.demo import seed_accounts
from gateway.voice.dial import Spoken
from gateway.voice.service import stats_keys
from handlers import casework
from identity.keyring import Keyring
from redis_reply import text
from tests.conftest import TEST_KEYRING
from tests.voice.conftest import TOKEN, VoiceCaller

LANGUAGE_KEYS = {"en": "1", "fr": "2", "sw": "3", "ar": "4", "tl": "5"}


def _on_welcome(client: FlaskClient, phone: str, lang: str) -> VoiceCaller:
    """A caller of ``phone`` standing on the welcome menu in ``lang`` (choosing it on their first call)."""
    caller = VoiceCaller(client, phone=phone)
    caller.call()
    if caller.step is not None and caller.step.prompt == _language_prompt(client):
        caller.press(LANGUAGE_KEYS[lang])
    return caller


_LANGUAGE_PROMPT: dict[int, Spoken] = {}


def _language_prompt(client: FlaskClient) -> Spoken:
    """The language choice's prompt, as a caller never heard from hears it."""
    if id(client) not in _LANGUAGE_PROMPT:
        stranger = VoiceCaller(client, phone="+254722999999")
        _LANGUAGE_PROMPT[id(client)] = stranger.call().prompt  # type: ignore[assignment]
    return _LANGUAGE_PROMPT[id(client)]


def _walk(client: FlaskClient, phone: str, lang: str, max_depth: int = 3) -> tuple[set[Spoken], list[str]]:
    """Every screen reachable in ``max_depth`` keys from the welcome menu, each key tried in a new call. A key is
    an option when it leads somewhere other than the same prompt under a notice; keys are tried from 1 up to the
    first that is not an option."""
    seen: set[Spoken] = set()
    answers: list[str] = []
    queue: deque[tuple[str, ...]] = deque([()])
    while queue:
        path = queue.popleft()
        caller = _on_welcome(client, phone, lang)
        for key in path:
            caller.press(key)
        answers += caller.answers
        step = caller.step
        assert step is not None
        if step.prompt is None or step.prompt in seen:
            continue
        seen.add(step.prompt)
        if step.gather != "digits" or step.num_digits != 1 or len(path) >= max_depth:
            continue
        if step.prompt == _language_prompt(client):
            continue  # picking another language here would change the caller's remembered one mid-walk
        for key in "123456789":
            probe = _on_welcome(client, phone, lang)
            for earlier in path:
                probe.press(earlier)
            after = probe.press(key)
            answers += probe.answers
            if after.prompt == step.prompt and after.before:  # the same screen under "not an option"
                break
            queue.append((*path, key))
    return seen, answers


@pytest.mark.slow
def test_every_option_is_reachable_by_its_digit_in_english_and_swahili(voice_client: FlaskClient,
                                                                      redis: Redis) -> None:
    english, _ = _walk(voice_client, "+254711000001", "en")
    assert len(english) >= 15
    # English is AT's own <Say>; the one clip is the language choice, which speaks every language.
    assert [prompt for prompt in english if prompt.kind == "play"] == [_language_prompt(voice_client)]
    swahili, answers = _walk(voice_client, "+254711000003", "sw")
    assert len(swahili) >= 15
    # A Swahili caller hears our own audio, never English text-to-speech: not one <Say> in any answer.
    assert not [xml for xml in answers if "<Say" in xml]


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "phone"), [("fr", "+254711000004"), ("ar", "+254711000005"),
                                             ("tl", "+254711000006")])
def test_callers_of_other_languages_never_hear_english_speech(voice_client: FlaskClient, lang: str,
                                                             phone: str) -> None:
    """Two keys deep in French, Arabic and Tagalog: only our own audio (every clip fetched as audio by
    ``check_answer`` on the way), not one <Say>."""
    seen, answers = _walk(voice_client, phone, lang, max_depth=2)
    assert len(seen) >= 6
    assert not [xml for xml in answers if "<Say" in xml]


def test_the_first_call_offers_every_language_in_its_own_words(voice_caller: VoiceCaller) -> None:
    step = voice_caller.call()
    assert step.gather == "digits" and step.num_digits == 1 and step.prompt is not None
    assert step.prompt.kind == "play"  # five languages in one clip: no English TTS for the others
    assert voice_caller.press("3").prompt != step.prompt
    # Remembered for the number, as for USSD and SMS: the next call starts in Swahili on the welcome menu.
    again = VoiceCaller(voice_caller.client, phone=voice_caller.phone)
    assert again.call().prompt == voice_caller.step.prompt  # type: ignore[union-attr]


def test_back_repeat_and_a_repeated_request(voice_client: FlaskClient) -> None:
    caller = _on_welcome(voice_client, "+254711000001", "en")
    welcome = caller.step
    assert welcome is not None and welcome.prompt is not None and "press 1" in welcome.prompt.value
    help_menu = caller.press("1")
    assert help_menu.prompt != welcome.prompt and "To go back, press 0" in help_menu.prompt.value  # type: ignore
    assert caller.press("*").prompt == help_menu.prompt
    assert caller.press("0").prompt == welcome.prompt
    # AT repeats the last request: the same XML, and the caller does not move twice.
    last_url = caller.step.callback  # type: ignore[union-attr]
    first = caller.post(last_url, dtmfDigits="1")  # type: ignore[arg-type]
    assert caller.post(last_url, dtmfDigits="1") == first  # type: ignore[arg-type]
    assert caller.press("0").prompt == welcome.prompt
    # A late request for a step already passed gets the current screen again, and changes nothing.
    assert caller.post(last_url, dtmfDigits="2") == caller.answers[-2]  # type: ignore[arg-type]


def test_no_key_reprompts_once_then_says_goodbye(voice_client: FlaskClient) -> None:
    caller = _on_welcome(voice_client, "+254711000001", "en")
    prompt = caller.step.prompt  # type: ignore[union-attr]
    again = caller.silence()
    assert again.prompt == prompt and again.before and "did not hear" in again.before[0].value
    bye = caller.silence()
    assert bye.gather is None and bye.redirect is None and "Goodbye" in bye.before[-1].value


@pytest.mark.parametrize("form", [
    {},
    {"isActive": "1"},
    {"isActive": "1", "sessionId": "ATVId_x", "callerNumber": "not a number"},
    {"isActive": "1", "callerNumber": "+254711000001"},
    {"isActive": "1", "sessionId": "../../etc", "callerNumber": "+254711000001"},
    {"isActive": "yes", "sessionId": "ATVId_junk", "callerNumber": "+254711000001", "dtmfDigits": "x" * 5000},
])
def test_junk_or_missing_fields_get_a_spoken_apology(voice_client: FlaskClient, form: dict[str, str]) -> None:
    response = voice_client.post(f"/voice?token={TOKEN}&s=zz", data=form)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    body = response.get_data(as_text=True)
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')
    assert "<Say" in body or "<Play" in body


def test_junk_keys_are_not_options(voice_client: FlaskClient) -> None:
    caller = _on_welcome(voice_client, "+254711000001", "en")
    prompt = caller.step.prompt  # type: ignore[union-attr]
    for junk in ("abc", "9", "99999999999999999999", "#", "**", "1*2#x"):
        step = caller.press(junk)
        assert step.gather == "digits" and step.prompt == prompt and step.before, junk


def test_callbacks_need_the_token(voice_client: FlaskClient) -> None:
    assert voice_client.post("/voice", data={"isActive": "1"}).status_code == 403
    assert voice_client.get("/voice").status_code == 405


def test_the_last_request_closes_the_call_and_counts_its_length(voice_client: FlaskClient, redis: Redis) -> None:
    caller = _on_welcome(voice_client, "+254711000001", "en")
    caller.press("2")  # Money: dropped here
    assert caller.hang_up(seconds=42) == ""
    day = text(redis.keys("stats:voice:*")[0]).split(":")[2]
    status_key, dropoff_key, seconds_key = stats_keys(day)
    assert redis.hgetall(seconds_key) == {b"sum": b"42", b"count": b"1"}
    assert redis.hget(dropoff_key, "money.main") == b"1"
    assert redis.hget(status_key, "Success") == b"1"
    assert not redis.keys(f"ussd:*{caller.session_id}")


def test_the_pin_is_keyed_with_hash_and_never_logged_or_spoken(voice_client: FlaskClient, redis: Redis,
                                                               keyring: Keyring,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    list(seed_accounts(redis, keyring))
    caplog.set_level(logging.DEBUG)
    caller = _on_welcome(voice_client, "+254711000001", "en")
    caller.press("2")
    pin = caller.press("1")
    assert pin.gather == "digits" and pin.finish_on_key == "#" and pin.num_digits is None
    assert "PIN" in pin.prompt.value and "hash" in pin.prompt.value  # type: ignore[union-attr]
    balance = caller.press("1234#")
    assert "1234" not in "".join(caller.answers)
    assert "balance" in caller.heard().lower()
    assert "1234" not in caplog.text
    assert balance.prompt != pin.prompt


def test_a_report_is_a_recorded_message_kept_with_the_case(voice_client: FlaskClient, redis: Redis) -> None:
    caller = _on_welcome(voice_client, "+254711000001", "en")
    caller.press("4")
    caller.press("1")  # abuse
    write = caller.press("1")  # leave the details
    assert write.gather == "record" and "After the tone" in write.prompt.value  # type: ignore[union-attr]
    url = "https://voice.example/recordings/abc123.mp3"
    caller.record(url)
    done = caller.press("1")  # no confirmation SMS
    assert done.gather is None and "R-" in caller.heard()
    cases = casework.newest(redis, casework.REPORT, keyring=TEST_KEYRING)
    assert len(cases) == 1 and cases[0].fields["recording_url"] == url
    assert "text" not in cases[0].fields
