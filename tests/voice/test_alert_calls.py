"""Alerts by phone call, end to end: subscribers imported with ``"channel": "voice"`` through the agency API, a
broadcast sent by the outbox jobs through the real SDK (SMS to tests/at_server.py, calls to
tests/at_voice_server.py), AT's side of each answered call posted to ``POST /voice``, counts read back."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from gateway.config import Settings
from outbox import keys, subscribers
from outbox.apikeys import create_key
from outbox.config import OutboxConfig, configure
from outbox.voice import AfricasTalkingVoice
from redis_reply import fields
from tests.at_voice_server import ATVoiceServer
from tests.conftest import TEST_KEYRING
from tests.voice.conftest import TOKEN, check_answer

OUR_NUMBER = "+254711082000"
SW_CALLED = "+254711000101"
EN_CALLED = "+254711000102"
TEXTED = "+254711000103"
ALERT = {"sw": "Mafuriko yanakuja, hamia mahali pa juu", "en": "Floods are coming, move to high ground"}


@pytest.fixture
def voice_server() -> Iterator[ATVoiceServer]:
    server = ATVoiceServer().start()
    yield server
    server.stop()


def _calls_config(outbox_config: Any, cap: int) -> OutboxConfig:
    return replace(outbox_config, voice_calls=True, voice_calls_per_broadcast=cap, voice_call_rate=1000)


@pytest.fixture
def calls(provider: Any, outbox_config: Any, voice_server: ATVoiceServer) -> Callable[[int], OutboxConfig]:
    """Configure this process's jobs with the SMS provider and the real SDK's ``Voice.call`` pointed at the local
    voice server, calls capped at ``cap`` a broadcast; returns the config."""

    def setup(cap: int) -> OutboxConfig:
        config = _calls_config(outbox_config, cap)
        configure(provider, config, AfricasTalkingVoice("testuser", "test-key", OUR_NUMBER,
                                                        api_url=voice_server.url, timeout=(1.0, 2.0)))
        return config

    return setup


@pytest.fixture
def alerts_app(voice_settings: Settings, calls: Callable[[int], OutboxConfig]) -> Flask:
    from gateway.app import create_app

    app = create_app(replace(voice_settings, at_voice_number=OUR_NUMBER, voice_calls_per_broadcast=10))
    calls(10)
    return app


def _post_voice(client: FlaskClient) -> Callable[[dict[str, str]], str]:
    def post(form: dict[str, str]) -> str:
        response = client.post(f"/voice?token={TOKEN}", data=form)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    return post


def _follow(client: FlaskClient, xml: str, form: dict[str, str], digits: str) -> str:
    """Press ``digits`` where the answer waits for keys, as AT does: post to the GetDigits callbackUrl."""
    step = check_answer(client, xml)
    assert step.callback
    url = urlsplit(step.callback)
    response = client.post(f"{url.path}?{url.query}", data={**form, "dtmfDigits": digits})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_voice_subscriber_is_called_not_texted_and_hears_the_alert(
        alerts_app: Flask, redis: Redis, at_server: Any, voice_server: ATVoiceServer,
        drain: Callable[[], None]) -> None:
    client = alerts_app.test_client()
    key, _ = create_key(redis, "agency-a")
    auth = {"Authorization": f"Bearer {key}"}
    rows = [{"phone": SW_CALLED, "country": "KE", "language": "sw", "topics": ["weather"], "channel": "voice"},
            {"phone": EN_CALLED, "country": "KE", "language": "en", "topics": ["weather"], "channel": "voice"},
            {"phone": TEXTED, "country": "KE", "language": "sw", "topics": ["weather"]},
            {"phone": "+254711000104", "country": "KE", "language": "sw", "channel": "fax"}]
    r = client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=auth)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["imported"] == 3
    assert r.get_json()["rejected"] == [{"index": 3, "reason": "channel must be one of sms, voice."}]

    body = {"message": ALERT, "audience": {"countries": ["KE"], "topics": ["weather"]}}
    estimate = client.post("/api/v1/broadcasts/estimate", json=body, headers=auth).get_json()
    assert estimate["recipients"] == 3
    assert estimate["voice"] == {"subscribers": 2, "calls": 2, "cap": 10, "capped": False, "sms_instead": 0}

    created = client.post("/api/v1/broadcasts", json=body, headers=auth)
    assert created.status_code == 202, created.get_json()
    broadcast_id = created.get_json()["id"]
    drain()

    assert sorted(voice_server.called()) == sorted([SW_CALLED, EN_CALLED])
    assert {c.caller_id for c in voice_server.calls} == {OUR_NUMBER}
    assert at_server.all_recipients() == [TEXTED]  # the voice subscribers got no SMS
    counts = client.get(f"/api/v1/broadcasts/{broadcast_id}", headers=auth).get_json()["counts"]
    assert counts["called"] == 2 and counts["sent"] == 1 and counts["answered"] == 0 and counts["queued"] == 0

    # The call map keeps the broadcast and language, never the number or the text.
    for call in voice_server.calls:
        kept = fields(redis.hgetall(keys.alert_call(call.session_id)))
        assert kept == {"b": broadcast_id, "l": "sw" if call.phone == SW_CALLED else "en"}

    answers = dict(zip(voice_server.called(), voice_server.answer_all(_post_voice(client)), strict=True))
    sw_xml, en_xml = answers[SW_CALLED], answers[EN_CALLED]
    check_answer(client, sw_xml)
    check_answer(client, en_xml)
    # Swahili: every word played from our own audio, never English <Say>; English: said, alert included.
    assert "<Say" not in sw_xml and sw_xml.count("<Play") == 4
    assert ALERT["en"] in en_xml and "<Play" not in en_xml
    assert ALERT["sw"] not in sw_xml  # the words are in the audio, not in the XML
    counts = client.get(f"/api/v1/broadcasts/{broadcast_id}", headers=auth).get_json()["counts"]
    assert counts["answered"] == 2 and counts["called"] == 2


def test_pressing_1_repeats_the_alert_and_a_repeated_request_counts_once(
        alerts_app: Flask, redis: Redis, at_server: Any, voice_server: ATVoiceServer, drain: Callable[[], None],
        outbox_config: Any) -> None:
    from outbox import broadcasts
    from outbox.broadcasts import BroadcastRequest

    client = alerts_app.test_client()
    subscribers.subscribe(redis, TEST_KEYRING, SW_CALLED, country="KE", language="sw", topics=["weather"],
                          source="api", channel="voice")
    view = broadcasts.create(redis, "agency-a", BroadcastRequest(message=ALERT, countries=("KE",)),
                             _calls_config(outbox_config, 10))
    drain()
    [call] = voice_server.calls
    form = {"isActive": "1", "sessionId": call.session_id, "direction": "Outbound", "callerNumber": OUR_NUMBER,
            "destinationNumber": SW_CALLED}
    post = _post_voice(client)
    first = post(form)
    assert post(form) == first  # AT repeats the request: the same answer, counted once
    again = _follow(client, first, form, "1")
    alert_url = re.findall(r'<Play url="([^"]+)"', first)[1]
    assert alert_url in again  # the same clip (cached by name), the call goes on
    done = _follow(client, again, form, "9")
    assert "GetDigits" not in done and "<Say" not in done
    # Junk on the alert call: keys, step and a missing number are answered in XML, never a 5xx.
    for junk in ({**form, "dtmfDigits": "x" * 5000}, {**form, "callerNumber": "", "destinationNumber": "junk"}):
        response = client.post(f"/voice?token={TOKEN}&s=zz", data=junk)
        assert response.status_code == 200 and response.mimetype == "application/xml"
        check_answer(client, response.get_data(as_text=True))
    assert broadcasts.view(redis, view["id"])["counts"]["answered"] == 1


def test_calls_are_capped_per_broadcast_and_the_rest_get_the_sms(
        redis: Redis, at_server: Any, voice_server: ATVoiceServer, drain: Callable[[], None],
        calls: Callable[[int], OutboxConfig]) -> None:
    from outbox import broadcasts
    from outbox.broadcasts import BroadcastRequest

    config = calls(2)
    phones = [f"+2547110002{i:02d}" for i in range(5)]
    for phone in phones:
        subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="sw", topics=["weather"],
                              source="api", channel="voice")
    request = BroadcastRequest(message=ALERT, countries=("KE",))
    estimate = broadcasts.estimate(redis, "agency-a", request, config)
    assert estimate["voice"]["calls"] == 2 and estimate["voice"]["capped"] is True
    assert estimate["voice"]["sms_instead"] == 3 and "VOICE_CALLS_PER_BROADCAST" in estimate["voice"]["note"]
    view = broadcasts.create(redis, "agency-a", request, config)
    drain()
    assert len(voice_server.called()) == 2
    assert sorted(voice_server.called() + at_server.all_recipients()) == sorted(phones)  # each reached once
    counts = broadcasts.view(redis, view["id"])["counts"]
    assert counts["called"] == 2 and counts["sent"] == 3


def test_refused_or_failed_calls_fall_back_to_sms(
        redis: Redis, at_server: Any, voice_server: ATVoiceServer, drain: Callable[[], None],
        calls: Callable[[int], OutboxConfig]) -> None:
    from outbox import broadcasts
    from outbox.broadcasts import BroadcastRequest

    config = calls(100)
    for phone in (SW_CALLED, EN_CALLED):
        subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="sw", topics=["weather"],
                              source="api", channel="voice")
    voice_server.unreachable.add(EN_CALLED)
    view = broadcasts.create(redis, "agency-a", BroadcastRequest(message=ALERT, countries=("KE",)), config)
    drain()
    assert voice_server.called() == [SW_CALLED] and at_server.all_recipients() == [EN_CALLED]
    assert broadcasts.view(redis, view["id"])["counts"]["called"] == 1

    voice_server.fail_next = 5  # the Voice API is down: everyone gets the SMS, nobody is lost
    view = broadcasts.create(redis, "agency-a", BroadcastRequest(message=ALERT, countries=("KE",)), config)
    drain()
    assert voice_server.called() == [SW_CALLED]
    assert sorted(at_server.all_recipients()) == sorted([EN_CALLED, SW_CALLED, EN_CALLED])
    counts = broadcasts.view(redis, view["id"])["counts"]
    assert counts["called"] == 0 and counts["sent"] == 2


def test_without_a_voice_number_voice_subscribers_get_the_sms(
        redis: Redis, at_server: Any, drain: Callable[[], None], outbox_config: Any) -> None:
    from outbox import broadcasts
    from outbox.broadcasts import BroadcastRequest

    subscribers.subscribe(redis, TEST_KEYRING, SW_CALLED, country="KE", language="sw", topics=["weather"],
                          source="api", channel="voice")
    assert subscribers.get(redis, TEST_KEYRING, SW_CALLED).channel == "voice"  # type: ignore[union-attr]
    request = BroadcastRequest(message=ALERT, countries=("KE",))
    assert broadcasts.estimate(redis, "a", request, outbox_config)["voice"]["calls"] == 0
    broadcasts.create(redis, "a", request, outbox_config)
    drain()
    assert at_server.all_recipients() == [SW_CALLED]


def test_channel_is_kept_moved_and_dropped_with_the_record(redis: Redis) -> None:
    member = TEST_KEYRING.seal(SW_CALLED)
    subscribers.subscribe(redis, TEST_KEYRING, SW_CALLED, country="KE", language="sw", topics=["weather"],
                          source="api", channel="voice")
    subscribers.subscribe(redis, TEST_KEYRING, SW_CALLED, country="UG", language="sw", topics=["weather"],
                          source="sms")  # no channel given: kept
    assert redis.sismember(keys.voice_subscribers(), member)
    subscribers.subscribe(redis, TEST_KEYRING, SW_CALLED, country="UG", language="sw", topics=["weather"],
                          source="ussd", channel="sms")
    assert not redis.sismember(keys.voice_subscribers(), member)
    assert subscribers.get(redis, TEST_KEYRING, SW_CALLED).channel == "sms"  # type: ignore[union-attr]
    subscribers.subscribe(redis, TEST_KEYRING, SW_CALLED, country="UG", language="sw", topics=["weather"],
                          source="ussd", channel="voice")
    subscribers.unsubscribe(redis, TEST_KEYRING, SW_CALLED)
    assert not redis.sismember(keys.voice_subscribers(), member)


def test_the_ussd_alerts_menu_switches_to_calls_and_back(client: FlaskClient, redis: Redis) -> None:
    from tests.flows.conftest import fresh, handset

    phone = handset(client, "KE")
    assert phone.send("3", "1", "1").startswith("END ")  # alerts here, safety: by SMS
    number = phone.phone
    assert subscribers.get(redis, TEST_KEYRING, number).channel == "sms"  # type: ignore[union-attr]
    fresh(phone)
    mine = phone.send("3", "3")
    assert "3 Get alerts by phone call" in mine
    assert phone.send("3") == "END Done. We will call you and read each alert to you."
    assert subscribers.get(redis, TEST_KEYRING, number).channel == "voice"  # type: ignore[union-attr]
    assert redis.sismember(keys.voice_subscribers(), TEST_KEYRING.seal(number))
    fresh(phone)
    assert "3 Get alerts by SMS" in phone.send("3", "3")
    assert phone.send("3") == "END Done. Your alerts will come by SMS."
    assert not redis.sismember(keys.voice_subscribers(), TEST_KEYRING.seal(number))


def test_subscribing_on_a_call_takes_alerts_by_call(voice_client: FlaskClient, redis: Redis) -> None:
    from tests.voice.conftest import VoiceCaller

    caller = VoiceCaller(voice_client, phone="+254711000555")
    caller.call()
    caller.press("1")  # English
    caller.press("3")  # alerts
    caller.press("1")  # for this country
    caller.press("1")  # safety
    assert "Alerts by phone call: Kenya" in caller.heard()
    assert caller.step is not None and caller.step.callback is None  # the call ends
    assert subscribers.get(redis, TEST_KEYRING, caller.phone).channel == "voice"  # type: ignore[union-attr]
    again = VoiceCaller(voice_client, phone=caller.phone)
    again.call()
    again.press("3")
    again.press("3")  # your alerts: stop Kenya, stop all, by SMS
    assert "Get alerts by SMS, press 3" in again.heard()
    again.press("3")
    assert "Your alerts will come by SMS" in again.heard()
    assert subscribers.get(redis, TEST_KEYRING, caller.phone).channel == "sms"  # type: ignore[union-attr]


def test_gateway_worker_calls_voice_subscribers_from_its_environment(
        redis: Redis, redis_url: str, at_server: Any, voice_server: ATVoiceServer, outbox_config: Any,
        tmp_path: Any) -> None:
    """The worker process as an operator starts it: ``AT_VOICE_NUMBER`` and ``AT_VOICE_API_URL`` are all it takes."""
    import os
    import subprocess
    import sys

    from outbox import broadcasts
    from outbox.broadcasts import BroadcastRequest
    from tests.conftest import TEST_SECRET

    for phone, channel in ((SW_CALLED, "voice"), (TEXTED, None)):
        subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="sw", topics=["weather"],
                              source="api", channel=channel)
    view = broadcasts.create(redis, "agency-a", BroadcastRequest(message=ALERT, countries=("KE",)),
                             _calls_config(outbox_config, 10))
    env = {**os.environ, "REDIS_URL": redis_url, "GATEWAY_VAR_DIR": str(tmp_path), "GATEWAY_SECRET": TEST_SECRET,
           "SMS_PROVIDER": "africastalking", "AT_USERNAME": "testuser", "AT_API_KEY": "test-key",
           "AT_API_URL": at_server.url, "AT_VOICE_NUMBER": OUR_NUMBER, "AT_VOICE_API_URL": voice_server.url,
           "LOG_LEVEL": "WARNING"}
    env.pop("GATEWAY_DEV", None)
    done = subprocess.run([sys.executable, "-m", "gateway", "worker", "--burst"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert voice_server.called() == [SW_CALLED] and at_server.all_recipients() == [TEXTED]
    assert [c.caller_id for c in voice_server.calls] == [OUR_NUMBER]
    assert SW_CALLED not in done.stderr  # numbers are never logged
    counts = broadcasts.view(redis, view["id"])["counts"]
    assert counts["called"] == 1 and counts["sent"] == 1


def test_a_batch_retried_after_an_sms_failure_calls_nobody_twice(
        redis: Redis, at_server: Any, voice_server: ATVoiceServer, drain: Callable[[], None],
        calls: Callable[[int], OutboxConfig]) -> None:
    from outbox import broadcasts
    from outbox.broadcasts import BroadcastRequest
    from outbox.sweeper import sweep

    config = calls(10)
    for phone, channel in ((SW_CALLED, "voice"), (TEXTED, None)):
        subscribers.subscribe(redis, TEST_KEYRING, phone, country="KE", language="sw", topics=["weather"],
                              source="api", channel=channel)
    at_server.behaviour.fail_next = 2  # the batch's SMS fails twice: the whole batch is tried again
    view = broadcasts.create(redis, "agency-a", BroadcastRequest(message=ALERT, countries=("KE",)), config)
    for _ in range(10):
        drain()
        if not redis.zcard("bc:active"):
            break
        sweep(redis, config, force=True)
    assert voice_server.called() == [SW_CALLED]  # once, though the batch ran three times
    assert at_server.all_recipients() == [TEXTED]
    final = broadcasts.view(redis, view["id"])
    assert final["status"] == "done"
    assert final["counts"]["called"] == 1 and final["counts"]["sent"] == 1 and final["counts"]["queued"] == 0
