"""Logging in and being locked out, in a real browser."""

from __future__ import annotations

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
