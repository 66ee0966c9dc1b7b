"""CAP alerts that must reach no one (scope Restricted or Private), a Cancel whose references include an expired
broadcast, and CAP dates out of range (422)."""

from __future__ import annotations

from outbox import keys
from tests.api.test_cap_alerts import CAP, XML, _alert, _info


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
