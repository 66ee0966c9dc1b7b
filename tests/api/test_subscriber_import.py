"""``POST /api/v1/subscribers``: a row without topics subscribes to every topic; a rejected row's reason names
the field at fault."""

from __future__ import annotations

from outbox import subscribers
from tests.conftest import TEST_KEYRING


def test_import_without_topics_subscribes_to_all_and_reasons_name_the_fault(client, redis, key_a):
    rows = [{"phone": "0711000009", "country": "KE", "language": "sw"}, {"phone": "12", "country": "KE"},
            {"phone": "0711000010", "country": "XX", "language": "sw"}]
    r = client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=key_a)
    assert r.json["imported"] == 1
    assert subscribers.get(redis, TEST_KEYRING, "+254711000009").topics == set(subscribers.TOPICS)
    reasons = {x["index"]: x["reason"] for x in r.json["rejected"]}
    assert "number" in reasons[1].lower() and "topics" not in reasons[1]
    assert "country" in reasons[2].lower()
