"""The web phone and the subscriber import, in a real browser."""

from __future__ import annotations

from pathlib import Path

from outbox import subscribers
from tests.console.helpers import make_user


def test_the_web_phone_walks_to_a_service_screen(redis, person, live_app):
    make_user(redis, "vic@relief.org", role="viewer")
    person.login("vic@relief.org")
    person.goto("/console/phone/")
    page = person.page
    page.get_by_label("SIM from").select_option("KE")
    page.get_by_role("button", name="Dial *384*55#").click()
    screen = page.locator(".handset .display")
    screen.get_by_text("English").wait_for()
    for answer in ("1", "1"):  # English, then Emergency help
        page.get_by_label("Your answer").fill(answer)
        page.get_by_role("button", name="Send").click()
        page.wait_for_timeout(300)
    text = screen.inner_text()
    assert "police" in text.lower() or "999" in text or "112" in text, text
    assert max(len(line) for line in text.splitlines()) <= 20
    token = live_app.extensions["gateway"].settings.callback_token
    assert token is None or token not in page.content()
    person.screenshot("phone")
    assert person.axe_violations() == []


def test_csv_import_reports_each_rejected_row(redis, person, tmp_path):
    make_user(redis, "sam@relief.org", role="sender")
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("phone,country,language,topics\n"
                        "0711000101,KE,sw,weather;health\n"
                        "+254711000102,KE,en,\n"
                        "12345,KE,sw,\n"
                        "+254711000104,KE,sw,parties\n"
                        "+254711000105,ZZ,sw,\n")
    person.login("sam@relief.org")
    person.goto("/console/subscribers/")
    page = person.page
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()
    page.get_by_role("heading", name="Import finished").wait_for()
    summary = page.locator(".notice").inner_text()
    assert "2 imported, 3 rejected" in summary
    lines = [row.locator("td").first.inner_text() for row in page.locator("tbody tr").all()]
    assert lines == ["4", "5", "6"]
    person.screenshot("import")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejection report (CSV)").click()
    report = Path(download.value.path()).read_text()
    assert report.splitlines()[0] == "line,phone,reason" and "12345" in report and len(report.splitlines()) == 4
    assert subscribers.count(redis, country="KE") == 2
