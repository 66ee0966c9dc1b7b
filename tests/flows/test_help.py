"""Emergency help: numbers by MCC, embassy by number, SMS rate limit, call-back tickets."""

from __future__ import annotations

from dataclasses import replace

from flask.testing import FlaskClient
from redis import Redis

from gateway.app import create_app
from handlers import casework
from tests.conftest import TEST_KEYRING
from tests.flows.conftest import fresh, handset
from tests.flows.helpers import queued_jobs, queued_sms


def test_roaming_caller_gets_host_numbers_and_home_embassy(client: FlaskClient) -> None:
    phone = handset(client, "AE")  # a Kenyan SIM on a UAE network
    assert "United Arab Emirates" in phone.send("1", "1")
    body = phone.post()
    assert "Police: 999" in body and "Ambulance: 998" in body
    fresh(phone)
    body = phone.send("1", "2")
    assert body.startswith("CON Kenya embassy")
    assert "Abu Dhabi" in body and "number not known yet" in body


def test_unverified_numbers_carry_a_caution(client: FlaskClient) -> None:
    phone = handset(client, "AE")
    phone.network = "42701"  # the same Kenyan SIM in Qatar: Kenya's embassy in Doha is listed, not yet checked
    fresh(phone)
    phone.send("1", "2")
    pages = [phone.post()]
    while "98 More" in pages[-1]:
        pages.append(phone.send("98"))
    text = "\n".join(pages)
    assert "4493-1870*" in text
    assert "* not yet checked" in text


def test_help_sms_is_queued_once_and_rate_limited(client: FlaskClient, redis: Redis) -> None:
    phone = handset(client, "KE")
    body = phone.send("1", "4")
    assert body.startswith("END ") and "SMS" in body
    phone.post()  # AT repeats the request: answered from the replay cache, nothing queued again
    assert len(queued_jobs(redis)) == 1
    assert "999" in queued_sms(redis)[0][1]
    fresh(phone)
    assert phone.send("1", "4").startswith("END The numbers")  # second of the day: allowed (limit 2)
    fresh(phone)
    assert "already sent" in phone.send("1", "4")
    assert len(queued_jobs(redis)) == 2


def test_callback_creates_one_ticket_with_masked_number(client: FlaskClient, redis: Redis) -> None:
    phone = handset(client, "PH", lang_option="5")  # Tagalog
    body = phone.send("1", "5", "2")
    assert body.startswith("END ") and "Ref C-" in body
    ref = body.split("Ref ")[1].split(".")[0]
    phone.post()  # repeated request
    cases = casework.newest(redis, casework.CALLBACK, keyring=TEST_KEYRING)
    assert [c.ref for c in cases] == [ref]
    fields = cases[0].fields
    assert fields["topic"] == "work" and fields["language"] == "tl" and fields["host_country"] == "PH"
    assert fields["phone_masked"].startswith("+6391") and "1234567" not in fields["phone_masked"]
    assert fields["phone"] == "+639171234567"  # kept apart, with a short expiry, for the call-back itself
    assert 0 < redis.ttl(f"case:callback:{ref}:contact") <= 3 * 24 * 3600


def test_unknown_network_falls_back_to_home_country(settings, redis: Redis) -> None:
    client = create_app(replace(settings)).test_client()
    phone = handset(client, "KE")
    phone.network = "99999"  # AT's simulator
    fresh(phone)
    assert "Kenya" in phone.send("1", "1")


def test_a_home_short_code_is_shown_only_at_home(client: FlaskClient) -> None:
    """The Philippine 1348 hotline answers only inside the Philippines: a Filipino worker in the UAE never sees it,
    only the international form DMW publishes for calls from abroad (+63 2 1348); the same caller at home sees
    1348 alone."""
    phone = handset(client, "PH")
    body = phone.send("1", "2")
    assert ": 1348" in body and "+6321348" not in body
    phone.network = "42402"  # the same SIM in the UAE: the international form DMW publishes for calls from abroad
    fresh(phone)
    pages = [phone.send("1", "2")]
    while "98 More" in pages[-1]:
        pages.append(phone.send("98"))
    text = "\n".join(pages)
    assert ": 1348" not in text and ": +6321348*" in text


