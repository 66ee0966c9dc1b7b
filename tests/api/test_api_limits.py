"""The agency API's limits: timestamps inside a sane range (422 otherwise, also for values stored before the
check), a request body of at most MAX_BODY_BYTES (413 as JSON, callbacks unaffected), and a Redis client of its
own that waits longer than the USSD path's."""

from __future__ import annotations

import pytest

from gateway.api import EXTENSION, MAX_BODY_BYTES
from outbox import keys


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


def test_oversized_body_is_413_json_and_callbacks_still_work(client, key_a):
    r = client.post("/api/v1/subscribers", data=b"[" + b" " * (MAX_BODY_BYTES + 10) + b"]", headers={
        **key_a, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"
    assert client.post("/sms/optout", data={"phoneNumber": "+254711000005"}).status_code == 200
    assert client.post("/sms/delivery", data={"id": "x", "status": "Success"}).status_code == 200
