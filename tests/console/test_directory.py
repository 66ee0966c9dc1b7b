"""Help directory curation: an edit in the console reaches the caller's emergency screen."""

from __future__ import annotations

import pytest

from handlers import curation
from handlers import directory as helplines
from tests.conftest import Phone
from tests.console.helpers import make_user


@pytest.fixture
def live_overlay(app) -> curation.LiveDirectory:
    """The app's curated directory, re-read at every lookup (the service waits up to 30 s)."""
    live: curation.LiveDirectory = app.extensions["gateway"].services.directory
    live.refresh_s = 0
    return live


def _kenyan_embassy_in_the_uae(redis) -> curation.Listed:
    return next(e for e in curation.listing(redis, "AE")
                if e.section == "missions" and e.contact.name == "Embassy of Kenya")


def test_a_curated_number_reaches_the_callers_screen(redis, client, console, live_overlay):
    make_user(redis, "cat@relief.org", role="caseworker")
    console.login("cat@relief.org")
    assert "Embassy of Kenya" in console.get("/console/directory/?country=AE").get_data(as_text=True)
    entry = _kenyan_embassy_in_the_uae(redis)
    assert entry.contact.phone is None
    saved = console.post(f"/console/directory/{entry.id}", {
        "phone": "02 666 6300", "e164": "+97126666300", "source": "https://www.mfa.go.ke/missions",
        "checked": "2026-11-29", "verified": "1", "country": "AE"})
    assert saved.status_code == 302

    roaming = Phone(client, phone="+254711000002", network="42402")
    roaming.dial()
    roaming.send("1")  # English
    screen = roaming.send("1", "2")  # Emergency help, then my embassy
    assert "02-666-6300" in screen, screen  # screens join digit groups with hyphens (handlers/help.py)
    assert helplines.load_directory() is not live_overlay()  # the file itself is untouched


def test_an_edit_the_directory_rules_refuse_is_not_saved(redis, console, live_overlay):
    make_user(redis, "cat@relief.org", role="caseworker")
    console.login("cat@relief.org")
    entry = _kenyan_embassy_in_the_uae(redis)
    refused = console.post(f"/console/directory/{entry.id}", {
        "phone": "02 666 6300", "e164": "+254711000001", "source": "somewhere", "checked": "2026-11-29",
        "country": "AE"})
    assert refused.status_code == 422 and "belongs to KE" in refused.get_data(as_text=True)
    assert curation.load_overlay(redis) == {}


def test_number_check_as_typed(redis, console):
    make_user(redis, "cat@relief.org", role="caseworker")
    console.login("cat@relief.org")
    page = console.post("/console/directory/check-number", {"phone": "999", "country": "AE"},
                        form_page="/console/directory/").get_data(as_text=True)
    assert "short code" in page
    page = console.post("/console/directory/check-number", {"phone": "0711 000 001", "country": "KE"},
                        form_page="/console/directory/").get_data(as_text=True)
    assert "+254711000001" in page


def test_a_viewer_cannot_curate(redis, console):
    make_user(redis, "vic@relief.org", role="viewer")
    console.login("vic@relief.org")
    assert console.get("/console/directory/").status_code == 403