def test_a_caller_at_home_is_not_offered_their_own_embassy(client: FlaskClient) -> None:
    """A Bangladeshi in Bangladesh who picks "My embassy" is told no embassy applies at home and where help is
    instead (Bangladesh has no line for its workers abroad in the data)."""
    phone = handset(client, "BD")
    body = phone.send("1", "2")
    assert body.startswith("CON You are at home: no embassy") and "Emergency numbers" in body
    assert "embassy:" not in body.lower() and "Abu Dhabi" not in body


def test_a_kenyan_at_home_gets_kenyas_lines_for_its_citizens_abroad(client: FlaskClient) -> None:
    phone = handset(client, "KE")
    body = phone.send("1", "2")
    assert body.startswith("CON You are at home. Lines for workers abroad") and "020-7876000*" in body
    assert "Embassy" not in body


def test_a_kenyan_abroad_gets_the_diaspora_call_centre_in_international_form(client: FlaskClient) -> None:
    phone = handset(client, "AE")  # a Kenyan SIM in the UAE
    pages = [phone.send("1", "2")]
    while "98 More" in pages[-1]:
        pages.append(phone.send("98"))
    text = "\n".join(pages)
    assert "+254207876000*" in text and "020-7876000" not in text


def test_a_filipino_at_home_gets_the_lines_for_workers_abroad(client: FlaskClient) -> None:
    phone = handset(client, "PH")
    body = phone.send("1", "2")
    assert body.startswith("CON You are at home. Lines for workers abroad") and "1348" in body
    assert "Embassy" not in body


def test_help_sms_explains_the_mark_once(client: FlaskClient, redis: Redis) -> None:
    """A Kenyan SIM in Qatar: Kenya's embassy in Doha is listed with an international number not yet checked; the
    SMS marks it and says in one sentence what the mark means."""
    phone = handset(client, "AE")
    phone.network = "42701"
    fresh(phone)
    assert phone.send("1", "4").startswith("END ")
    text = queued_sms(redis)[0][1]
    assert "+97444931870*" in text
    assert text.count("not yet checked") == 1 and text.rstrip().endswith("confirm before relying on it")


def test_help_sms_without_unchecked_numbers_has_no_footnote(client: FlaskClient, redis: Redis) -> None:
    phone = handset(client, "BD")  # at home: Bangladesh's emergency numbers, all checked
    phone.send("1", "4")
    text = queued_sms(redis)[0][1]
    assert "*" not in text and "not yet checked" not in text


def test_an_iom_office_number_is_listed_with_its_mark(client: FlaskClient) -> None:
    """A Kenyan SIM in Jordan: IOM's Amman office line, read on IOM's own page but not confirmed live, is dialable
    in its local form and carries the unchecked mark."""
    phone = handset(client, "AE")
    phone.network = "41601"  # Jordan
    fresh(phone)
    body = phone.send("1", "3")
    assert "06-562-5080*" in body and "Amman" in body


def test_the_marks_explanation_never_has_a_page_to_itself(client: FlaskClient) -> None:
    """A Filipino at home: 1348 (checked) and DMW's landline (not yet checked) fill the first page, and the
    explanation of * comes with the last number instead of alone on a page after it."""
    phone = handset(client, "PH")
    pages = [phone.send("1", "2")]
    while "98 More" in pages[-1]:
        pages.append(phone.send("98"))
    nav = ("98 More", "0 Back", "00 Home")
    for page in pages:
        content = [line for line in page.removeprefix("CON ").split("\n") if line not in nav]
        assert content != ["* not yet checked: confirm before relying on it"], pages
    assert "02-8722-1144*" in "\n".join(pages)
