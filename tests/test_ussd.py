"""CONTRACT §2 through the HTTP face: every rule of the USSD callback."""

from __future__ import annotations

import secrets
import time
from dataclasses import replace

import pytest

from gateway.app import create_app
from menus.gsm import fits_ussd
from tests.conftest import Phone
from tests.privacy import dump, leaks, number_forms

WELCOME_EN = "Welcome. How can we help?"


def test_first_call_asks_for_a_language_in_the_callers_likely_language(phone):
    body = phone.dial()
    assert body.startswith("CON Chagua lugha yako")  # a Kenyan number: Swahili first
    assert "1 English" in body and "4 العربية" in body


def test_language_is_remembered_for_the_number(phone):
    phone.dial()
    assert phone.send("2").startswith("CON Bienvenue")
    assert phone.redial().startswith("CON Bienvenue")


def test_a_menu_shows_every_option_on_its_first_page(english_phone):
    english_phone.send("6", "4")  # Language -> Arabic: 80 characters a page
    body = english_phone.post()
    assert [line[0] for line in body[4:].split("\n") if line[0].isdigit()] == ["1", "2", "3", "4", "5", "6"]
    assert "98" not in body


def test_every_static_screen_in_every_language_fits_the_budget(client, app):
    """A small crawler over the menus as shipped (the services issue adds the dynamic screens)."""
    catalog = app.extensions["gateway"].catalog
    for lang_index, _lang in enumerate(catalog.languages, start=1):
        seen: set[str] = set()
        queue: list[list[str]] = [[]]
        while queue:
            path = queue.pop()
            handset = Phone(client, phone=f"+2547{secrets.randbelow(10**8):08d}")  # new: starts at the language menu
            handset.dial()
            handset.send(str(lang_index))
            body = handset.send(*path) if path else handset.post()
            assert fits_ussd(body[4:], 160), body
            if body in seen or body.startswith("END") or len(path) > 3:
                continue
            seen.add(body)
            options = [line.split(" ", 1)[0] for line in body[4:].split("\n") if line[:1].isdigit()]
            queue.extend([*path, option] for option in options if option not in ("0", "00"))
        assert len(seen) >= 3


@pytest.mark.parametrize(
    "junk",
    ["x", "9", "42", "-1", "1.5", " ", "#", "*", "**", "٣", "😀", "A" * 500, "1" * 500, "%00", "<script>"],
)
def test_unexpected_input_gets_a_polite_reprompt(english_phone, junk):
    body = english_phone.send(junk)
    assert body.startswith("CON Sorry, that is not an option.\nWelcome."), body
    assert fits_ussd(body[4:], 160)


def test_a_notice_on_a_full_page_is_the_short_one(english_phone):
    english_phone.send("6")  # the language menu holds Arabic: an 80-character page, too full for the whole notice
    body = english_phone.send("x")
    assert body.startswith("CON Not an option.\n") and "5 Tagalog" in body and "98" not in body
    assert english_phone.send("0").startswith(f"CON {WELCOME_EN}")


def test_a_repeated_request_gets_the_same_answer(english_phone):
    first = english_phone.send("1")
    assert english_phone.post() == first
    assert english_phone.post() == first
    assert english_phone.send("0").startswith(f"CON {WELCOME_EN}")


def test_rewritten_inputs_are_answered_sanely(english_phone):
    english_phone.send("1")
    body = english_phone.post(text="3*9*9")  # not an extension of "1"
    assert body.startswith("CON Please answer the question on screen.")
    # and the session carries on from there
    english_phone.inputs = ["3", "9", "9", "0"]
    assert english_phone.post().startswith(f"CON {WELCOME_EN}")


def test_several_inputs_at_once_like_a_dial_string(english_phone):
    english_phone.redial()
    body = english_phone.post(text="6*2")  # *384*55*6*2#: language menu, then French
    assert body.startswith("CON Bienvenue")


def test_resume_after_a_dropped_call(english_phone):
    english_phone.send("3")  # alerts branch
    where = english_phone.post()
    offer = english_phone.redial()
    assert offer.startswith("CON Welcome back.") and offer != f"CON {WELCOME_EN}"
    assert english_phone.send("1") == where
    # finishing normally or going home clears the resume point
    english_phone.send("00")
    assert english_phone.redial().startswith(f"CON {WELCOME_EN}")


def test_resume_offer_can_start_again(english_phone):
    english_phone.send("2")
    english_phone.redial()
    assert english_phone.send("2").startswith(f"CON {WELCOME_EN}")


def test_home_with_00(english_phone):
    english_phone.send("5")
    assert english_phone.send("00").startswith(f"CON {WELCOME_EN}")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"phoneNumber": "+254711000001", "text": ""}, "sessionId"),
        ({"sessionId": "s1", "text": ""}, "phoneNumber"),
        ({"sessionId": "s1", "phoneNumber": "not a phone"}, "phoneNumber"),
        ({"sessionId": "x" * 500, "phoneNumber": "+254711000001"}, "sessionId"),
    ],
)
def test_malformed_callbacks_get_a_clear_4xx(client, form, field):
    response = client.post("/ussd", data=form)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert body.startswith("END ") and field in body


def test_a_body_that_is_not_a_form_is_not_a_5xx(client):
    response = client.post("/ussd", data=b"\x00\xff{json: 1}", content_type="application/json")
    assert response.status_code == 400
    huge = client.post("/ussd", data={"sessionId": "s", "phoneNumber": "+254711000001", "text": "1" * 20000})
    assert huge.status_code == 400


