"""Logging in and being locked out, in a real browser."""

from __future__ import annotations

from gateway.console import users
from tests.console.helpers import make_user


def test_login_then_dashboard(redis, person):
    make_user(redis, "ana@relief.org", role="viewer")
    person.goto("/console/")
    person.screenshot("login")
    assert person.axe_violations() == []
    person.login("ana@relief.org")
    person.page.get_by_role("heading", name="Dashboard", exact=True).wait_for()
    assert "Relief Org" in person.page.inner_text("header")
    person.screenshot("dashboard")
    assert person.axe_violations() == []


def test_five_wrong_passwords_lock_the_account(redis, person):
    make_user(redis, "ana@relief.org")
    for _ in range(4):
        person.login("ana@relief.org", "not the password")
        assert "Wrong email or password" in person.page.inner_text("main")
    person.login("ana@relief.org", "not the password")
    assert "locked" in person.page.inner_text("main")
    person.login("ana@relief.org")  # the right password, while locked
    assert "locked" in person.page.inner_text("main")
    person.screenshot("login-locked")


def test_a_form_without_its_csrf_token_is_refused(redis, person):
    """A forged or stale form (its token removed, as a form posted from another site would lack it) sends
    nothing: 400 and a page that says why."""
    make_user(redis, "ana@relief.org", role="admin")
    person.login("ana@relief.org")
    person.goto("/console/people/")
    page = person.page
    page.fill("#new-email", "mallory@relief.org")
    page.fill("#new-password", "a long enough password")
    page.evaluate("document.querySelectorAll('input[name=csrf_token]').forEach(i => i.value = 'forged')")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Add", exact=True).click()
    assert navigation.value.status == 400
    assert "did not come from this console" in page.inner_text("main")
    person.screenshot("csrf-refused")
    assert users.get(redis, "mallory@relief.org") is None
