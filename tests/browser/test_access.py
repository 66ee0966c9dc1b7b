"""Languages and access: every main page in French and at phone width, keyboard use, and an axe-core scan."""

from __future__ import annotations

import pytest

from handlers import casework
from outbox import subscribers
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING
from tests.console.helpers import make_user

PAGES = ["/console/", "/console/broadcasts/", "/console/broadcasts/new", "/console/subscribers/",
         "/console/phone/", "/console/people/", "/console/people/audit", "/console/casework/",
         "/console/casework/?kind=callbacks", "/console/directory/?country=AE"]


@pytest.fixture
def admin(redis):
    subscribers.import_many(redis, TEST_KEYRING, [{"phone": f"+2547110{i:05d}", "country": "KE", "language": "sw"}
                                                  for i in range(4)])
    create_key(redis, "Relief Org", ["reports"], countries=["KE"])
    for n, kind in enumerate((casework.REPORT, casework.CALLBACK)):
        casework.upsert(redis, kind, f"session-{n}", {"category": "wages", "topic": "danger", "language": "ar",
                                                      "host_country": "KE", "home_country": "KE",
                                                      "phone_masked": "+2547******33"},
                        ttl=3600, keyring=TEST_KEYRING, contact="+254711000033", contact_ttl=3600)
    return make_user(redis, "ana@relief.org", role="admin")


def test_every_page_in_french_at_phone_width_passes_axe(admin, other_person, client, api_key):
    """``other_person`` browses in French on a 390-pixel-wide screen."""
    assert client.post("/api/v1/broadcasts", headers=api_key, json={
        "message": {"sw": "Onyo: mvua kubwa leo usiku."}, "audience": {"countries": ["KE"]}}).status_code == 202
    other_person.login("ana@relief.org")
    for path in PAGES:
        response = other_person.goto(path)
        assert response.status == 200, path
        assert other_person.page.get_attribute("html", "lang") == "fr"
        width = other_person.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{path} scrolls sideways at phone width ({width}px)"
        assert other_person.axe_violations() == [], path
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "console"
        other_person.screenshot(f"fr-phone-{name}")
    assert "Tableau de bord" in other_person.page.inner_text("nav")
    other_person.page.locator("td.actions a").first.click()  # the help directory's edit page
    other_person.page.locator("form input[name=source]").wait_for()
    assert "Un numéro court connu" in other_person.page.inner_text("#number-note")  # phonenumbers' reading, in French
    assert other_person.axe_violations() == []
    other_person.screenshot("fr-phone-console-directory-edit")


def test_arabic_content_is_right_to_left(admin, person, client, api_key):
    person.login("ana@relief.org")
    person.goto("/console/broadcasts/new")
    textarea = person.page.locator("#text_ar")
    assert textarea.get_attribute("dir") == "rtl" and textarea.get_attribute("lang") == "ar"
    sent = client.post("/api/v1/broadcasts", headers=api_key, json={
        "message": {"ar": "تحذير من الفيضانات: اتجهوا إلى مكان مرتفع"}, "audience": {"countries": ["KE"]}})
    assert sent.status_code == 202, sent.get_json()
    person.goto("/console/broadcasts/")
    link = person.page.locator("tbody a").first
    assert link.get_attribute("lang") == "ar" and link.get_attribute("dir") == "rtl"
    assert link.evaluate("a => getComputedStyle(a).direction") == "rtl"
    link.click()
    bubble = person.page.locator(".sms-bubble").first
    assert bubble.get_attribute("dir") == "rtl" and "الفيضانات" in bubble.inner_text()
    person.screenshot("broadcast-arabic")


def test_the_console_works_from_the_keyboard(admin, person):
    person.goto("/console/login")
    page = person.page
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    page.get_by_label("Email").focus()
    page.keyboard.type("ana@relief.org")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.get_by_role("heading", name="Dashboard", exact=True).wait_for()
    outline = page.evaluate("""() => { const a = document.querySelector('nav a'); a.focus();
        return getComputedStyle(a).outlineStyle; }""")
    assert outline != "none"


def test_a_case_is_moved_along_with_the_keyboard_alone(admin, person):
    """From the case list to a saved status change with Tab, arrows, typing and Enter only."""
    person.login("ana@relief.org")
    person.goto("/console/casework/")
    page = person.page

    def tab_to(selector: str) -> None:
        for _ in range(60):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("table a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to("#case-new-status")
    page.keyboard.press("ArrowDown")  # Keep → In progress
    tab_to("#case-note")
    page.keyboard.type("Called back, no answer")
    tab_to("form button.primary")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#case-status").get_attribute("data-status") == "in_progress"
    assert "Called back, no answer" in page.locator("ol.history").inner_text()
