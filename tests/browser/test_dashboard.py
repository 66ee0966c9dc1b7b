"""The dashboard with something on it: subscribers in several countries and languages, USSD sessions that
finished or were dropped on a screen (AT's end-of-session notifications), and a broadcast still sending whose
counts change on the page without a reload."""

from __future__ import annotations

from outbox import subscribers
from tests.browser.test_broadcasts import worker  # noqa: F401  (a real worker process, sending to the AT server)
from tests.conftest import TEST_KEYRING, Phone
from tests.console.helpers import make_user


def _traffic(client) -> None:
    """Three new callers: one finishes, two hang up (one on the language menu, one on the welcome menu)."""
    for n, inputs in enumerate(([], [], ["1"])):
        phone = Phone(client, phone=f"+25471100{n:04d}")
        phone.dial()
        phone.send(*inputs)
        status = "Success" if n == 0 else "Incomplete"
        assert client.post("/ussd/events", data={"sessionId": phone.session_id, "phoneNumber": phone.phone,
                                                 "status": status, "input": "", "durationInMillis": "9000",
                                                 "networkCode": "63902"}).status_code == 200


def test_the_dashboard_at_a_glance(redis, person, client, api_key, at_server, request):
    rows = ([{"phone": f"+2547110{i:05d}", "country": "KE", "language": "sw"} for i in range(6)]
            + [{"phone": f"+63917100{i:04d}", "country": "PH", "language": "tl", "topics": ["work"]} for i in range(3)])
    subscribers.import_many(redis, TEST_KEYRING, rows)
    _traffic(client)
    sent = client.post("/api/v1/broadcasts", headers=api_key, json={
        "message": {"sw": "Onyo: mvua kubwa leo usiku."}, "audience": {"countries": ["KE"]}}).get_json()
    make_user(redis, "vic@relief.org", role="viewer")
    person.login("vic@relief.org")
    page = person.page
    assert "9" in page.locator("#subs-title").inner_text()
    for chart in ("chart-countries", "chart-languages", "chart-topics", "chart-traffic", "chart-dropoff"):
        # Chart.js drew on the canvas (it sizes it); the table beside it says the same in words.
        assert page.locator(f"#{chart}").get_attribute("width"), chart
    assert "3" in page.locator("#ussd-title").inner_text()
    assert page.locator("#ussd-unfinished").inner_text().startswith("2 of them unfinished (67%)")
    assert page.locator("figure:has(#chart-dropoff) tbody tr").count() == 2  # the two screens callers left
    card = f"[data-broadcast='{sent['id']}']"
    assert page.locator(card).get_attribute("data-status") == "sending"
    person.screenshot("dashboard-busy")
    assert person.axe_violations() == []
    request.getfixturevalue("worker")  # now a worker sends it; the card follows without a reload
    page.locator(f"{card}[data-status=done]").wait_for(timeout=30_000)
    assert len(at_server.all_recipients()) == 6
