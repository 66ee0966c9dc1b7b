"""Browser tests: the real app served over HTTP in a thread, driven by Debian's Chromium through Playwright.

Chromium comes from the system (``make browser`` installs the Debian package when it is missing; Playwright's
own browser download does not work on these machines). ``CHROMIUM`` may name another binary. Without a browser
the tests are skipped locally and fail in CI (``CI`` set), so CI never passes without running them.

Screenshots of the main pages go to ``var/screenshots/`` (ignored by git), for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from gateway.app import create_app
from gateway.config import Settings
from tests.console.helpers import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    path = _chromium()
    if path is None:
        message = "Chromium not found: run `make browser` (Debian package chromium) or set CHROMIUM."
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def browser_settings(settings: Settings) -> Settings:
    return replace(settings, dev=True)


@pytest.fixture
def live_app(browser_settings: Settings) -> Flask:
    return create_app(browser_settings)


@pytest.fixture
def api_key(redis: object) -> dict[str, str]:
    """A key of the agency the browser tests' people belong to (``Relief Org``)."""
    from outbox.apikeys import create_key

    key, _ = create_key(redis, "Relief Org")  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def client(live_app: Flask) -> object:
    """The API of the same app the browser uses."""
    return live_app.test_client()


@pytest.fixture
def live_url(live_app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


class Person:
    """One person at one browser: log in, go to pages, take screenshots, run the accessibility check."""

    def __init__(self, page: object, base: str) -> None:
        self.page = page
        self.base = base

    def goto(self, path: str) -> object:
        return self.page.goto(self.base + path)  # type: ignore[attr-defined]

    def login(self, email: str, password: str = PASSWORD) -> None:
        self.goto("/console/login")
        # By id, not by label: the same steps serve people browsing in any language.
        self.page.fill("#email", email)  # type: ignore[attr-defined]
        self.page.fill("#password", password)  # type: ignore[attr-defined]
        with self.page.expect_navigation():  # type: ignore[attr-defined]
            self.page.click("main form button[type=submit]")  # type: ignore[attr-defined]

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        # From the top: a page scrolled down (by a focused field, or the accessibility scan) otherwise comes out
        # with its last part painted over its header.
        self.page.evaluate("window.scrollTo(0, 0)")  # type: ignore[attr-defined]
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

    def axe_violations(self) -> list[dict[str, object]]:
        """axe-core's WCAG 2.0/2.1 A and AA violations on the current page."""
        # evaluate() runs outside the page's CSP, which (rightly) refuses an injected <script>.
        self.page.evaluate(AXE.read_text())  # type: ignore[attr-defined]
        result = self.page.evaluate(  # type: ignore[attr-defined]
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
                for v in result["violations"]]


@pytest.fixture
def person(browser: object, live_url: str) -> Iterator[Person]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    yield Person(context.new_page(), live_url)
    context.close()


@pytest.fixture
def other_person(browser: object, live_url: str) -> Iterator[Person]:
    """A second person in their own browser context (another agency, another role)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="fr-FR")  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    yield Person(context.new_page(), live_url)
    context.close()
