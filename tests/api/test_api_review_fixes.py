"""Regressions from the review of the agency API and the SMS callbacks: timestamps out of range, the API's own
Redis client, key lifetimes, idempotency claims, the body limit, imports without topics, CAP scope and stale
references, inbound keywords and the confirmation counter's pseudonym."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from flask import jsonify
from rq import Queue

from gateway.api import EXTENSION, MAX_BODY_BYTES
from gateway.api.auth import require_scope
from gateway.api.idempotency import CLAIM_TTL_S, IDEMPOTENCY_TTL_S, idempotent
from outbox import keys, subscribers
from outbox.config import BROADCAST_TTL_S
from tests.api.test_cap_alerts import CAP, XML, _alert, _info
from tests.conftest import TEST_KEYRING


def _subs(n, *, language="sw", topics=("weather",)):
    return [{"phone": f"07110{i:05d}", "country": "KE", "language": language, "topics": list(topics)}
            for i in range(n)]


@pytest.mark.parametrize("field, value", [
    ("send_at", "0001-01-01T00:00:00+14:00"),
    ("expires_at", "9999-12-31T23:59:59-14:00"),
    ("send_at", "1999-12-31T23:00:00+00:00"),
    ("expires_at", "2101-01-01T00:00:00+00:00"),
])
def test_timestamps_out_of_range_are_422_and_create_nothing(client, redis, key_a, field, value):
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": "x"}, "audience": {"phones": ["+254711000001"]}, field: value})
    assert r.status_code == 422 and r.json["error"]["field"] == field, r.json
    listed = client.get("/api/v1/broadcasts", headers=key_a)
    assert listed.status_code == 200 and listed.json["total"] == 0


def test_a_stored_unreadable_timestamp_does_not_break_the_list(client, redis, key_a):
    r = client.post("/api/v1/broadcasts", headers=key_a, json={"message": {"en": "x"}, "audience": {"phones": [
        "+254711000001"]}})
    redis.hset(keys.broadcast(r.json["id"]), "send_at", "1e20")  # as written before the range check
    listed = client.get("/api/v1/broadcasts", headers=key_a)
    assert listed.status_code == 200 and listed.json["broadcasts"][0]["send_at"] is None


def test_the_api_has_its_own_patient_redis_client(app):
    api_redis = app.extensions[EXTENSION]
    assert api_redis is not app.extensions["gateway"].redis
    assert api_redis.connection_pool.connection_kwargs["socket_timeout"] >= 10
    assert app.extensions["gateway"].redis.connection_pool.connection_kwargs["socket_timeout"] < 1


def test_every_key_of_a_broadcast_expires(client, redis, key_a, drain):
    assert client.post("/api/v1/subscribers", json={"subscribers": _subs(3)}, headers=key_a).json["imported"] == 3
    send_at = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"sw": "x"}, "audience": {"countries": ["KE"]}, "send_at": send_at})
    bid = r.json["id"]
    record_ttl = redis.ttl(keys.broadcast(bid))
    assert BROADCAST_TTL_S + 86000 < record_ttl <= BROADCAST_TTL_S + 86400  # 90 days after it is due
    resolved = redis.ttl(keys.resolved(bid, "sw"))
    assert resolved > BROADCAST_TTL_S  # as long as the record, once recorded
    agency_index = next(iter(redis.scan_iter("agency:*:broadcasts")))
    assert redis.ttl(agency_index) >= record_ttl - 5
    assert redis.ttl(keys.country_alerts("KE")) >= record_ttl - 5
    drain()  # the fan-out: batches and their ledger, not sent before send_at
    assert 0 < redis.ttl(keys.ledger(bid)) <= record_ttl
    assert 0 < redis.ttl(keys.batch(bid, 0)) <= record_ttl
    client.post(f"/api/v1/broadcasts/{bid}/cancel", headers=key_a)
    assert not redis.exists(keys.resolved(bid, "sw")) and not redis.exists(keys.fanout_stage(bid))
    no_ttl = [k for k in redis.scan_iter("*") if redis.ttl(k) == -1 and not k.startswith((b"rq:", b"{aud}:"))
              and not k.startswith(b"apikey") and k != keys.active_broadcasts().encode()]
    assert no_ttl == []


def test_idempotency_claims_briefly_and_keeps_answers_a_day(app, client, redis, key_a):
    seen = {}

    @require_scope("broadcasts")
    @idempotent
    def probe():
        idem = next(iter(redis.scan_iter("idem:*")))
        seen["claim_ttl"] = redis.ttl(idem)
        return jsonify(ok=True), 201

    app.add_url_rule("/api/v1/probe", "probe", probe, methods=["POST"])
    r = client.post("/api/v1/probe", json={}, headers={**key_a, "Idempotency-Key": "k1"})
    assert r.status_code == 201
    assert 0 < seen["claim_ttl"] <= CLAIM_TTL_S <= 120
    assert redis.ttl(next(iter(redis.scan_iter("idem:*")))) > IDEMPOTENCY_TTL_S - 60


def test_oversized_body_is_413_json_and_callbacks_still_work(client, key_a):
    r = client.post("/api/v1/subscribers", data=b"[" + b" " * (MAX_BODY_BYTES + 10) + b"]", headers={
        **key_a, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    assert client.post("/sms/optout", data={"phoneNumber": "+254711000005"}).status_code == 200
    assert client.post("/sms/delivery", data={"id": "x", "status": "Success"}).status_code == 200


def test_import_without_topics_subscribes_to_all_and_reasons_name_the_fault(client, redis, key_a):
    rows = [{"phone": "0711000009", "country": "KE", "language": "sw"}, {"phone": "12", "country": "KE"},
            {"phone": "0711000010", "country": "XX", "language": "sw"}]
    r = client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=key_a)
    assert r.json["imported"] == 1
    assert subscribers.get(redis, TEST_KEYRING, "+254711000009").topics == set(subscribers.TOPICS)
    reasons = {x["index"]: x["reason"] for x in r.json["rejected"]}
    assert "number" in reasons[1].lower() and "topics" not in reasons[1]
    assert "country" in reasons[2].lower()


def _cap_subscribers(client, key_a):
    rows = [{"phone": "0711000001", "country": "KE", "language": "en", "topics": ["weather"]}]
    assert client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=key_a).json["imported"] == 1


def test_cap_restricted_and_private_reach_no_one(client, redis, key_a):
    _cap_subscribers(client, key_a)
    for scope in ("Restricted", "Private"):
        body = _alert(f"r-{scope}", infos=_info("en-US", "Flood")).replace(b"<scope>Public</scope>",
                                                                           f"<scope>{scope}</scope>".encode())
        r = client.post(CAP, data=body, headers={**key_a, **XML})
        assert r.status_code == 202 and r.json["broadcasts"] == []
    assert client.get("/api/v1/broadcasts", headers=key_a).json["total"] == 0


def test_cap_cancel_skips_broadcasts_that_expired(client, redis, key_a):
    _cap_subscribers(client, key_a)
    first = client.post(CAP, data=_alert("a-1", infos=_info("en-US", "One")), headers={**key_a, **XML}).json
    second = client.post(CAP, data=_alert("a-2", infos=_info("en-US", "Two")), headers={**key_a, **XML}).json
    redis.delete(keys.broadcast(first["broadcasts"][0]))  # its record's lifetime is over
    refs = "met@example.org,a-1,2026-01-01T10:00:00+03:00 met@example.org,a-2,2026-01-01T10:00:00+03:00"
    r = client.post(CAP, data=_alert("c-1", msg_type="Cancel", references=refs), headers={**key_a, **XML})
    assert r.status_code == 202 and r.json["broadcasts"] == second["broadcasts"]
    assert client.get(f"/api/v1/broadcasts/{second['broadcasts'][0]}", headers=key_a).json["status"] == "cancelled"


def test_cap_dates_out_of_range_are_422(client, key_a):
    body = _alert("e-1", infos=_info("en-US", "Flood", expires="9999-12-31T23:59:59-14:00"))
    assert client.post(CAP, data=body, headers={**key_a, **XML}).status_code == 422


def _inbound(client, text, *, sender="+254711000001", id="in-1"):
    return client.post("/sms/inbound", data={"from": sender, "to": "1", "text": text, "id": id})


def test_inbound_keywords_with_punctuation_and_everyday_words(client, redis):
    for i, text in enumerate(["stop.", "Stop!", "END", "«ARRET»."]):
        phone = f"+25471100020{i}"
        _inbound(client, text, sender=phone, id=f"p{i}")
        assert subscribers.is_opted_out(redis, TEST_KEYRING, phone), text
    for i, text in enumerate(["End of shift today", "Yes I am here", "Oo po", "Cancel my order please"]):
        phone = f"+25471100030{i}"
        _inbound(client, text, sender=phone, id=f"q{i}")
        assert not subscribers.is_opted_out(redis, TEST_KEYRING, phone) and subscribers.get(redis, TEST_KEYRING,
                                                                                            phone) is None, text


def test_join_checks_country_and_language(client, redis):
    _inbound(client, "JOIN PO xx", id="j1")
    # neither "PO" nor its own country: a country it cannot read is asked again, nothing subscribed (CONTRACT §2)
    assert subscribers.get(redis, TEST_KEYRING, "+254711000001") is None
    _inbound(client, "JOIN UGA fr", id="j2", sender="+254711000002")
    sub = subscribers.get(redis, TEST_KEYRING, "+254711000002")
    assert sub.countries == {"UG"} and sub.language == "fr"


def test_confirmation_counter_is_keyed_not_a_plain_hash(client, redis):
    _inbound(client, "STOP", id="k1")
    assert len(Queue("normal", connection=redis)) == 1
    plain = hashlib.sha256(b"+254711000001").hexdigest()[:32]
    counters = [k.decode() for k in redis.scan_iter("sms:single:*") if not k.startswith(b"sms:single:all:")]
    assert len(counters) == 1 and plain not in counters[0]
    assert TEST_KEYRING.pseudonym("+254711000001") in counters[0]
    assert json.loads(redis.get(counters[0])) == 1
