"""Composing, sending, watching and cancelling a broadcast in a real browser, with a real worker process sending
through the official SDK to the local AT-compatible server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from outbox import subscribers
from tests.conftest import TEST_KEYRING, TEST_SECRET
from tests.console.helpers import make_user


def _subscribers(redis, n, *, country="KE", language="sw", start=0):
    rows = [{"phone": f"+2547110{i:05d}", "country": country, "language": language} for i in range(start, start + n)]
    subscribers.import_many(redis, TEST_KEYRING, rows)


@pytest.fixture
def worker(redis_url: str, at_server) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "REDIS_URL": redis_url, "SMS_PROVIDER": "africastalking", "AT_USERNAME": "console",
           "AT_API_KEY": "key", "AT_API_URL": at_server.url, "SMS_SWEEP_INTERVAL_S": "1", "SMS_BATCH_SIZE": "10",
           "LOG_LEVEL": "WARNING", "GATEWAY_SECRET": TEST_SECRET}
    process = subprocess.Popen([sys.executable, "-m", "gateway", "worker"], env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_compose_warns_of_ucs2_and_counts_what_the_api_estimates(redis, person, client, api_key):
    _subscribers(redis, 3)
    make_user(redis, "sam@relief.org", role="sender")
    person.login("sam@relief.org")
    person.goto("/console/broadcasts/new")
    page = person.page
    text = "Flood warning: move to high ground now. Shelter at the school ☂"
    page.get_by_label("Text in English (en)").fill(text)
    warning = page.locator("#count-en .warning")
    warning.wait_for()
    assert "☂" in warning.inner_text()
    shown = page.locator("#count-en").inner_text()
    api = client.post("/api/v1/broadcasts/estimate", headers=api_key, json={
        "message": {"en": text}, "audience": {"countries": ["KE"]}}).get_json()
    estimate = api["estimate"]["en"]
    assert estimate["encoding"] == "UCS-2" and "UCS-2" in shown
    assert f"{estimate['segments']} SMS segment" in shown and f"{estimate['characters']} characters" in shown
    page.get_by_label("Kenya (KE)").check()
    page.locator("#audience-size").get_by_text("3 recipients").wait_for()
    person.screenshot("compose")
    assert person.axe_violations() == []
    page.get_by_role("button", name="Remove these characters").click()  # ☂ has no GSM-7 look-alike
    page.locator("#count-en").get_by_text("GSM-7").wait_for()
    assert page.locator("#count-en .warning").count() == 0
    assert page.get_by_label("Text in English (en)").input_value() == text.replace("☂", "")


def test_a_viewer_cannot_send(redis, person):
    make_user(redis, "vic@relief.org", role="viewer")
    person.login("vic@relief.org")
    assert "New broadcast" not in person.page.inner_text("main")
    response = person.goto("/console/broadcasts/new")
    assert response.status == 403
    person.screenshot("forbidden")


def test_send_then_watch_it_reach_done(redis, person, worker, at_server):
    _subscribers(redis, 25)
    make_user(redis, "sam@relief.org", role="sender")
    person.login("sam@relief.org")
    person.goto("/console/broadcasts/new")
    page = person.page
    page.get_by_label("Text in Swahili (sw)").fill("Onyo la mafuriko: nendeni mahali pa juu.")
    page.get_by_label("Fallback language").select_option("sw")
    page.get_by_label("Kenya (KE)").check()
    page.get_by_role("button", name="Review before sending").click()
    page.get_by_role("heading", name="Review the broadcast").wait_for()
    person.screenshot("review")
    page.get_by_role("button", name="Send to 25 people").click()
    page.locator("[data-status=done]").wait_for(timeout=30_000)  # updated in place by polling, no reload
    assert len(at_server.all_recipients()) == 25
    assert page.get_by_role("button", name="Cancel this broadcast").count() == 0  # nothing left to cancel
    assert "Relief Org" in page.locator(".sms-bubble").first.inner_text()  # the footer, as the phones got it
    person.screenshot("broadcast")
    assert person.axe_violations() == []


def test_emergency_needs_a_second_confirmation_then_can_be_cancelled(redis, person, at_server):
    _subscribers(redis, 5)
    make_user(redis, "sam@relief.org", role="sender")
    person.login("sam@relief.org")
    person.goto("/console/broadcasts/new")
    page = person.page
    page.get_by_label("Text in English (en)").fill("Evacuate the coast now.")
    page.get_by_label("Every subscriber").check()
    page.get_by_label("Emergency (goes before every other message)").check()
    page.get_by_label("Send at (UTC; empty: now)").fill("2099-01-01T08:00")
    page.get_by_role("button", name="Review before sending").click()
    page.get_by_role("button", name="Send to 5 people").click()
    assert "Tick this box to confirm" in page.inner_text("main")  # nothing was sent
    page.get_by_label("This is an emergency").check()
    page.get_by_role("button", name="Send to 5 people").click()
    page.get_by_text("scheduled").first.wait_for()
    page.get_by_role("button", name="Cancel this broadcast").click()
    page.locator("[data-status=cancelled]").wait_for()
    assert "will not be sent" in page.inner_text("main")
    page.reload()  # the outcome stays on the page, not only in the one-time message
    outcome = page.locator("#cancel-outcome").inner_text()
    assert "0 messages had already gone to the network; 5 were not sent." in outcome
    assert at_server.all_recipients() == []


def test_another_agencys_broadcast_is_not_found(redis, person, client, api_key):
    _subscribers(redis, 2)
    created = client.post("/api/v1/broadcasts", headers=api_key, json={
        "message": {"en": "Hello"}, "audience": {"countries": ["KE"]}}).get_json()
    make_user(redis, "sam@relief.org", agency="Another Org", role="admin")
    person.login("sam@relief.org")
    assert person.goto(f"/console/broadcasts/{created['id']}").status == 404


def test_a_cap_alert_is_listed_with_its_source(redis, person, client, api_key):
    """An OASIS sample alert (re-dated to now) posted to the API shows on the pages as a CAP alert with its
    sender and identifier."""
    import re
    from datetime import UTC, datetime, timedelta
    from pathlib import Path

    _subscribers(redis, 2)
    body = (Path(__file__).parents[1] / "data" / "cap" / "oasis-cap12-a2-severe-thunderstorm-warning.xml").read_bytes()
    body = re.sub(rb"<sent>[^<]*</sent>", f"<sent>{datetime.now(UTC).isoformat(timespec='seconds')}</sent>".encode(),
                  body)
    later = (datetime.now(UTC) + timedelta(hours=6)).isoformat(timespec="seconds")
    body = re.sub(rb"<expires>[^<]*</expires>", f"<expires>{later}</expires>".encode(), body)
    posted = client.post("/api/v1/alerts/cap?countries=KE", data=body,
                         headers={**api_key, "Content-Type": "application/cap+xml"})
    assert posted.status_code == 202 and posted.get_json()["broadcasts"], posted.get_json()
    make_user(redis, "vic@relief.org", role="viewer")
    person.login("vic@relief.org")
    person.goto("/console/broadcasts/")
    row = person.page.locator("tbody tr").first
    assert "CAP alert" in row.inner_text() and "KSTO@NWS.NOAA.GOV" in row.inner_text()
    row.get_by_role("link").click()
    source = person.page.locator("section.notice")
    assert "KSTO1055887203" in source.inner_text() and "KSTO@NWS.NOAA.GOV" in source.inner_text()
    person.screenshot("broadcast-cap")
    assert person.axe_violations() == []
