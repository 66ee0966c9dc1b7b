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


def test_a_language_we_do_not_send_in_is_rejected_per_row(client, redis, key_a):
    """``zz`` (or any code no catalog has) was imported: a subscriber nobody could ever send to in their language
    (found by the black-box check). The row is rejected, naming the language; the others are imported."""
    rows = [{"phone": "0711000011", "country": "KE", "language": "zz"},
            {"phone": "0711000012", "country": "KE", "language": "tl"},
            {"phone": "0711000013", "country": "KE", "language": "de"}]
    r = client.post("/api/v1/subscribers", json={"subscribers": rows}, headers=key_a)
    assert r.status_code == 200 and r.json["imported"] == 1
    reasons = {x["index"]: x["reason"] for x in r.json["rejected"]}
    assert set(reasons) == {0, 2} and all("language" in reason for reason in reasons.values()), reasons
    assert subscribers.get(redis, TEST_KEYRING, "+254711000011") is None
    assert subscribers.get(redis, TEST_KEYRING, "+254711000012").language == "tl"
