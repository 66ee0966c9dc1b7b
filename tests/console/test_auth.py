"""Accounts, login, lockout, CSRF, cookie flags and roles, through the Flask test client."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from gateway.app import create_app
from gateway.console import users
from tests.console.helpers import PASSWORD, Console, csrf_token, make_user


def test_login_sets_a_server_side_session_with_safe_cookie_flags(redis, settings, console):
    make_user(redis, "ana@relief.org")
    response = console.login("ana@relief.org")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" in cookie  # not a development machine
    token = cookie.split(";")[0].split("=", 1)[1]
    dump = b"".join(redis.dump(k) or b"" for k in redis.keys("*"))
    assert token.encode() not in dump and PASSWORD.encode() not in dump
    assert console.get("/console/").status_code == 200


def test_cookie_is_not_secure_on_a_development_machine(redis, settings):
    app = create_app(replace(settings, dev=True))
    make_user(redis, "ana@relief.org")
    response = Console(app.test_client()).login("ana@relief.org")
    assert response.status_code == 302 and "Secure" not in response.headers["Set-Cookie"]


def test_pages_need_a_login(console):
    response = console.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_five_wrong_passwords_lock_the_account_for_15_minutes(redis, console):
    make_user(redis, "ana@relief.org")
    for _ in range(5):
        assert console.login("ana@relief.org", "wrong password!!").status_code == 401
    locked = console.login("ana@relief.org")
    assert locked.status_code == 401 and "locked" in locked.get_data(as_text=True)
    # Fifteen minutes later the right password works again (the lock is a time in Redis).
    result = users.authenticate(redis, "ana@relief.org", PASSWORD, now=__import__("time").time() + 15 * 60 + 1)
    assert result.user is not None


def test_a_right_password_resets_the_run_of_failures(redis):
    make_user(redis, "ana@relief.org")
    for _ in range(4):
        assert users.authenticate(redis, "ana@relief.org", "nope nope nope").user is None
    assert users.authenticate(redis, "ana@relief.org", PASSWORD).user is not None
    for _ in range(4):
        assert users.authenticate(redis, "ana@relief.org", "nope nope nope").locked_until is None
    assert users.authenticate(redis, "ana@relief.org", PASSWORD).user is not None


def test_unknown_emails_lock_the_same_way(redis):
    """The lockout must not tell which emails have accounts."""
    for _ in range(5):
        assert users.authenticate(redis, "nobody@relief.org", "whatever123456").user is None
    assert users.authenticate(redis, "nobody@relief.org", "whatever123456").locked_until is not None


def test_a_post_without_the_csrf_token_is_refused(redis, console):
    make_user(redis, "ana@relief.org")
    console.get("/console/login")
    response = console.client.post("/console/login", data={"email": "ana@relief.org", "password": PASSWORD})
    assert response.status_code == 400
    assert console.get("/console/").status_code == 302  # not logged in
    console.login("ana@relief.org")
    response = console.client.post("/console/logout", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert console.get("/console/").status_code == 200  # still logged in


def test_the_api_and_callbacks_need_no_csrf_token(client):
    assert client.post("/api/v1/broadcasts", json={}).status_code == 401
    assert client.post("/sms/optout", data={"phoneNumber": "+254711000001"}).status_code == 200


def test_logout_ends_the_session_on_the_server(redis, console):
    make_user(redis, "ana@relief.org")
    console.login("ana@relief.org")
    cookie = console.client.get_cookie("gw_console", path="/console")
    console.post("/console/logout", form_page="/console/")
    console.client.set_cookie("gw_console", cookie.value, path="/console")
    assert console.get("/console/").status_code == 302


def test_removing_an_account_logs_the_person_out_at_once(redis, console):
    user = make_user(redis, "ana@relief.org", role="viewer")
    console.login("ana@relief.org")
    users.remove(redis, user)
    assert console.get("/console/").status_code == 302


def test_login_redirects_only_inside_the_console(redis, console):
    make_user(redis, "ana@relief.org")
    page = console.get("/console/login")
    response = console.client.post("/console/login?next=https://evil.example/", data={
        "email": "ana@relief.org", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.headers["Location"].endswith("/console/")


@pytest.mark.parametrize("password, message", [("short", "at least 12"), (PASSWORD, "Created sender")])
def test_user_create_reads_the_password_from_stdin(redis_url, password, message, tmp_path):
    run = subprocess.run([sys.executable, "-m", "gateway", "user", "create", "Ben@Relief.org", "--agency",
                          "Relief Org", "--role", "sender"], input=password + "\n", capture_output=True, text=True,
                         env={"REDIS_URL": redis_url, "PATH": "/usr/bin:/bin", "GATEWAY_DEV": "1"}, cwd=tmp_path,
                         timeout=60)
    assert message in run.stdout + run.stderr
    assert (run.returncode == 0) == (password == PASSWORD)


def test_an_email_has_one_account(redis):
    make_user(redis, "ana@relief.org")
    with pytest.raises(users.UserError, match="already"):
        make_user(redis, "ANA@relief.org", agency="Other")


def test_redis_down_is_never_a_500(settings):
    """Flask opens and saves the session outside the views' error handlers: Redis down made every console page a
    500 (found by the black-box probe), with or without a session cookie. Now: the login form, a redirect to it,
    or the 503 of the app's Redis error handler."""
    client = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0")).test_client()
    assert client.get("/console/login").status_code == 200
    client.set_cookie("gw_console", "a" * 43, path="/console")
    for path in ("/console/", "/console/broadcasts/", "/console/login"):
        assert client.get(path).status_code < 500, path
    assert client.post("/console/login", data={"email": "ana@relief.org", "password": "x" * 12}).status_code < 500
