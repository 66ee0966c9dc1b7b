"""Every Redis key a broadcast leaves behind expires (record, resolved audience, indexes, ledger, batches), and
idempotency keys are claimed briefly and keep their answer for a day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import jsonify

from gateway.api.auth import require_scope
from gateway.api.idempotency import CLAIM_TTL_S, IDEMPOTENCY_TTL_S, idempotent
from outbox import keys
from outbox.config import BROADCAST_TTL_S


def _subs(n, *, language="sw", topics=("weather",)):
    return [{"phone": f"07110{i:05d}", "country": "KE", "language": language, "topics": list(topics)}
            for i in range(n)]


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
