"""Casework in the console: the cases of the agency's countries only, the workflow of handlers.casework, notes
kept encrypted, and a full number shown only on an explicit POST that the audit trail records."""

from __future__ import annotations

import re
import time

import pytest

from gateway.console import audit
from handlers import casework
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING
from tests.console.helpers import Console, make_user

DAY = 86400


def _case(redis, kind, session, host, home, phone="+254711000033", **fields):
    return casework.upsert(redis, kind, session, {"category" if kind == casework.REPORT else "topic": "wages"
                                                   if kind == casework.REPORT else "danger",
                                                   "language": "sw", "host_country": host, "home_country": home,
                                                   "phone_masked": "+2547******33", **fields},
                           ttl=DAY, keyring=TEST_KEYRING,
                           contact=phone if kind == casework.CALLBACK else None, contact_ttl=DAY)


@pytest.fixture
def cases(redis):
    create_key(redis, "Relief Org", ["broadcasts"], countries=["KE"])
    create_key(redis, "Gulf Aid", ["reports"], countries=["AE"])
    return {"ke": _case(redis, casework.REPORT, "s1", "KE", "KE", text="Boss kept my passport"),
            "ph": _case(redis, casework.REPORT, "s2", "PH", "PH"),
            "ticket": _case(redis, casework.CALLBACK, "s3", "AE", "KE")}


def test_a_caseworker_sees_only_the_cases_of_the_agencys_countries(redis, console, cases):
    make_user(redis, "cara@relief.org", role="caseworker")
    console.login("cara@relief.org")
    page = console.get("/console/casework/").get_data(as_text=True)
    assert cases["ke"] in page and cases["ph"] not in page and "+254711000033" not in page
    assert console.get(f"/console/casework/reports/{cases['ph']}").status_code == 404
    one = console.get(f"/console/casework/reports/{cases['ke']}").get_data(as_text=True)
    assert "Boss kept my passport" in one
    tickets = console.get("/console/casework/?kind=callbacks").get_data(as_text=True)
    assert cases["ticket"] in tickets and "+2547******33" in tickets and "+254711000033" not in tickets


def test_status_workflow_and_notes(redis, console, cases):
    make_user(redis, "cara@relief.org", role="caseworker")
    console.login("cara@relief.org")
    url = f"/console/casework/reports/{cases['ke']}"
    r = console.post(url, {"status": "in_progress", "note": "Called the employer"})
    assert r.status_code == 302
    assert casework.get(redis, casework.REPORT, cases["ke"], keyring=TEST_KEYRING).status == "in_progress"
    assert console.post(url, {"status": "closed"}).status_code == 302
    refused = console.post(url, {"status": "in_progress"})  # closed → in_progress is not a transition
    assert refused.status_code == 409
    assert console.post(url, {"status": "", "note": ""}).status_code == 422
    page = console.get(url).get_data(as_text=True)
    assert "Called the employer" in page and "cara@relief.org" in page
    entries = audit.recent(redis, "Relief Org")
    assert [(e.action, e.detail) for e in entries if e.action == "case.status"] == [
        ("case.status", "in_progress → closed"), ("case.status", "open → in_progress + note")]
    assert all("employer" not in e.detail for e in entries)  # the note stays with the case


def test_revealing_a_number_is_an_audited_post(redis, console, cases):
    make_user(redis, "cara@relief.org", role="caseworker")
    console.login("cara@relief.org")
    url = f"/console/casework/callbacks/{cases['ticket']}"
    assert "+254711000033" not in console.get(url).get_data(as_text=True)
    assert not [e for e in audit.recent(redis, "Relief Org") if e.action == "case.reveal"]
    shown = console.post(url + "/reveal", form_page=url)
    assert shown.status_code == 200 and "+254711000033" in shown.get_data(as_text=True)
    assert shown.headers["Cache-Control"] == "no-store"
    [entry] = [e for e in audit.recent(redis, "Relief Org") if e.action == "case.reveal"]
    assert entry.actor == "cara@relief.org" and entry.target == cases["ticket"] and "711000033" not in entry.detail
    assert console.client.get(url + "/reveal").status_code == 405  # never by a link or a prefetch


