"""Console test helpers shared by the Flask-client tests and the browser tests."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from redis import Redis

from gateway.console import users

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def make_user(redis: Redis, email: str, *, agency: str = "Relief Org", role: str = "admin") -> users.User:
    return users.create(redis, email, agency=agency, role=role, password=PASSWORD)


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)


class Console:
    """A logged-in person driving the console through the Flask test client (forms with their CSRF token)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = PASSWORD) -> object:
        page = self.client.get("/console/login")
        return self.client.post("/console/login", data={
            "email": email, "password": password, "csrf_token": csrf_token(page.get_data(as_text=True))})

    def get(self, path: str, **kwargs: object) -> object:
        return self.client.get(path, **kwargs)

    def post(self, path: str, data: dict[str, object] | None = None, *, form_page: str | None = None,
             **kwargs: object) -> object:
        """POST with the CSRF token of ``form_page`` (default: the same path)."""
        page = self.client.get(form_page or path)
        payload = dict(data or {})
        payload.setdefault("csrf_token", csrf_token(page.get_data(as_text=True)))
        return self.client.post(path, data=payload, **kwargs)
