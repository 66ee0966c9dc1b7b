"""The registers agencies keep, through the real app (issue #11 items 2, 3, 5; CONTRACT §6): recruiters and
flagged numbers imported, read and deleted under scope ``registry``, and ``CHECK <licence>`` / ``CHECK <phone>``
by SMS answering from them, never naming who flagged a number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from handlers.genuine import answers
from outbox.apikeys import create_key
from tests.privacy import dump, leaks, number_forms

from .test_refs import CHECKER, _sms

RECRUITERS = "/api/v1/registry/recruiters"
FLAGGED = "/api/v1/registry/flagged-numbers"
NEXT_YEAR = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()


def _recruiters(client, headers, *rows):
    return client.post(RECRUITERS, headers=headers, json={"recruiters": list(rows)})


def test_import_recruiters_rejects_rows_alone_and_keeps_who_and_when(client, key_a):
    r = _recruiters(client, key_a,
                    {"licence": "RA-2019/123", "name": "Nairobi Jobs Ltd", "country": "KE", "valid_until": NEXT_YEAR},
                    {"licence": "X1", "name": "Bad Country", "country": "Kenya", "valid_until": NEXT_YEAR},
                    {"licence": "X2", "name": "Bad Date", "country": "KE", "valid_until": "next year"})
    assert r.status_code == 200, r.json
    assert r.json["imported"] == 1
    assert [(x["index"], "country" in x["reason"] or "valid_until" in x["reason"]) for x in r.json["rejected"]] == [
        (1, True), (2, True)]
    one = client.get(f"{RECRUITERS}/ra 2019 123", headers=key_a).json  # compared in capitals, letters and digits
    assert one["added_by"] == "agency-a" and one["licence"] == "RA-2019/123" and one["valid_until"] == NEXT_YEAR
    assert datetime.fromisoformat(one["added_at"]) > datetime.now(UTC) - timedelta(minutes=1)


def test_bodies_are_strict_and_the_scope_is_needed(client, redis, key_a):
    r = _recruiters(client, key_a, {"licence": "A", "name": "B", "country": "KE", "valid_until": NEXT_YEAR,
                                    "licenced": True})
    assert r.status_code == 422 and "licenced" in r.json["error"]["message"]
    assert client.post(FLAGGED, headers=key_a, json={"phones": []}).status_code == 422
    assert client.post(FLAGGED, headers=key_a, json={"numbers": [{"phone": 254711}]}).status_code == 422
    key, _ = create_key(redis, "agency-c", scopes=["broadcasts"])
    assert _recruiters(client, {"Authorization": f"Bearer {key}"}).status_code == 403


def test_another_agency_can_neither_overwrite_nor_delete(client, key_a, key_b):
    row = {"licence": "RA-1", "name": "Real Name", "country": "KE", "valid_until": NEXT_YEAR}
    _recruiters(client, key_a, row)
    r = _recruiters(client, key_b, {**row, "name": "Fake Name"})
    assert r.json["imported"] == 0 and "another agency" in r.json["rejected"][0]["reason"]
    assert client.delete(f"{RECRUITERS}/RA-1", headers=key_b).status_code == 404
    assert client.get(f"{RECRUITERS}/RA-1", headers=key_a).json["name"] == "Real Name"


def test_check_a_licence_by_sms(client, key_a, drain, at_server):
    _recruiters(client, key_a,
                {"licence": "RA-2019/123", "name": "Nairobi Jobs Ltd", "country": "KE", "valid_until": NEXT_YEAR},
                {"licence": "OLD-7", "name": "Gulf Staffing", "country": "QA", "valid_until": "2020-01-31"})
    _sms(client, "CHECK ra-2019/123", id="1")
    _sms(client, "Vérifier OLD-7", id="2", sender="+254711000098")
    _sms(client, "check FAKE-42", id="3", sender="+254711000097")
    drain()
    assert at_server.messages_to(CHECKER) == [
        f"Licensed: RA-2019/123 is Nairobi Jobs Ltd, Kenya, valid until {NEXT_YEAR}."]
    assert at_server.messages_to("+254711000098") == [
        "Plus agréé : la licence OLD-7 de Gulf Staffing, Qatar, a expiré le 2020-01-31."]
    assert at_server.messages_to("+254711000097")[0].startswith(
        "FAKE-42 is not one of ours (no message of ours has this ref) and not on the register of licensed")
    assert client.delete(f"{RECRUITERS}/RA-2019-123", headers=key_a).status_code == 200
    _sms(client, "CHECK RA-2019/123", id="4", sender="+254711000096")
    drain()
    assert "not on the register of licensed recruiters" in at_server.messages_to("+254711000096")[0]


def test_flagged_numbers_in_any_format_never_say_who(client, redis, key_a, key_b, drain, at_server):
    # agency-a's key names Kenya only, so a Kenyan national format is read as Kenyan
    r = client.post(FLAGGED, headers=key_a, json={"numbers": [
        {"phone": "0711 000 050", "reason": "Fake visa agent"}, {"phone": "not a number", "reason": "x"},
        {"phone": "+254711000051", "reason": "  "}]})
    assert r.status_code == 200 and r.json["imported"] == 1
    assert [x["index"] for x in r.json["rejected"]] == [1, 2]
    client.post(FLAGGED, headers=key_b, json={"numbers": [{"phone": "+254 711 000 050", "reason": "Asked for fees"}]})
    assert client.get(f"{FLAGGED}/+254711000050", headers=key_a).json["added_by"] == "agency-a"
    _sms(client, "CHECK +254-711-000-050", id="1")
    _sms(client, "HAKIKI 0711000052", id="2", sender="+254711000098")  # national, read with the sender's country
    drain()
    [answer] = at_server.messages_to(CHECKER)
    assert answer.startswith("Warning: +254711000050 has been reported as suspicious. Reports: 2.")
    assert "Asked for fees" in answer and "Fake visa agent" in answer
    assert "agency" not in answer
    assert at_server.messages_to("+254711000098")[0].startswith("+254711000052 haijaripotiwa kwetu")
    assert not leaks(dump(redis), number_forms("+254711000050"))  # no number in Redis, in any format


def test_deleting_a_flag_by_phone(client, key_a, drain, at_server):
    client.post(FLAGGED, headers=key_a, json={"numbers": [{"phone": "+254711000050", "reason": "Fake visa agent"}]})
    assert client.delete(f"{FLAGGED}/0711000050", headers=key_a).status_code == 200
    assert client.delete(f"{FLAGGED}/0711000050", headers=key_a).status_code == 404
    assert client.delete(f"{FLAGGED}/junk", headers=key_a).status_code == 422
    _sms(client, "CHECK +254711000050")
    drain()
    assert "has not been reported" in at_server.messages_to(CHECKER)[0]



def test_csv_imports_answer_like_json(client, key_a, drain, at_server):
    csv_headers = {**key_a, "Content-Type": "text/csv"}
    body = ("licence,name,country,valid_until\r\n"
            f"RA-9,\"Kampala Jobs, Ltd\",UG,{NEXT_YEAR}\r\n"
            "RA-10,No Date,UG,\r\n")
    r = client.post(RECRUITERS, headers=csv_headers, data=body.encode())
    assert r.status_code == 200 and r.json["imported"] == 1 and r.json["rejected"][0]["index"] == 1
    assert client.get(f"{RECRUITERS}/RA-9", headers=key_a).json["name"] == "Kampala Jobs, Ltd"
    r = client.post(FLAGGED, headers=csv_headers, data="reason,phone\nFake recruiter,+254711000050\n")
    assert r.json == {"imported": 1, "rejected": []}
    bad = client.post(FLAGGED, headers=csv_headers, data="phone,reason,who\n+254711000050,x,me\n")
    assert bad.status_code == 422 and "who" in bad.json["error"]["message"]
    assert client.post(FLAGGED, headers=csv_headers, data=b"phone,reason\n\xff\xfe,x\n").status_code == 400
    _sms(client, "CHECK +254711000050")
    drain()
    assert "Fake recruiter" in at_server.messages_to(CHECKER)[0]


@pytest.mark.parametrize(("typed", "region", "e164"), [
    ("+974 5555 1234", "KE", "+97455551234"), ("00974 5555 1234", "KE", "+97455551234"),
    ("974 5555 1234", "KE", "+97455551234"), ("0711 000 050", "KE", "+254711000050"),
    ("+254 (0)711-000-050", "QA", "+254711000050"), ("5555 1234", "QA", "+97455551234"),
    ("12345678", "KE", None), ("RA-77", "KE", None),
    # A licence with eight digits read as a Nairobi landline: CHECK of an unregistered licence answered about
    # "+25420240173" instead of "not on the register" (found by the black-box probe).
    ("RA/2024/0173", "KE", None), ("RA 2024 0173", "KE", None)])
def test_numbers_are_read_in_any_format_a_caller_types(typed, region, e164):
    assert answers.as_number(typed, region) == e164
