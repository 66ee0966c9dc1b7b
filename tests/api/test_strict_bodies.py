"""Strict bodies (CONTRACT §3): an unknown field anywhere is a 422 naming it, ``all`` is the only way to reach
everyone, an audience matching nobody is refused, times in the past are refused, an estimate stores nothing, a
cancel of a finished broadcast is 409, and no body, however malformed, gets a 5xx or leaves anything behind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from outbox import subscribers
from tests.conftest import TEST_KEYRING

KE = {"message": {"en": "Flood warning"}, "audience": {"countries": ["KE"]}}


@pytest.fixture
def kenyans(redis):
    for n in range(3):
        subscribers.subscribe(redis, TEST_KEYRING, f"+25471100001{n}", country="KE", language="en", topics=["weather"],
                              source="api")
    subscribers.subscribe(redis, TEST_KEYRING, "+256772000001", country="UG", language="en", topics=["safety"],
                          source="api")


def _keys(redis):
    return {k for k in redis.scan_iter("*") if not k.startswith((b"apikey", b"rq:"))}


def _post(client, key, body, path="/api/v1/broadcasts"):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=raw, headers={**key, "Content-Type": "application/json"})


@pytest.mark.parametrize(("body", "field", "code"), [
    ({"message": {"en": "x"}, "audience": {"country": ["KE"]}}, "audience.country", "unknown_field"),
    ({**KE, "dry_run": True}, "dry_run", "unknown_field"),
    ({**KE, "gsm_lookalikes": True}, "gsm_lookalikes", "unknown_field"),
    ({"message": {"en": "x"}, "audience": {}}, "audience", "invalid"),
    ({"message": {"en": "x"}, "audience": {"all": False}}, "audience.all", "invalid"),
    ({"message": {"en": "x"}, "audience": {"all": True, "countries": ["KE"]}}, "audience", "invalid"),
    ({"message": {"en": "x"}, "audience": {"phones": ["+254711000010"], "topics": ["weather"]}}, "audience",
     "invalid"),
    ({**KE, "send_at": "2020-01-01T00:00:00+00:00"}, "send_at", "invalid"),
    ({**KE, "expires_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat()}, "expires_at", "invalid"),
    ({"message": "x", "audience": {"countries": ["KE"]}}, "message", "invalid"),
    ({"message": {"en": 5}, "audience": {"countries": ["KE"]}}, "message.en", "invalid"),
    ({"message": {"zz": "x"}, "audience": {"countries": ["KE"]}}, "message.zz", "invalid"),  # not a language we
    ({"message": {"en": "x", "de": "y"}, "audience": {"countries": ["KE"]}}, "message.de", "invalid"),  # send in
    ({"message": {"en": "x"}, "audience": []}, "audience", "invalid"),
    ({"message": {"en": "x"}, "audience": {"countries": "KE"}}, "audience.countries", "invalid"),
    ({"message": {"en": "x"}, "audience": {"phones": [254711000010]}}, "audience.phones[0]", "invalid"),
    ({**KE, "priority": 1}, "priority", "invalid"),
    ({**KE, "send_at": 1700000000}, "send_at", "invalid"),
    ({**KE, "replace_lookalikes": "yes"}, "replace_lookalikes", "invalid"),
])
def test_a_body_the_call_does_not_know_is_refused_naming_the_field(client, redis, key_a, kenyans, body, field, code):
    before = _keys(redis)
    for path in ("/api/v1/broadcasts", "/api/v1/broadcasts/estimate"):
        r = _post(client, key_a, body, path)
        assert r.status_code == 422, (path, r.json)
        assert r.json["error"]["field"] == field and r.json["error"]["code"] == code, r.json
    assert _keys(redis) == before  # validation before any write


def test_only_all_reaches_everyone(client, key_a, kenyans):
    r = _post(client, key_a, {"message": {"en": "To everyone"}, "audience": {"all": True}})
    assert r.status_code == 202 and r.json["recipients"] == 4


def test_an_audience_matching_nobody_is_refused_and_leaves_nothing(client, redis, key_a, kenyans):
    before = _keys(redis)
    r = _post(client, key_a, {"message": {"en": "x"}, "audience": {"countries": ["TZ"]}})
    assert r.status_code == 422 and r.json["error"]["code"] == "empty_audience"
    subscribers.opt_out(redis, TEST_KEYRING, "+254711000099")
    before = _keys(redis)
    r = _post(client, key_a, {"message": {"en": "x"}, "audience": {"phones": ["+254711000099"]}})
    assert r.status_code == 422 and r.json["error"]["code"] == "empty_audience"
    assert _keys(redis) == before
    assert client.get("/api/v1/broadcasts", headers=key_a).json["total"] == 0


def test_send_at_a_little_in_the_past_is_a_clock_skew_not_a_mistake(client, key_a, kenyans):
    r = _post(client, key_a, {**KE, "send_at": (datetime.now(UTC) - timedelta(minutes=4)).isoformat()})
    assert r.status_code == 202 and r.json["status"] == "sending"


def test_estimate_answers_what_a_broadcast_would_and_stores_nothing(client, redis, key_a, kenyans):
    before = _keys(redis)
    r = _post(client, key_a, {"message": {"en": "a" * 200}, "audience": {"countries": ["KE", "UG"]}},
              "/api/v1/broadcasts/estimate")
    assert r.status_code == 200, r.json
    assert set(r.json) == {"recipients", "recipients_exact", "estimate", "cost", "voice"}
    assert r.json["recipients"] == 4 and r.json["estimate"]["en"]["encoding"] == "GSM-7"
    assert r.json["cost"]["amount"] > 0
    assert _keys(redis) == before
    assert client.get("/api/v1/broadcasts", headers=key_a).json["total"] == 0
    sent = _post(client, key_a, {"message": {"en": "a" * 200}, "audience": {"countries": ["KE", "UG"]}}).json
    assert (sent["recipients"], sent["estimate"], sent["cost"]) == (
        r.json["recipients"], r.json["estimate"], r.json["cost"])


def test_cancel_of_a_finished_broadcast_is_409(client, key_a, kenyans, drain):
    first = _post(client, key_a, KE).json["id"]
    drain()
    assert client.get(f"/api/v1/broadcasts/{first}", headers=key_a).json["status"] == "done"
    r = client.post(f"/api/v1/broadcasts/{first}/cancel", headers=key_a)
    assert r.status_code == 409 and r.json["error"]["code"] == "conflict"
    later = _post(client, key_a, {**KE, "send_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}).json["id"]
    assert client.post(f"/api/v1/broadcasts/{later}/cancel", headers=key_a).json["status"] == "cancelled"
    assert client.post(f"/api/v1/broadcasts/{later}/cancel", headers=key_a).status_code == 409


@pytest.mark.parametrize(("raw", "status", "field"), [
    ("[" * 100_000 + "]" * 100_000, 400, None),
    ('{"message": {"en": "x"}, "audience": {"countries": ["KE"]}, "z": ' + "[" * 32 + "]" * 32 + "}", 400, None),
    ('{"message": {"en": "\\ud800"}, "audience": {"countries": ["KE"]}}', 422, "message.en"),
    ('{"message": {"en": "x"}, "audience": {"phones": ["+2547110000\\udc00"]}}', 422, "audience.phones[0]"),
    (b'{"message": {"en": "\xff"}, "audience": {"countries": ["KE"]}}', 400, None),
    ('{"message": {"en": "x"}, "audience": {"countries": ["KE"]}, "n": 1' + "0" * 5000 + "}", 400, None),
])
def test_no_body_gives_a_5xx_or_leaves_numbers_behind(client, redis, key_a, kenyans, raw, status, field):
    before = _keys(redis)
    r = _post(client, key_a, raw)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert r.json["error"].get("field") == field
    assert _keys(redis) == before


def test_nesting_of_32_is_read(client, key_a, kenyans):
    nested = "[" * 31 + "]" * 31  # 32 levels with the body object
    r = _post(client, key_a, '{"message": {"en": "x"}, "audience": {"countries": ["KE"]}, "z": ' + nested + "}")
    assert r.status_code == 422 and r.json["error"]["field"] == "z"  # read, then refused as an unknown field


def test_subscriber_rows_are_strict_too(client, key_a):
    r = _post(client, key_a, {"subscribers": [{"phone": "+254711000010", "language": "en", "phon": "x"}]},
              "/api/v1/subscribers")
    assert r.status_code == 422 and r.json["error"]["field"] == "subscribers[0].phon"
    r = _post(client, key_a, {"subscribers": [{"phone": 254711000010, "language": "en"}]}, "/api/v1/subscribers")
    assert r.status_code == 422 and r.json["error"]["field"] == "subscribers[0].phone"
    r = _post(client, key_a, {"subscribers": [], "dry_run": True}, "/api/v1/subscribers")
    assert r.status_code == 422 and r.json["error"]["field"] == "dry_run"


def test_a_query_parameter_not_understood_is_422(client, key_a):
    r = client.get("/api/v1/broadcasts?limit=5&status=done", headers=key_a)
    assert r.status_code == 422 and r.json["error"]["field"] == "status"
    r = client.get("/api/v1/subscribers/count?country=KE&countries=UG", headers=key_a)
    assert r.status_code == 422 and r.json["error"]["field"] == "countries"
    assert client.get("/api/v1/broadcasts?status=done").status_code == 401  # a stranger learns nothing
