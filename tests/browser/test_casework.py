"""Casework in a real browser: a report made by a caller on USSD, moved along its workflow by a caseworker of
the agency whose country it is, and invisible to a caseworker of another agency; a full number revealed only
by pressing the button, which the admin then reads in the audit trail."""

from __future__ import annotations

from handlers import casework
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING
from tests.console.helpers import make_user
from tests.flows.conftest import handset


def test_a_status_change_that_another_agency_cannot_see(redis, client, person, other_person):
    create_key(redis, "Relief Org", ["reports"], countries=["KE"])
    create_key(redis, "Gulf Aid", ["reports"], countries=["AE", "PH"])
    body = handset(client, "KE").send("4", "2", "2", "1")  # a Kenyan at home reports unpaid wages
    ref = "R-" + body.split("R-")[1][:6]
    make_user(redis, "cara@relief.org", role="caseworker")
    make_user(redis, "gus@gulf.org", agency="Gulf Aid", role="caseworker")

    person.login("cara@relief.org")
    page = person.page
    page.get_by_role("link", name="Casework").click()
    page.get_by_role("link", name=ref).click()
    page.get_by_label("Status").select_option("in_progress")
    page.get_by_label("Note (kept encrypted with the case; optional)").fill("Called the employer")
    page.get_by_role("button", name="Save").click()
    page.get_by_text(f"{ref} is now In progress.").wait_for()
    assert page.locator("#case-status").get_attribute("data-status") == "in_progress"
    assert "Called the employer" in page.locator("ol.history").inner_text()
    person.screenshot("casework-case")
    assert person.axe_violations() == []
    assert casework.get(redis, casework.REPORT, ref, keyring=TEST_KEYRING).status == "in_progress"

    other_person.login("gus@gulf.org")  # in French, on a phone-sized screen
    other_person.goto("/console/casework/")
    assert ref not in other_person.page.inner_text("main")
    response = other_person.goto(f"/console/casework/reports/{ref}")
    assert response.status == 404 and "Called the employer" not in other_person.page.content()
    other_person.goto(f"/console/casework/find?ref={ref}")
    assert ref in other_person.page.inner_text(".flashes") and "employer" not in other_person.page.content()


def test_a_full_number_only_on_an_explicit_audited_action(redis, client, person, other_person):
    create_key(redis, "Relief Org", ["reports"], countries=["PH"])
    body = handset(client, "PH").send("1", "5", "4")  # a call-back request from the Philippines
    ref = body.split("Ref ")[1].split(".")[0]
    make_user(redis, "cara@relief.org", role="caseworker")
    make_user(redis, "ana@relief.org", role="admin")

    person.login("cara@relief.org")
    person.goto("/console/casework/?kind=callbacks")
    page = person.page
    assert ref in page.inner_text("main") and "+639171234567" not in page.content()
    person.screenshot("casework-list")
    assert person.axe_violations() == []
    page.get_by_role("link", name=ref).click()
    assert "+639171234567" not in page.content()
    page.get_by_role("button", name="Show the full number").click()
    assert page.locator("#full-number").inner_text() == "+639171234567"
    person.screenshot("casework-revealed")

    other_person.login("ana@relief.org")
    other_person.goto("/console/people/audit")
    row = other_person.page.locator("tr", has_text=ref).first
    assert "cara@relief.org" in row.inner_text() and "+639171234567" not in other_person.page.content()
    other_person.screenshot("fr-phone-audit")
