"""Reporting: category, optional text, reference on screen, SMS only when chosen, retention, agency scope."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from redis import Redis
from werkzeug.test import TestResponse

from handlers import casework
from handlers.keys import case_session_key
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING
from tests.flows.conftest import handset
from tests.flows.helpers import queued_jobs, queued_sms


def _ref(body: str) -> str:
    return body.split("reference: ")[1].split(".")[0]


def test_anonymous_report_with_text_and_no_sms(client: FlaskClient, redis: Redis) -> None:
    phone = handset(client, "BD")
    assert "stay private" in phone.send("4")
    phone.send("2", "1")  # unpaid wages, write details
    sms_screen = phone.send("Factory in Dubai owes 3 months")
    assert "others may read it" in sms_screen  # the screen says why it asks
    body = phone.send("1")
    assert body.startswith("END Thank you. Your reference: R-")
    case = casework.get(redis, casework.REPORT, _ref(body), keyring=TEST_KEYRING)
    assert case is not None
    assert case.fields["category"] == "wages" and case.fields["text"] == "Factory in Dubai owes 3 months"
    assert case.fields["sms_confirmation"] == "no" and "phone" not in case.fields
    assert case.fields["phone_masked"] == "+8801*******78"
    assert 0 < redis.ttl(f"case:report:{case.ref}") <= 180 * 86400
    assert queued_jobs(redis) == []


def test_report_without_text_and_with_sms(client: FlaskClient, redis: Redis) -> None:
    phone = handset(client, "KE", lang_option="3")  # Swahili
    phone.send("4", "3", "2")  # trafficking, skip details
    body = phone.send("2")  # yes, an SMS
    assert body.startswith("END Asante.")
    ref = body.split(": ")[1].split(".")[0]
    phone.post()  # repeated request: one report, one SMS
    assert [c.ref for c in casework.newest(redis, casework.REPORT, keyring=TEST_KEYRING)] == [ref]
    case = casework.get(redis, casework.REPORT, ref, keyring=TEST_KEYRING)
    assert case is not None and "text" not in case.fields
    [(number, text)] = queued_sms(redis)
    assert number == phone.phone and ref in text and "Ujumbe" in text


def test_text_is_bounded(client: FlaskClient) -> None:
    phone = handset(client, "KE")
    phone.send("4", "1", "1")
    assert "2 to 140" in phone.send("x" * 141)


def test_reports_need_the_reports_scope(client: FlaskClient, redis: Redis) -> None:
    phone = handset(client, "KE")
    phone.send("4", "4", "2")
    ref = _ref(phone.send("1"))
    reader, _ = create_key(redis, "agency-a", ["reports"], countries=["KE"])
    other, _ = create_key(redis, "agency-b", ["broadcasts"])
    assert client.get("/api/v1/reports").status_code == 401
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    listing = client.get("/api/v1/reports", headers={"Authorization": f"Bearer {reader}"})
    assert listing.status_code == 200 and _json(listing)["items"][0]["ref"] == ref
    one = client.get(f"/api/v1/reports/{ref}", headers={"Authorization": f"Bearer {reader}"})
    assert one.status_code == 200 and _json(one)["category"] == "other"
    missing = client.get("/api/v1/reports/R-NOPE00", headers={"Authorization": f"Bearer {reader}"})
    assert missing.status_code == 404 and _json(missing)["error"]["code"] == "not_found"


def test_tickets_are_listed_newest_first(client: FlaskClient, redis: Redis) -> None:
    first = handset(client, "KE").send("1", "5", "1")
    second = handset(client, "PH").send("1", "5", "4")
    key, _ = create_key(redis, "agency-a", ["reports"], countries=["KE", "PH"])
    auth = {"Authorization": f"Bearer {key}"}
    items = _json(client.get("/api/v1/tickets", headers=auth))["items"]
    assert [i["ref"] for i in items] == [second.split("Ref ")[1].split(".")[0], first.split("Ref ")[1].split(".")[0]]
    assert all("phone" not in i for i in items)
    sessions = list(redis.scan_iter("case:callback:session:*"))
    assert len(sessions) == 2 and all(0 < redis.ttl(k) <= 600 for k in sessions)  # a session's life, not 180 days
    one = _json(client.get(f"/api/v1/tickets/{items[0]['ref']}", headers=auth))
    assert one["phone"] == "+639171234567" and one["topic"] == "health"


def _resume_points(redis: Redis) -> str:
    """Every caller's resume point, as one string to search."""
    return "\n".join(str(redis.get(key)) for key in redis.scan_iter("caller:*:resume"))


def test_no_report_detail_reaches_the_resume_point(client: FlaskClient, redis: Redis) -> None:
    """A redial may be someone else on that phone: no category, text or reference in the resume point at any
    step, and the category does not outlive the report in the session either."""
    phone = handset(client, "KE")
    steps = [("4",), ("3",), ("1",), ("Boss keeps my passport",), ("1",)]
    body = ""
    for step in steps:
        body = phone.send(*step)
        points = _resume_points(redis)
        assert not any(word in points for word in ("trafficking", "report_cat", "passport", "R-"))
    ref = _ref(body)
    assert ref not in _resume_points(redis)
    ref = client.application.extensions["gateway"].sessions.ref(phone.session_id)
    assert 0 < redis.ttl(case_session_key("report", ref)) <= 600


def test_category_left_behind_does_not_follow_the_caller(client: FlaskClient, redis: Redis) -> None:
    """A caller who picks a category and then leaves the report (home, back) to another menu: that menu's resume
    point must not carry the category along."""
    phone = handset(client, "KE")
    phone.send("4", "3")  # trafficking: the details screen
    phone.send("00", "3", "4")  # home, then alerts, latest alerts: a screen offered for resume
    points = _resume_points(redis)
    assert "alerts.latest" in points and "trafficking" not in points and "report" not in points
    phone.send("00", "4", "1", "0", "0", "3", "4")  # abuse, then back twice, and alerts again
    points = _resume_points(redis)
    assert "alerts.latest" in points and "abuse" not in points and "report" not in points


def _json(response: TestResponse) -> Any:
    """The JSON body of an API answer (the test client types it as possibly None)."""
    assert response.is_json, response.get_data(as_text=True)
    return response.get_json()