def test_only_post_is_allowed_on_callbacks(client):
    for path in ("/ussd", "/ussd/events"):
        assert client.get(path).status_code == 405
        assert client.put(path).status_code == 405


def test_callback_token_guards_callbacks_but_not_health(settings, redis):
    app = create_app(replace(settings, callback_token="s3cret"))
    client = app.test_client()
    form = {"sessionId": "s1", "phoneNumber": "+254711000001", "networkCode": "63902", "text": ""}
    assert client.post("/ussd", data=form).status_code == 403
    assert client.post("/ussd?token=wrong", data=form).status_code == 403
    assert client.post("/ussd?token=s3cret", data=form).status_code == 200
    assert client.post("/ussd/events", data={"sessionId": "s1", "status": "Success"}).status_code == 403
    assert client.post("/ussd/events?token=s3cret", data={"sessionId": "s1", "status": "Success"}).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_redis_down_gets_an_apology_fast(settings):
    app = create_app(replace(settings, redis_url="redis://127.0.0.1:1/0"))
    handset = Phone(app.test_client(), phone="+971501234567")
    started = time.monotonic()
    body = handset.dial()
    # Well under AT's 10-15 s: the bound is loose so a busy CI machine does not fail it; the timeouts (0.25 s to
    # connect, 0.5 s per call, no retries) are what keep it near 0.3 s.
    assert time.monotonic() - started < 3.0
    assert body.startswith("END ") and "عذراً" in body  # an Emirati number: Arabic
    assert app.test_client().get("/healthz").status_code == 503


def test_session_events_are_counted_without_inputs(client, english_phone, redis):
    english_phone.send("3")
    for status in ("Incomplete", "Success", "Bogus"):
        response = client.post("/ussd/events", data={
            "sessionId": english_phone.session_id, "status": status, "input": "3*1234",
            "phoneNumber": english_phone.phone, "durationInMillis": "5000",
        })
        assert response.status_code == 200
    (status_key,) = redis.keys("stats:ussd:*:status")
    assert redis.hgetall(status_key) == {b"Incomplete": b"1", b"Success": b"1", b"Other": b"1"}
    (dropoff_key,) = redis.keys("stats:ussd:*:dropoff")
    assert redis.hgetall(dropoff_key) == {b"alerts.main": b"1"}
    assert leaks(dump(redis), {"3*1234", *number_forms(english_phone.phone)}) == []


def test_metrics_count_requests(client, english_phone):
    english_phone.send("1")
    text = client.get("/metrics").get_data(as_text=True)
    assert "gateway_ussd_requests_total" in text and "gateway_ussd_request_seconds_bucket" in text


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok", "redis": True}


def test_two_web_processes_take_turns_on_one_session(settings, redis):
    """Each process answers from its own copy of the session only while that copy is current; a stale copy
    fails its compare-and-set and the request takes the locked path."""
    first, second = create_app(settings).test_client(), create_app(settings).test_client()
    on_first, on_second = Phone(first), Phone(second)
    on_second.session_id = on_first.session_id
    on_first.dial()
    assert on_first.send("1").startswith(f"CON {WELCOME_EN}")  # first process: language, then welcome
    on_second.inputs = list(on_first.inputs)
    assert on_second.send("3").startswith("CON Alerts")  # second process moves the session on
    on_first.inputs = list(on_second.inputs)
    # The first process's copy still stands on the welcome menu, where 5 is "Language"; on the alerts screen the
    # caller really is on, 5 is not an option.
    assert on_first.send("5").startswith("CON Sorry, that is not an option.\nAlerts")
    on_second.inputs = list(on_first.inputs)
    assert on_second.send("0").startswith(f"CON {WELCOME_EN}")


def test_a_report_in_progress_is_not_offered_on_redial(english_phone):
    english_phone.send("4")  # Report a problem
    english_phone.send("1")  # a category: the next screen asks for free text
    body = english_phone.redial()
    assert body.startswith(f"CON {WELCOME_EN}")  # not "Welcome back": the next person on this phone sees nothing


def test_a_pin_prompt_is_not_offered_on_redial(client, redis, app):
    from gateway.demo import seed

    list(seed(redis, app.extensions["gateway"].settings))
    handset = Phone(client, phone="+254711000001")
    handset.dial()
    handset.send("1", "2", "1")  # English, Money, My balance: the PIN prompt
    assert handset.redial().startswith(f"CON {WELCOME_EN}")


def test_no_key_material_is_kept_in_redis(settings, redis, keyring):
    handset = Phone(create_app(settings).test_client())
    handset.dial()
    handset.send("1")
    assert redis.get("gateway:pepper") is None
    # the session is there, keyed by a pseudonym derived from the secret, and only that
    assert redis.keys("ussd:*") and all(keyring.pseudonym(handset.phone).encode() in k for k in redis.keys("ussd:*"))


def test_a_first_screen_guessed_wrong_by_another_process_is_not_kept(settings, redis):
    """A process proposes a caller's first screen from what it knows (here: nothing, so the language menu); the
    store keeps it only if Redis agrees, so a caller who chose French on another process gets French."""
    first = Phone(create_app(settings).test_client())
    first.dial()
    first.send("2")  # Français
    elsewhere = Phone(create_app(settings).test_client(), phone=first.phone)
    assert elsewhere.dial().startswith("CON Bienvenue")
    assert not redis.keys("ussd:*:lock")  # the proposal path never leaves a lock behind
