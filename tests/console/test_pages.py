"""Console pages through the Flask test client: roles, agencies, the API's rules and the audit trail."""

from __future__ import annotations

import re

from outbox import subscribers
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING
from tests.console.helpers import Console, make_user


def _key(redis, agency="Relief Org"):
    key, _ = create_key(redis, agency)
    return {"Authorization": f"Bearer {key}"}


def _subscribers(redis, n):
    subscribers.import_many(redis, TEST_KEYRING, [{"phone": f"+2547110{i:05d}", "country": "KE", "language": "sw"}
                                    for i in range(n)])


def test_a_viewer_can_read_but_not_send_import_or_cancel(redis, console):
    make_user(redis, "vic@relief.org", role="viewer")
    console.login("vic@relief.org")
    assert console.get("/console/").status_code == 200
    assert console.get("/console/broadcasts/").status_code == 200
    assert console.get("/console/broadcasts/new").status_code == 403
    form = {"text_en": "Hello", "fallback": "en", "audience_kind": "all", "action": "send"}
    assert console.post("/console/broadcasts/new", form, form_page="/console/").status_code == 403
    assert console.post("/console/subscribers/remove", {"phone": "+254711000001"},
                        form_page="/console/").status_code == 403
    assert console.get("/console/people/").status_code == 403


def test_the_form_is_checked_by_the_apis_rules(redis, console):
    make_user(redis, "sam@relief.org", role="sender")
    console.login("sam@relief.org")
    response = console.post("/console/broadcasts/new", {"text_en": "Hello", "fallback": "en",
                                                          "audience_kind": "filter", "action": "review"},
                            form_page="/console/broadcasts/new")
    assert response.status_code == 422
    assert "audience" in response.get_data(as_text=True).lower()


def test_live_count_equals_the_apis_estimate(redis, console, client):
    _subscribers(redis, 2)
    make_user(redis, "sam@relief.org", role="sender")
    console.login("sam@relief.org")
    text = "Réunion à l’école demain — apportez vos papiers"
    for lookalikes in ("", "1"):
        page = console.post("/console/broadcasts/count", {"lang": "fr", "text_fr": text,
                                                           "replace_lookalikes": lookalikes},
                            form_page="/console/broadcasts/new").get_data(as_text=True)
        estimate = client.post("/api/v1/broadcasts/estimate", headers=_key(redis), json={
            "message": {"fr": text}, "audience": {"countries": ["KE"]},
            "replace_lookalikes": bool(lookalikes)}).get_json()["estimate"]["fr"]
        assert f"{estimate['characters']} characters" in page and estimate["encoding"] in page
        assert f"{estimate['segments']} SMS segment" in page


def test_sending_is_audited_and_another_agency_sees_nothing(redis, app, console):
    _subscribers(redis, 3)
    make_user(redis, "ana@relief.org", role="admin")
    console.login("ana@relief.org")
    response = console.post("/console/broadcasts/new", {
        "text_sw": "Onyo", "fallback": "sw", "audience_kind": "filter", "countries": "KE", "action": "send"},
        form_page="/console/broadcasts/new")
    assert response.status_code == 302
    broadcast_page = response.headers["Location"]
    assert console.get(broadcast_page).status_code == 200
    people = console.get("/console/people/").get_data(as_text=True)
    assert "broadcast.send" in people and "ana@relief.org" in people

    make_user(redis, "bob@other.org", agency="Other Org", role="admin")
    other = Console(app.test_client())
    other.login("bob@other.org")
    assert other.get(broadcast_page).status_code == 404
    assert "Onyo" not in other.get("/console/broadcasts/").get_data(as_text=True)
    assert "broadcast.send" not in other.get("/console/people/").get_data(as_text=True)


def test_an_admin_manages_only_their_agencys_people(redis, app, console):
    make_user(redis, "ana@relief.org", role="admin")
    make_user(redis, "bob@other.org", agency="Other Org", role="viewer")
    console.login("ana@relief.org")
    added = console.post("/console/people/add", {"email": "new@relief.org", "role": "sender",
                                                "password": "a fine long password"}, form_page="/console/people/")
    assert added.status_code == 302
    short = console.post("/console/people/add", {"email": "x@relief.org", "role": "sender", "password": "short"},
                         form_page="/console/people/")
    assert short.status_code == 422 and "at least 12" in short.get_data(as_text=True)
    assert console.post("/console/people/bob@other.org/remove", form_page="/console/people/").status_code == 404
    assert console.post("/console/people/new@relief.org/role", {"role": "viewer"},
                        form_page="/console/people/").status_code == 302
    from gateway.console import users
    assert users.get(redis, "new@relief.org").role == "viewer"
    assert users.get(redis, "bob@other.org") is not None


def test_an_audience_that_reaches_nobody_says_what_to_change(redis, console):
    _subscribers(redis, 2)  # Kenya, Swahili
    make_user(redis, "sam@relief.org", role="sender")
    console.login("sam@relief.org")
    page = console.post("/console/broadcasts/audience", {"audience_kind": "filter", "countries": "KE",
                                                         "languages": "sw", "fallback": "en"},
                        form_page="/console/broadcasts/new").get_data(as_text=True)
    assert "2 recipients" in page and "Nobody" not in page
    page = console.post("/console/broadcasts/audience", {"audience_kind": "filter", "countries": "KE",
                                                         "languages": "en", "fallback": "en"},
                        form_page="/console/broadcasts/new").get_data(as_text=True)
    assert "Nobody matches this audience." in page and "Choose fewer languages or topics" in page


def test_a_fresh_form_asks_for_an_audience_rather_than_reporting_an_error(redis, console):
    make_user(redis, "sam@relief.org", role="sender")
    console.login("sam@relief.org")
    page = console.post("/console/broadcasts/audience", {"audience_kind": "filter", "fallback": "en"},
                        form_page="/console/broadcasts/new").get_data(as_text=True)
    assert "Pick the audience" in page and "is empty" not in page


def test_a_large_audience_is_shown_as_an_upper_bound(redis, console, monkeypatch):
    from outbox import broadcasts

    monkeypatch.setattr(broadcasts, "EXACT_LIMIT", 1)  # as if the audience were above 100,000 members
    _subscribers(redis, 3)
    make_user(redis, "sam@relief.org", role="sender")
    console.login("sam@relief.org")
    page = console.post("/console/broadcasts/audience", {"audience_kind": "filter", "countries": "KE",
                                                         "fallback": "en"},
                        form_page="/console/broadcasts/new").get_data(as_text=True)
    assert re.search(r"up to \d+ recipients", page)  # one per audience set a subscriber is in, until sent
