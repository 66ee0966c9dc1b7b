"""The agency API of CONTRACT §3 through the Flask test client, with jobs run in-process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from outbox import refs
from outbox.apikeys import create_key


def _subs(n, *, country="KE", language="sw", start=0, topics=("weather",)):
    return [{"phone": f"07110{i:05d}", "country": country, "language": language, "topics": list(topics)}
            for i in range(start, start + n)]


def test_import_and_count(client, key_a):
    rows = _subs(3) + [{"phone": "12", "country": "KE", "language": "sw"}, {"phone": "+254711000009"},
                       {"phone": "+447911123456", "country": "GB", "language": "en", "topics": ["bogus"]}]
    r = client.post("/api/v1/subscribers", json={"subscribers": [*rows, "junk"]}, headers=key_a)
    assert r.status_code == 422 and r.json["error"]["field"] == "subscribers[6]"  # a wrong shape: the program is wrong
    r = client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=key_a)
    assert r.status_code == 200
    assert r.json["imported"] == 3
    assert [x["index"] for x in r.json["rejected"]] == [3, 4, 5]
    assert client.get("/api/v1/subscribers/count?country=KE&language=sw&topic=weather", headers=key_a).json == {
        "count": 3}
    assert client.get("/api/v1/subscribers/count?topic=health", headers=key_a).json == {"count": 0}
    r = client.get("/api/v1/subscribers/count?topic=nope", headers=key_a)
    assert r.status_code == 400 and r.json["error"]["field"] == "topic"


def test_broadcast_end_to_end(client, key_a, drain, at_server):
    client.post("/api/v1/subscribers", json={"subscribers": _subs(60) + _subs(7, language="en", start=100)},
                headers=key_a)
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": "Flood warning: move to high ground", "sw": "Onyo la mafuriko"},
        "audience": {"countries": ["KE"]}, "priority": "normal"})
    assert r.status_code == 202, r.json
    body = r.json
    assert body["recipients"] == 67 and body["status"] == "sending"
    assert body["estimate"]["sw"]["encoding"] == "GSM-7" and body["estimate"]["sw"]["segments"] == 1
    drain()
    got = client.get(f"/api/v1/broadcasts/{body['id']}", headers=key_a).json
    assert got["status"] == "done"
    assert got["counts"]["sent"] == 67 and got["counts"]["queued"] == 0
    ref = body["ref"]
    assert at_server.messages_to("+254711000000") == [f"Onyo la mafuriko\nagency-a, kumb. {ref}. Kusitisha, jibu ACHA"]
    assert at_server.messages_to("+254711000100") == [
        f"Flood warning: move to high ground\nagency-a, ref {ref}. Reply STOP to stop"]
    for mid in list(at_server.message_ids())[:5]:
        assert client.post("/sms/delivery", data={"id": mid, "status": "Success", "phoneNumber": "x"}).status_code \
            == 200
    assert client.get(f"/api/v1/broadcasts/{body['id']}", headers=key_a).json["counts"]["delivered"] == 5


def test_auth_scopes_and_agency_isolation(client, redis, key_a, key_b):
    assert client.get("/api/v1/broadcasts").status_code == 401
    assert client.get("/api/v1/broadcasts", headers={"Authorization": "Bearer nope"}).json["error"]["code"] \
        == "unauthorized"
    key, _ = create_key(redis, "agency-c", ["subscribers"])
    assert client.get("/api/v1/broadcasts", headers={"Authorization": f"Bearer {key}"}).status_code == 403
    r = client.post("/api/v1/broadcasts", headers=key_a, json={"message": {"en": "x"}, "audience": {"phones": [
        "+254711000001"]}})
    assert r.status_code == 202
    bid = r.json["id"]
    assert client.get(f"/api/v1/broadcasts/{bid}", headers=key_b).status_code == 404
    assert client.post(f"/api/v1/broadcasts/{bid}/cancel", headers=key_b).status_code == 404
    assert client.get(f"/api/v1/broadcasts/{bid}", headers=key_a).json["status"] != "cancelled"
    assert client.get("/api/v1/broadcasts", headers=key_b).json["broadcasts"] == []


def test_idempotency(client, key_a):
    body = {"message": {"en": "x"}, "audience": {"phones": ["+254711000001"]}}
    first = client.post("/api/v1/broadcasts", json=body, headers={**key_a, "Idempotency-Key": "k1"})
    again = client.post("/api/v1/broadcasts", json=body, headers={**key_a, "Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 202 and first.json["id"] == again.json["id"]
    other = client.post("/api/v1/broadcasts", json={**body, "priority": "emergency"},
                        headers={**key_a, "Idempotency-Key": "k1"})
    assert other.status_code == 409
    listed = client.get("/api/v1/broadcasts", headers=key_a).json
    assert listed["total"] == 1


def test_validation_errors_name_the_field(client, key_a):
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    cases = [
        ({"message": {"en": "x"}, "audience": {"countries": ["KE"]}, "expires_at": past}, 422, "expires_at"),
        ({"message": {"en": "x"}, "audience": {"countries": ["KE"]}, "priority": "high"}, 422, "priority"),
        ({"message": {}, "audience": {"countries": ["KE"]}}, 422, "message"),
        ({"message": {"en": "x"}, "audience": {"countries": ["Kenya"]}}, 422, "audience.countries[0]"),
        ({"message": {"en": "x"}, "audience": {"phones": ["+254711000001", "123"]}}, 422, "audience.phones[1]"),
        ({"message": {"en": "x"}, "audience": {"countries": ["KE"]}, "send_at": "tomorrow"}, 422, "send_at"),
        ({"message": {"en": "x"}, "audience": {"countries": ["KE"]}, "send_at": "2030-01-01T00:00:00"}, 422,
         "send_at"),
    ]
    for body, status, field in cases:
        r = client.post("/api/v1/broadcasts", json=body, headers=key_a)
        assert r.status_code == status, (body, r.json)
        assert r.json["error"]["field"] == field
    r = client.post("/api/v1/broadcasts", data="not json", headers={**key_a, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json["error"]["code"] == "invalid_json"
    assert client.get("/api/v1/broadcasts/../../x", headers=key_a).status_code == 404
    assert client.get("/api/v1/broadcasts/zzz", headers=key_a).json["error"]["code"] == "not_found"
    assert client.get("/api/v1/broadcasts?limit=0", headers=key_a).status_code == 400
    assert client.delete("/api/v1/broadcasts", headers=key_a).json["error"]["code"] == "method_not_allowed"


def test_list_newest_first_paginated(client, key_a):
    ids = [client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": f"m{i}"}, "audience": {"phones": ["+254711000001"]}}).json["id"] for i in range(3)]
    page = client.get("/api/v1/broadcasts?limit=2", headers=key_a).json
    assert [b["id"] for b in page["broadcasts"]] == ids[::-1][:2] and page["next_offset"] == 2
    page = client.get("/api/v1/broadcasts?limit=2&offset=2", headers=key_a).json
    assert [b["id"] for b in page["broadcasts"]] == ids[:1] and page["next_offset"] is None


def test_encoding_estimates(client, key_a):
    """Segments of exactly what the phone receives: the text and the footer (an emergency's: agency and ref)."""
    footer = len("\nagency-a, ref ") + refs.REF_LENGTH
    room = 160 - footer

    def estimate(text, **extra):
        r = client.post("/api/v1/broadcasts", headers=key_a, json={
            "message": {"en": text}, "audience": {"phones": ["+254711000001"]}, "priority": "emergency", **extra})
        return r.json["estimate"]["en"]["encoding"], r.json["estimate"]["en"]["segments"]

    assert estimate("a" * room) == ("GSM-7", 1)
    assert estimate("a" * (room + 1)) == ("GSM-7", 2)
    assert estimate("€" * (room // 2)) == ("GSM-7", 1)
    assert estimate("€" * (room // 2 + 1)) == ("GSM-7", 2)
    assert estimate("ê" * (70 - footer)) == ("UCS-2", 1)
    assert estimate("ê" * (70 - footer + 1)) == ("UCS-2", 2)
    assert estimate("ê" * (room // 2 * 2), replace_lookalikes=True) == ("GSM-7", 1)
    assert estimate("Ça va ‘bien’") == ("UCS-2", 1)
    assert estimate("Ça va ‘bien’", replace_lookalikes=True) == ("GSM-7", 1)


def test_redis_down_is_a_503_in_json(settings):
    from dataclasses import replace

    from gateway.app import create_app

    app = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    r = app.test_client().get("/api/v1/broadcasts", headers={"Authorization": "Bearer x"})
    assert r.status_code == 503 and r.json["error"]["code"] == "unavailable"
