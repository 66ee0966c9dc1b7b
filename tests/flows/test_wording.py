"""#8 item 3, what callers read after acting: each screen says what happened and what to do next, in words that
match what the service does (a time frame for the call-back, how to stop alerts, how to follow up a report)."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.flows.conftest import fresh, handset


def test_a_call_back_says_when(client: FlaskClient) -> None:
    phone = handset(client, "AE")
    body = phone.send("1", "5", "2")  # help, call me back, work or pay
    assert body.startswith("END Request received.") and "within 3 days" in body  # the number is kept 3 days
    arabic = handset(client, "AE", lang_option="4")
    assert "خلال 3 أيام" in arabic.send("1", "5", "2")  # Arabic's own plural for 3


def test_an_alert_subscription_names_country_topic_and_how_to_stop(client: FlaskClient) -> None:
    phone = handset(client, "KE")
    body = phone.send("3", "1", "5")  # alerts for this country, all topics
    assert body == "END Done. SMS alerts: Kenya, All topics. To stop: My alerts, in this menu."
    fresh(phone)
    assert "1 Stop Kenya alerts" in phone.send("3", "3")  # says what stops


def test_a_report_says_how_to_follow_it_up_and_what_a_short_text_lacks(client: FlaskClient) -> None:
    phone = handset(client, "BD")
    phone.send("4", "1", "1")  # report, abuse, write it
    short = phone.send("x")
    assert short.startswith("CON Please write 2 to 140 characters")  # the rule counts characters, not letters
    assert "confirmation SMS" in phone.send("ok")  # two characters are a report
    done = phone.send("1")  # no SMS
    assert done.startswith("END Thank you. Your reference: R-") and "Emergency help > Call me back" in done
