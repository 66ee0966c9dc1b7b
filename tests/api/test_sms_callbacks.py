"""AT's SMS callbacks: inbound keywords, delivery reports, opt-outs, and the callback token."""

from __future__ import annotations

from dataclasses import replace

from rq import Queue

from gateway.app import create_app
from outbox import subscribers
from tests.conftest import TEST_KEYRING


def _inbound(client, text, *, sender="+254711000001", id="in-1", query=""):
    form = {"from": sender, "to": "12345", "text": text, "date": "2026-01-01", "id": id, "linkId": "",
            "networkCode": "63902"}
    return client.post("/sms/inbound" + query, data=form)


def test_stop_in_every_language_opts_out_once(client, redis, drain, at_server):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000001", country="KE", language="sw", topics=["weather"],
                          source="ussd")
    assert _inbound(client, "acha").status_code == 200
    assert subscribers.get(redis, TEST_KEYRING, "+254711000001").opted_out
    assert _inbound(client, "acha").status_code == 200  # AT's retry: same id
    assert len(Queue("normal", connection=redis)) == 1  # one confirmation
    drain()
    assert at_server.messages_to("+254711000001") == ["Hutapokea tena arifa. Tuma ANZA kujiunga tena."]
    for i, word in enumerate(["STOP", "Arrêt", "توقف", "tigil", "Stop please"]):
        phone = f"+25471100010{i}"
        _inbound(client, word, sender=phone, id=f"x{i}")
        assert subscribers.is_opted_out(redis, TEST_KEYRING, phone), word


def test_start_and_join(client, redis):
    subscribers.opt_out(redis, TEST_KEYRING, "+254711000001")
    _inbound(client, "JOIN UG fr", id="a")
    sub = subscribers.get(redis, TEST_KEYRING, "+254711000001")
    assert not sub.opted_out and sub.countries == {"UG"} and sub.language == "fr"
    _inbound(client, "hello there", id="b", sender="+254711000002")
    assert subscribers.get(redis, TEST_KEYRING, "+254711000002") is None
    _inbound(client, "HELP", id="c", sender="+254711000003")
    assert subscribers.get(redis, TEST_KEYRING, "+254711000003") is None


def test_confirmations_are_rate_limited(client, redis):
    """Confirmations share the per-number daily cap of every single SMS (SMS_PER_NUMBER_PER_DAY, default 5)."""
    for i in range(8):
        _inbound(client, "STOP" if i % 2 else "START", id=f"r{i}")
    assert len(Queue("normal", connection=redis)) == 5


def test_optout_callback_and_methods(client, redis):
    assert client.post("/sms/optout", data={"senderId": "X", "phoneNumber": "+254711000005"}).status_code == 200
    assert subscribers.is_opted_out(redis, TEST_KEYRING, "+254711000005")
    assert client.post("/sms/optout", data={"phoneNumber": "garbage"}).status_code == 200
    assert client.get("/sms/inbound").status_code == 405
    assert client.post("/sms/delivery", data={"id": "nope", "status": "Success"}).status_code == 200


def test_callback_token_guards_all(settings, redis):
    app = create_app(replace(settings, callback_token="s3cret"))
    client = app.test_client()
    for path in ("/sms/inbound", "/sms/delivery", "/sms/optout"):
        assert client.post(path, data={}).status_code == 403
        assert client.post(path + "?token=s3cret", data={}).status_code == 200
