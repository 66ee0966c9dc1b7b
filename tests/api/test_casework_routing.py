"""Casework routed by country (CONTRACT §3): an agency sees the reports and tickets of callers whose host or home
country its key names, any other case is 404; ``PATCH`` moves a case along its workflow and keeps who did it; a
query parameter not understood is 422; session ids cannot collide with other keys."""

from __future__ import annotations

from datetime import datetime

import pytest

from handlers import casework
from handlers.keys import report_category_key
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING
from tests.flows.conftest import handset


def _auth(redis, countries, agency="agency"):
    key, _ = create_key(redis, agency, ["reports"], countries=countries)
    return {"Authorization": f"Bearer {key}"}


def _report(client, where):
    body = handset(client, where).send("4", "2", "2", "1")  # wages, no details, no SMS
    return body.split("R-")[1][:6].join(["R-", ""])


@pytest.fixture
def cases(client):
    """A report from Kenya (a Kenyan at home), one from a Kenyan roaming in the UAE, one from the Philippines."""
    return {where: _report(client, where) for where in ("KE", "AE", "PH")}


def _refs(client, headers, kind="reports"):
    r = client.get(f"/api/v1/{kind}", headers=headers)
    assert r.status_code == 200, r.json
    return {item["ref"] for item in r.json["items"]}


def test_an_agency_sees_only_the_cases_of_its_countries(client, redis, cases):
    kenya, uae, philippines = _auth(redis, ["KE"]), _auth(redis, ["AE"]), _auth(redis, ["PH"])
    assert _refs(client, kenya) == {cases["KE"], cases["AE"]}  # home country Kenya, wherever they are
    assert _refs(client, uae) == {cases["AE"]}  # host country
    assert _refs(client, philippines) == {cases["PH"]}
    assert _refs(client, _auth(redis, [])) == set()  # a key without --countries handles no casework
    assert client.get(f"/api/v1/reports/{cases['PH']}", headers=kenya).status_code == 404
    assert client.get(f"/api/v1/reports/{cases['KE']}", headers=kenya).status_code == 200
    r = client.patch(f"/api/v1/reports/{cases['PH']}", headers=kenya, json={"status": "closed"})
    assert r.status_code == 404
    assert casework.get(redis, casework.REPORT, cases["PH"], keyring=TEST_KEYRING).status == "open"


def test_tickets_are_routed_too(client, redis):
    body = handset(client, "PH").send("1", "5", "4")
    ref = body.split("Ref ")[1].split(".")[0]
    assert client.get(f"/api/v1/tickets/{ref}", headers=_auth(redis, ["KE"])).status_code == 404
    one = client.get(f"/api/v1/tickets/{ref}", headers=_auth(redis, ["PH"])).json
    assert one["phone"] == "+639171234567" and one["status"] == "open"


def test_status_workflow_with_notes_and_history(client, redis, cases):
    headers = _auth(redis, ["KE"], agency="IOM Kenya")
    url = f"/api/v1/reports/{cases['KE']}"
    r = client.patch(url, headers=headers, json={"status": "in_progress", "note": "Called the employer"})
    assert r.status_code == 200 and r.json["status"] == "in_progress"
    # Timestamps are ISO-8601 with an offset (CONTRACT §3), updated_at too (it was epoch seconds as a string).
    for name in ("created_at", "updated_at"):
        assert datetime.fromisoformat(r.json[name]).utcoffset() is not None, r.json[name]
    r = client.patch(url, headers=headers, json={"note": "Wages paid on Friday"})
    assert r.status_code == 200 and r.json["status"] == "in_progress"
    assert client.patch(url, headers=headers, json={"status": "closed"}).json["status"] == "closed"
    refused = client.patch(url, headers=headers, json={"status": "in_progress"})
    assert refused.status_code == 409 and refused.json["error"]["code"] == "invalid_transition"
    assert client.patch(url, headers=headers, json={"status": "open"}).json["status"] == "open"  # reopened
    history = client.get(url, headers=headers).json["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        ("open", "in_progress"), ("in_progress", "in_progress"), ("in_progress", "closed"), ("closed", "open")]
    assert history[0]["note"] == "Called the employer" and history[0]["by"].startswith("IOM Kenya (API key k_")
    dump = b"".join(v for k in redis.scan_iter("case:*:history") for v in redis.lrange(k, 0, -1))
    assert b"employer" not in dump  # notes are encrypted at rest


@pytest.mark.parametrize(("body", "field"), [
    ({"status": "done"}, "status"), ({"status": "closed", "assignee": "x"}, "assignee"), ({}, None),
    ({"note": 5}, "note"), ({"note": ""}, "note"),
])
def test_patch_bodies_are_strict(client, redis, cases, body, field):
    r = client.patch(f"/api/v1/reports/{cases['KE']}", headers=_auth(redis, ["KE"]), json=body)
    assert r.status_code == 422 and r.json["error"].get("field") == field, r.json


def test_a_filter_not_understood_is_422(client, redis, cases):
    r = client.get("/api/v1/reports?category=abuse", headers=_auth(redis, ["KE"]))
    assert r.status_code == 422 and r.json["error"]["field"] == "category"


def test_session_ids_cannot_collide_with_other_keys(redis):
    # Session "zz" picks a category; a session named "zz:category" then files a report. With session ids pasted
    # into key names the second found the first's category under "its" key and took "abuse" as its reference.
    redis.set(report_category_key("zz"), "abuse", ex=60)
    ref = casework.upsert(redis, casework.REPORT, "zz:category", {"category": "wages", "home_country": "KE"},
                          ttl=60, keyring=TEST_KEYRING)
    case = casework.get(redis, casework.REPORT, ref, keyring=TEST_KEYRING)
    assert ref.startswith("R-") and case is not None and case.fields["category"] == "wages"
    assert redis.get(report_category_key("zz")) == b"abuse"