def test_other_agencies_and_roles_get_nothing(redis, app, cases):
    make_user(redis, "gus@gulf.org", agency="Gulf Aid", role="caseworker")
    make_user(redis, "sam@relief.org", role="sender")
    gulf, sender = Console(app.test_client()), Console(app.test_client())
    gulf.login("gus@gulf.org")
    sender.login("sam@relief.org")
    assert gulf.get(f"/console/casework/reports/{cases['ke']}").status_code == 404
    assert gulf.post(f"/console/casework/reports/{cases['ke']}", {"status": "closed"},
                     form_page="/console/casework/").status_code == 404
    assert gulf.get(f"/console/casework/callbacks/{cases['ticket']}").status_code == 200  # host country AE
    assert sender.get("/console/casework/").status_code == 403
    assert sender.post(f"/console/casework/callbacks/{cases['ticket']}/reveal",
                       form_page="/console/").status_code == 403
    assert casework.get(redis, casework.REPORT, cases["ke"], keyring=TEST_KEYRING).status == "open"


def test_find_by_reference(redis, console, cases):
    make_user(redis, "cara@relief.org", role="caseworker")
    console.login("cara@relief.org")
    r = console.get(f"/console/casework/find?ref={cases['ticket'].lower()}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/callbacks/{cases['ticket']}")
    r = console.get(f"/console/casework/find?ref={cases['ph']}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/casework/?kind=reports")


def test_an_agency_without_countries_is_told_how_to_get_some(redis, console):
    make_user(redis, "cara@relief.org", role="caseworker")
    console.login("cara@relief.org")
    assert "--countries" in console.get("/console/casework/").get_data(as_text=True)


def test_the_dashboard_counts_open_cases_for_caseworkers(redis, app, cases):
    make_user(redis, "cara@relief.org", role="caseworker")
    make_user(redis, "vic@relief.org", role="viewer")
    caseworker, viewer = Console(app.test_client()), Console(app.test_client())
    caseworker.login("cara@relief.org")
    viewer.login("vic@relief.org")
    page = caseworker.get("/console/").get_data(as_text=True)
    assert "1 open report" in page and "1 open call-back request" in page  # the Philippine report is not theirs
    assert 'id="cases-summary"' not in viewer.get("/console/").get_data(as_text=True)


def test_older_cases_a_page_at_a_time(redis, console, monkeypatch):
    from gateway.console import casework as pages

    monkeypatch.setattr(pages, "LIMIT", 2)  # a page of two, not of a hundred
    create_key(redis, "Relief Org", ["reports"], countries=["KE"])
    refs = []
    for n in range(3):
        refs.append(_case(redis, casework.REPORT, f"page-{n}", "KE", "KE"))
        time.sleep(0.01)
    make_user(redis, "cara@relief.org", role="caseworker")
    console.login("cara@relief.org")
    first = console.get("/console/casework/").get_data(as_text=True)
    assert refs[2] in first and refs[1] in first and refs[0] not in first
    older = re.search(r'href="([^"]*before=[^"]*)"', first).group(1).replace("&amp;", "&")
    second = console.get(older).get_data(as_text=True)
    assert refs[0] in second and refs[2] not in second


def test_a_flagged_number_says_what_closing_it_does(redis, console, cases):
    ref = casework.upsert(redis, casework.REPORT, "flag-1", {"category": "flag", "language": "en",
                                                             "host_country": "KE", "home_country": "KE"},
                          ttl=DAY, keyring=TEST_KEYRING)
    make_user(redis, "cara@relief.org", role="caseworker")
    console.login("cara@relief.org")
    assert "Number flagged as fake" in console.get("/console/casework/").get_data(as_text=True)
    page = console.get(f"/console/casework/reports/{ref}").get_data(as_text=True)
    assert "Closing the case upholds the flag" in page and "dismissed" in page
