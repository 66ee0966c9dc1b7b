"""Broadcast refs and ``CHECK <ref>`` by SMS (issue #11 item 1, CONTRACT §6): a real broadcast's ref is confirmed
genuine with its agency, date and first words; a made-up one is "not one of ours"; a private broadcast is
confirmed without its words; answers come in the caller's language and within the hourly limit."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from gateway.app import create_app
from handlers.genuine import keyword
from outbox import keys as outbox_keys
from outbox import refs, subscribers
from tests.conftest import TEST_KEYRING

CHECKER = "+254711000099"


def _sms(client, text, *, sender=CHECKER, id="in-1"):
    form = {"from": sender, "to": "22384", "text": text, "date": "2026-01-01", "id": id, "linkId": "",
            "networkCode": "63902"}
    assert client.post("/sms/inbound", data=form).status_code == 200


def _broadcast(client, redis, headers, message, audience=None):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000020", country="KE", language="en", topics=["safety"],
                          source="api")
    r = client.post("/api/v1/broadcasts", headers=headers,
                    json={"message": message, "audience": audience or {"countries": ["KE"]}})
    assert r.status_code == 202, r.json
    return r.json["ref"]


def test_refs_have_no_lookalikes_and_are_long_enough():
    assert refs.REF_LENGTH == 10
    assert not set("01OIL") & set(refs.ALPHABET)
    assert len(refs.ALPHABET) ** refs.REF_LENGTH > 10**14
    assert refs.spelled(" k7m4 q2xp-ab ") == "K7M4Q2XPAB"


def test_check_a_real_ref_by_sms_whatever_its_spelling(client, redis, key_a, drain, at_server):
    ref = _broadcast(client, redis, key_a, {"en": "Clinic open Saturday from nine to five at the church hall near "
                                                  "the market"})
    typed = f"{ref[:5].lower()} {ref[5:]}"
    _sms(client, f"check {typed}")
    drain()
    today = datetime.now(UTC).date().isoformat()
    assert at_server.messages_to(CHECKER) == [
        f"Genuine: agency-a sent ref {ref} on {today}. It begins: Clinic open Saturday from nine to five at"]


def test_a_made_up_ref_is_not_ours(client, redis, key_a, drain, at_server):
    real = _broadcast(client, redis, key_a, {"en": "Clinic open"})
    fake = "".join(sorted(refs.ALPHABET))[: refs.REF_LENGTH]
    assert fake != real
    _sms(client, f"CHECK {fake}")
    drain()
    [answer] = at_server.messages_to(CHECKER)
    assert answer.startswith(f"{fake} is not one of ours: treat the message as suspicious")


def test_a_private_broadcast_is_confirmed_without_its_words(client, redis, key_a, drain, at_server):
    ref = _broadcast(client, redis, key_a, {"en": "Your shelter intake is at 14:00 tomorrow"},
                     audience={"phones": ["+254711000020"]})
    _sms(client, f"CHECK {ref}")
    drain()
    [answer] = at_server.messages_to(CHECKER)
    assert answer.startswith(f"Genuine: agency-a sent ref {ref} on ")
    assert "shelter" not in answer and "14:00" not in answer
    assert b"shelter" not in b"".join(redis.hvals(refs.key(ref)))  # not even kept


@pytest.mark.parametrize(("text", "lang_word"), [("HAKIKI", "si yetu"), ("Vérifier", "ne vient pas de nous"),
                                                 ("تحقق", "ليس من رسائلنا"), ("suriin", "Hindi sa amin")])
def test_the_answer_is_in_the_language_of_the_word(client, drain, at_server, text, lang_word):
    _sms(client, f"{text} ABCDEFGHJK")
    drain()
    [answer] = at_server.messages_to(CHECKER)
    assert lang_word in answer


def test_the_remembered_language_wins(client, redis, drain, at_server):
    subscribers.subscribe(redis, TEST_KEYRING, CHECKER, country="KE", language="sw", topics=["safety"], source="api")
    _sms(client, "CHECK ABCDEFGHJK")
    drain()
    assert "si yetu" in at_server.messages_to(CHECKER)[0]


def test_check_alone_says_how(client, drain, at_server):
    _sms(client, "Check")
    drain()
    assert at_server.messages_to(CHECKER)[0].startswith("Send CHECK and the ref")


def test_a_retried_inbound_answers_once(client, redis, drain, at_server):
    _sms(client, "CHECK ABCDEFGHJK", id="same")
    _sms(client, "CHECK ABCDEFGHJK", id="same")
    drain()
    assert len(at_server.messages_to(CHECKER)) == 1


def test_over_the_hourly_limit_a_short_reply_and_no_lookup(settings, redis, key_a, drain, at_server):
    client = create_app(replace(settings, check_per_number_per_hour=3)).test_client()
    ref = _broadcast(client, redis, key_a, {"en": "Clinic open"})
    for n in range(3):
        _sms(client, "CHECK ABCDEFGHJK", id=f"n{n}")
    _sms(client, f"CHECK {ref}", id="over-1")  # a real ref now would tell a guesser it is real: not looked up
    _sms(client, f"CHECK {ref}", id="over-2")  # told once per window
    drain()
    answers = at_server.messages_to(CHECKER)
    assert len(answers) == 4
    assert answers[-1] == "Too many checks from your number. Please try again in an hour."
    assert not any(ref in a for a in answers)
    assert 3550 < redis.ttl(f"genuine:{{{TEST_KEYRING.pseudonym(CHECKER)}}}:checks") <= 3600


def test_other_keywords_are_left_to_the_outbox():
    assert keyword.parse("STOP") is None and keyword.parse("checklist please") is None
    assert keyword.parse("  Check!  +254 711 000 001") == ("en", "+254 711 000 001")
    assert keyword.parse("تأكد 123") == ("ar", "123")
    assert re.fullmatch(r"[A-Z]+", keyword._fold("Vérifier"))


def test_checks_have_their_own_per_number_cap(client, redis, drain, at_server):
    """The day's cap of single SMS per number (5) does not cut the hourly checks short; the installation's does."""
    for n in range(5):
        _sms(client, "STOP" if n % 2 else "START", id=f"k{n}")
    _sms(client, "CHECK ABCDEFGHJK", id="c1")
    drain()
    assert len(at_server.messages_to(CHECKER)) == 6
    redis.set(outbox_keys.single_count("all", f"{datetime.now(UTC):%Y%m%d}"), 10**9)  # the installation's cap
    _sms(client, "CHECK ABCDEFGHJK", id="c2")
    drain()
    assert len(at_server.messages_to(CHECKER)) == 6
