"""The "check a message or number" USSD menu (issue #11 items 1, 3, 4): a ref (typed or keyed as digits), a
licence and a number checked on screen in several languages; callers' flags filed as casework that counts only
once an agency has closed it (CONTRACT §6)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from gateway.app import create_app
from menus.gsm import fits_ussd
from outbox import refs
from outbox.apikeys import create_key
from tests.conftest import Phone
from tests.privacy import dump, leaks, number_forms

from .test_refs import CHECKER, _broadcast, _sms

LANGUAGE = {"en": "1", "fr": "2", "sw": "3", "ar": "4", "tl": "5"}
CHECK = "5"  # on the welcome menu
NEXT_YEAR = (datetime.now(UTC).date() + timedelta(days=365)).isoformat()


def _caller(client, lang="en", phone="+254711000077"):
    """A caller on the welcome menu in ``lang`` (chosen on a first call; a caller seen before starts there)."""
    handset = Phone(client, phone=phone)
    if "Kiswahili" in handset.dial():
        handset.send(LANGUAGE[lang])
    return handset


def _screen(body: str) -> str:
    assert fits_ussd(body[4:], 160), body
    return body[4:]


def test_the_check_menu_is_on_the_welcome_menu_in_every_language(client):
    for n, lang in enumerate(LANGUAGE):
        body = _caller(client, lang, phone=f"+25471100007{n}").send(CHECK)
        assert body.startswith("CON ") and [line[:2] for line in _screen(body).split("\n")[-5:-1]] == [
            "1 ", "2 ", "3 ", "4 "], body


def test_check_a_ref_typed_or_keyed(client, redis, key_a):
    ref = _broadcast(client, redis, key_a, {"en": "Clinic open Saturday", "sw": "Kliniki iko wazi Jumamosi"})
    phone = _caller(client)
    assert "Genuine: agency-a sent ref" in _screen(phone.send(CHECK, "1", ref.lower()))
    swahili = _caller(client, "sw", phone="+254711000078")
    body = _screen(swahili.send(CHECK, "1", refs.keyed(ref)))  # a keypad without letters
    assert body.startswith(f"CON Ni halali: agency-a ilituma kumb. {ref}") or f"kumb. {ref}" in body
    assert "Kliniki iko wazi" in body
    assert "si yetu" in _screen(swahili.send("0", "ABCDEFGHJK"))  # back to the prompt, another try


def test_check_a_licence_and_a_number_in_arabic_and_french(client, key_a):
    client.post("/api/v1/registry/recruiters", headers=key_a, json={"recruiters": [
        {"licence": "RA-77", "name": "Doha Staffing", "country": "QA", "valid_until": NEXT_YEAR}]})
    client.post("/api/v1/registry/flagged-numbers", headers=key_a, json={"numbers": [
        {"phone": "+254711000050", "reason": "Fake visa agent"}]})
    arabic = _caller(client, "ar")
    first = _screen(arabic.send(CHECK, "2", "ra77"))
    assert first.startswith(f"مرخّص: RA-77 هو Doha Staffing، قطر، صالح حتى {NEXT_YEAR}.")
    french = _caller(client, "fr", phone="+254711000078")
    body = french.send(CHECK, "3", "0711000050")  # national format, read as a number of the caller's country
    assert "+254711000050 a été signalé" in body and "Fake visa agent" in body
    assert "agency-a" not in body


def test_a_number_that_cannot_be_read_says_so(client):
    body = _caller(client).send(CHECK, "3", "12345678")
    assert "not a phone number we can read" in body
    assert _caller(client, phone="+254711000078").send(CHECK, "3", "abc").startswith("CON Digits only")


def test_the_hourly_limit_counts_ussd_and_sms_together(settings, redis):
    client = create_app(replace(settings, check_per_number_per_hour=2)).test_client()
    _sms(client, "CHECK ABCDEFGHJK", sender="+254711000077")
    phone = _caller(client)
    assert "not one of ours" in phone.send(CHECK, "1", "ABCDEFGHJK")
    assert phone.send("0", "ABCDEFGHJK") == "END Too many checks from your number. Please try again in an hour."


def _flag(client, phone_number, flagged, contact="2", ask="1"):
    caller = _caller(client, phone=phone_number)
    return caller.send(CHECK, "4", flagged, contact, ask)


def test_a_callers_flag_counts_only_once_an_agency_closes_it(client, redis, drain, at_server):
    done = _flag(client, "+254711000077", "+974 5512 3456".replace(" ", ""))
    assert done.startswith("END Thank you. Your report R-")
    case_ref = done.split("report ")[1].split(" ")[0]
    _sms(client, "CHECK +97455123456", id="1")
    drain()
    assert "has not been reported" in at_server.messages_to(CHECKER)[-1]  # waiting for review: not counted
    key, _ = create_key(redis, "agency-ke", scopes=["reports"], countries=["KE"])
    headers = {"Authorization": f"Bearer {key}"}
    report = client.get(f"/api/v1/reports/{case_ref}", headers=headers).json
    assert report["category"] == "flag" and report["flag_contact"] == "sms" and report["flag_ask"] == "money"
    assert "+97455123456" in report["text"]
    # the flagged number and the caller's are in Redis only sealed, encrypted or as pseudonyms
    assert not leaks(dump(redis), number_forms("+97455123456") | number_forms("+254711000077"))
    assert client.patch(f"/api/v1/reports/{case_ref}", headers=headers, json={"status": "closed"}).status_code == 200
    _sms(client, "CHECK +97455123456", id="2")
    drain()
    answer = at_server.messages_to(CHECKER)[-1]
    assert answer.startswith("Warning: +97455123456 has been reported as suspicious. Reports: 1.")
    assert "asked for money" in answer and "agency-ke" not in answer


def test_a_dismissed_flag_never_counts(client, redis, drain, at_server):
    done = _flag(client, "+254711000077", "+97455123456")
    case_ref = done.split("report ")[1].split(" ")[0]
    key, _ = create_key(redis, "agency-ke", scopes=["reports"], countries=["KE"])
    client.patch(f"/api/v1/reports/{case_ref}", headers={"Authorization": f"Bearer {key}"},
                 json={"status": "closed", "note": "Dismissed: the embassy's real number"})
    _sms(client, "CHECK +97455123456")
    drain()
    assert "has not been reported" in at_server.messages_to(CHECKER)[0]


def test_one_callers_flags_are_limited(settings, redis):
    client = create_app(replace(settings, check_flags_per_day=2)).test_client()
    assert _flag(client, "+254711000077", "+97455123456").startswith("END Thank you")
    assert _flag(client, "+254711000077", "+97455123456").startswith("END You reported this number before")
    assert _flag(client, "+254711000077", "+97455123457").startswith("END Thank you")
    assert _flag(client, "+254711000077", "+97455123458").startswith("END You have reported many numbers today")
    assert _flag(client, "+254711000078", "+97455123458").startswith("END Thank you")  # another caller
