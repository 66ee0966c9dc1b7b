"""Every broadcast SMS ends with the agency's name and the broadcast's public ref; a normal one also says how to
stop, in the subscriber's language, naming where to send STOP; the estimate counts exactly what phones receive
(issue #8 item 7, #11 item 1, CONTRACT §6)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from gateway.app import create_app
from menus.catalog import Catalog
from menus.gsm import sms_segments
from outbox import inbound, refs, subscribers
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING

LANGS = ("en", "fr", "sw", "ar", "tl")


@pytest.fixture
def shortcode_client(settings):
    """The app with SMS_STOP_NUMBER set, as a deployment with a two-way short code has it."""
    return create_app(replace(settings, sms_stop_number="22384")).test_client()


def _subscribe_each_language(redis):
    for n, lang in enumerate(LANGS):
        subscribers.subscribe(redis, TEST_KEYRING, f"+25471100002{n}", country="KE", language=lang,
                              topics=["safety"], source="api")


def test_every_sms_ends_with_agency_ref_and_how_to_stop(shortcode_client, redis, drain, at_server):
    _subscribe_each_language(redis)
    key, _ = create_key(redis, "Kenya Red Cross")
    r = shortcode_client.post("/api/v1/broadcasts", headers={"Authorization": f"Bearer {key}"}, json={
        "message": {"en": "Clinic open Saturday", "sw": "Kliniki iko wazi Jumamosi"},
        "audience": {"countries": ["KE"]}})
    assert r.status_code == 202, r.json
    ref = r.json["ref"]
    assert re.fullmatch(f"[{refs.ALPHABET}]{{{refs.REF_LENGTH}}}", ref)
    drain()
    received = {lang: at_server.messages_to(f"+25471100002{n}")[0] for n, lang in enumerate(LANGS)}
    assert received["en"] == f"Clinic open Saturday\nKenya Red Cross, ref {ref}. Send STOP to 22384 to stop"
    assert received["sw"] == f"Kliniki iko wazi Jumamosi\nKenya Red Cross, kumb. {ref}. Kusitisha, tuma ACHA kwa 22384"
    for lang, sms in received.items():
        body, footer = sms.split("\n")
        assert "Kenya Red Cross" in footer and ref in footer and "22384" in footer
        # the STOP word this language's footer names is one the inbound router takes as STOP
        words = [w for w in re.split(r"[\s,.]+", footer) if inbound.parse(w) and inbound.parse(w)[0] == "stop"]
        assert words, (lang, footer)
        estimate = r.json["estimate"][lang]
        assert (estimate["encoding"], estimate["segments"], estimate["characters"]) == (
            sms_segments(sms).encoding, sms_segments(sms).segments, sms_segments(sms).units), lang


def test_an_emergency_names_agency_and_ref_only(client, redis, key_a, drain, at_server):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000020", country="KE", language="en", topics=["safety"],
                          source="api")
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": "Evacuate now"}, "audience": {"countries": ["KE"]}, "priority": "emergency"})
    drain()
    assert at_server.messages_to("+254711000020") == [f"Evacuate now\nagency-a, ref {r.json['ref']}"]


def test_without_a_short_code_the_footer_says_to_reply(client, redis, key_a, drain, at_server):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000020", country="KE", language="fr", topics=["safety"],
                          source="api")
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"fr": "Clinique ouverte"}, "audience": {"countries": ["KE"]}})
    drain()
    assert at_server.messages_to("+254711000020") == [
        f"Clinique ouverte\nagency-a, réf. {r.json['ref']}. Pour arreter, répondez ARRET"]


def test_the_estimate_counts_the_footer(client, key_a, redis):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000020", country="KE", language="en", topics=["safety"],
                          source="api")
    body = {"message": {"en": "a" * 150}, "audience": {"countries": ["KE"]}}
    quote = client.post("/api/v1/broadcasts/estimate", headers=key_a, json=body).json
    assert quote["estimate"]["en"]["segments"] == 2  # 150 characters fit one SMS; with the footer they do not
    sent = client.post("/api/v1/broadcasts", headers=key_a, json=body).json
    assert sent["estimate"] == quote["estimate"] and sent["cost"] == quote["cost"]


def test_a_ref_names_its_broadcast(client, redis, key_a):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000020", country="KE", language="en", topics=["safety"],
                          source="api")
    r = client.post("/api/v1/broadcasts", headers=key_a, json={
        "message": {"en": "Clinic open"}, "audience": {"countries": ["KE"]}}).json
    found = refs.find(redis, [r["ref"]])
    assert found is not None and found.agency == "agency-a" and found.texts == {"en": "Clinic open"}
    assert client.get(f"/api/v1/broadcasts/{r['id']}", headers=key_a).json["ref"] == r["ref"]


def test_every_language_has_the_footer():
    catalog = Catalog.load()
    for lang in LANGS:
        for key in ("broadcast.footer", "broadcast.footer.stop", "broadcast.footer.stop_reply"):
            assert key in catalog.messages[lang], (lang, key)
