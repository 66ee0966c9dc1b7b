"""AT's SMS callbacks: inbound keywords, delivery reports, opt-outs, and the callback token."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from rq import Queue

from gateway.app import create_app
from menus.catalog import LOCALE_DIR, Catalog
from menus.gsm import sms_segments
from outbox import inbound, sms, subscribers
from outbox.config import OutboxConfig
from tests.conftest import TEST_KEYRING


def _inbound(client, text, *, sender="+254711000001", id="in-1", query=""):
    form = {"from": sender, "to": "12345", "text": text, "date": "2026-01-01", "id": id, "linkId": "",
            "networkCode": "63902"}
    return client.post("/sms/inbound" + query, data=form)


def test_stop_in_every_language_opts_out_once(client, redis, drain, at_server):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000001", country="KE", language="sw", topics=["weather"],
                          source="ussd")
    assert _inbound(client, "acha").status_code == 200
    assert subscribers.get(redis, TEST_KEYRING, "+254711000001").opted_out
    assert _inbound(client, "acha").status_code == 200  # AT's retry: same id
    assert len(Queue("normal", connection=redis)) == 1  # one confirmation
    drain()
    assert at_server.messages_to("+254711000001") == ["Hutapokea tahadhari tena. Kuzipata tena, tuma JIUNGE."]
    for i, word in enumerate(["STOP", "Arrêt", "توقف", "tigil", "Stop please"]):
        phone = f"+25471100010{i}"
        _inbound(client, word, sender=phone, id=f"x{i}")
        assert subscribers.is_opted_out(redis, TEST_KEYRING, phone), word


def test_start_and_join(client, redis):
    subscribers.opt_out(redis, TEST_KEYRING, "+254711000001")
    _inbound(client, "JOIN UG fr", id="a")
    sub = subscribers.get(redis, TEST_KEYRING, "+254711000001")
    assert not sub.opted_out and sub.countries == {"UG"} and sub.language == "fr"
    _inbound(client, "hello there", id="b", sender="+254711000002")
    assert subscribers.get(redis, TEST_KEYRING, "+254711000002") is None
    _inbound(client, "HELP", id="c", sender="+254711000003")
    assert subscribers.get(redis, TEST_KEYRING, "+254711000003") is None


def test_confirmations_are_rate_limited(settings, redis):
    """Replies to a number's keywords have their own daily allowance (SMS_REPLIES_PER_NUMBER_PER_DAY)."""
    client = create_app(replace(settings, sms_replies_per_number_per_day=5)).test_client()
    for i in range(8):
        _inbound(client, "START" if i % 2 else "HELP", id=f"r{i}")
    assert len(Queue("normal", connection=redis)) == 5


def test_seven_keywords_in_a_day_all_get_replies(client, redis, drain, at_server):
    """The black-box finding (CONTRACT §2): from a number's 6th SMS of the day JOIN subscribed in silence, as
    every SMS counted against SMS_PER_NUMBER_PER_DAY (5). Keyword replies have an allowance of their own, and a
    USSD screen's SMS to that number keeps its own cap untouched."""
    words = ["HELP", "HELP", "START", "HELP", "JOIN Qatar English", "HELP", "JOIN Kenya Kiswahili"]
    for i, word in enumerate(words):
        _inbound(client, word, id=f"k{i}")
    drain()
    replies = at_server.messages_to("+254711000001")
    assert len(replies) == len(words)
    assert replies[-1].startswith("Subscribed: Kenya, Kiswahili."), replies[-1]
    config = client.application.extensions["outbox"]
    assert all(sms.claim(redis, config, "+254711000001") for _ in range(config.sms_per_number_per_day))
    assert not sms.claim(redis, config, "+254711000001")


def test_optout_callback_and_methods(client, redis):
    assert client.post("/sms/optout", data={"senderId": "X", "phoneNumber": "+254711000005"}).status_code == 200
    assert subscribers.is_opted_out(redis, TEST_KEYRING, "+254711000005")
    assert client.post("/sms/optout", data={"phoneNumber": "garbage"}).status_code == 200
    assert client.get("/sms/inbound").status_code == 405
    assert client.post("/sms/delivery", data={"id": "nope", "status": "Success"}).status_code == 200


def test_callback_token_guards_all(settings, redis):
    app = create_app(replace(settings, callback_token="s3cret"))
    client = app.test_client()
    for path in ("/sms/inbound", "/sms/delivery", "/sms/optout"):
        assert client.post(path, data={}).status_code == 403
        assert client.post(path + "?token=s3cret", data={}).status_code == 200


# --- JOIN by names, replies from the catalogs (issue #8 item 8, #12, CONTRACT §2) ---------------------------------

def test_join_qatar_kiswahili_subscribes_qatar_not_kenya(client, redis, drain, at_server):
    """The reported fault: ``JOIN qatar kiswahili`` from a Kenyan number subscribed it to Kenya and said all was
    well. The names are read, the reply names what was taken."""
    _inbound(client, "JOIN qatar kiswahili", id="q1")
    sub = subscribers.get(redis, TEST_KEYRING, "+254711000001")
    assert sub is not None and sub.countries == {"QA"} and sub.language == "sw"
    drain()
    [reply] = at_server.messages_to("+254711000001")
    assert reply.startswith("Subscribed: Qatar, Kiswahili."), reply


@pytest.mark.parametrize(("text", "country", "language"), [
    ("JOIN saudi arabia arabic", "SA", "ar"),
    ("join Saudi Arabia", "SA", None),
    ("JOIN UAE English", "AE", "en"),
    ("JOIN QA sw", "QA", "sw"),
    ("JOIN QAT Kiswahili", "QA", "sw"),
    ("ABONNER Émirats arabes unis français", "AE", "fr"),
    ("abonner jordanie ANGLAIS", "JO", "en"),
    ("JIUNGE Katari Kiswahili", "QA", "sw"),
    ("jiunge Saudia Kiarabu", "SA", "ar"),
    ("اشترك قطر العربية", "QA", "ar"),
    ("انضم الإمارات العربية المتحدة الإنجليزية", "AE", "en"),
    ("SUMALI Pilipinas Tagalog", "PH", "tl"),
    ("sumali Lebanon Filipino", "LB", "tl"),
    ("JOIN Liban", "LB", None),
])
def test_join_reads_country_and_language_names_in_five_languages(client, redis, text, country, language):
    _inbound(client, text, id="n1", sender="+8801712345678")
    sub = subscribers.get(redis, TEST_KEYRING, "+8801712345678")
    assert sub is not None and sub.countries == {country}, (text, sub)
    if language:
        assert sub.language == language


@pytest.mark.parametrize(("text", "asks"), [
    ("JOIN Narnia English", 'We could not read the country "Narnia"'),
    ("JOIN Congo French", '"Congo French" could be Congo - Kinshasa, Congo - Brazzaville'),
    ("JOIN Qatar Klingon", 'We could not read the language "Klingon". Alerts come in English, '),
    ("JOIN Kenya Kikuyu", 'We could not read the language "Kikuyu"'),
])
def test_join_it_cannot_read_asks_again_and_subscribes_nothing(client, redis, drain, at_server, text, asks):
    subscribers.opt_out(redis, TEST_KEYRING, "+254711000001")
    _inbound(client, text, id="u1")
    assert subscribers.get(redis, TEST_KEYRING, "+254711000001") is None
    assert subscribers.is_opted_out(redis, TEST_KEYRING, "+254711000001")  # nothing changed at all
    drain()
    [reply] = at_server.messages_to("+254711000001")
    assert asks in reply and "JOIN" in reply, reply


@pytest.mark.parametrize("lang", ["en", "fr", "sw", "ar", "tl"])
def test_help_names_no_codes_and_its_example_works(client, redis, drain, at_server, lang):
    """The HELP reply asks for a country's and a language's name, never an ISO code; the example it gives,
    sent back as it stands, subscribes."""
    catalog = Catalog.load()
    word = {"en": "HELP", "fr": "AIDE", "sw": "MSAADA", "ar": "مساعدة", "tl": "TULONG"}[lang]
    _inbound(client, word, id="h1", sender="+8801712345678")
    drain()
    [reply] = at_server.messages_to("+8801712345678")
    assert reply == catalog.text(lang, "sms.help")
    assert "ISO" not in reply and "<" not in reply and not re.search(r"\b[A-Z]{2}\b(?!S)", reply.replace("SMS", ""))
    example = re.search(r"(?:e\.g\.|ex\.|mfano|مثال:|hal\.) ([^.]+)\.", reply)
    assert example, reply
    assert inbound.parse(example.group(1), catalog).action == "start"
    _inbound(client, example.group(1), id="h2", sender="+8801712345678")
    sub = subscribers.get(redis, TEST_KEYRING, "+8801712345678")
    assert sub is not None and sub.countries == {"QA"} and sub.language == lang


def test_the_french_restart_word_is_french_and_works(client, redis, drain, at_server):
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000001", country="KE", language="fr", topics=["safety"],
                          source="ussd")
    _inbound(client, "ARRET", id="f1")
    drain()
    [reply] = at_server.messages_to("+254711000001")
    restart = re.search(r"envoyez ([A-Z]+)", reply).group(1)
    assert restart == "REPRENDRE", reply
    _inbound(client, restart.lower(), id="f2")
    assert not subscribers.is_opted_out(redis, TEST_KEYRING, "+254711000001")
    drain()
    assert at_server.messages_to("+254711000001")[-1].startswith("Vos alertes reprennent.")


def test_every_reply_comes_from_the_sms_catalogs():
    """Nothing an SMS reply says is written in code: every ``sms.*`` key is in each language's ``sms/`` file."""
    catalog = Catalog.load()
    sources = sorted((LOCALE_DIR / "sms").glob("*.po"))
    assert {p.stem for p in sources} >= {"en", "fr", "sw", "ar", "tl"}
    for lang in ("en", "fr", "sw", "ar", "tl"):
        keys = {k for k in catalog.messages[lang] if k.startswith("sms.")}
        assert {"sms.keywords.stop", "sms.keywords.start", "sms.keywords.help", "sms.stopped", "sms.joined",
                "sms.help", "sms.join.country_unknown"} <= keys, lang
    source = Path(inbound.__file__).read_text()
    for key, text in catalog.messages["en"].items():
        if key.startswith("sms.") and not key.startswith("sms.keywords."):
            assert text.split(".")[0] not in source, key


def test_a_language_added_by_catalog_files_covers_sms(tmp_path, redis):
    """Hausa added as files only: its keywords are read and its replies sent."""
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    english = (tmp_path / "locale" / "sms" / "en.po").read_text()
    hausa = english.replace('"STOP STOPALL UNSUBSCRIBE (CANCEL) (END) (QUIT)"', '"TSAYA"').replace(
        '"You will get no more alerts. To get them again, send START."', '"Ba za ku sake samun fadakarwa ba."')
    (tmp_path / "locale" / "sms" / "ha.po").write_text(hausa)
    catalog = Catalog.load(tmp_path / "locale")
    assert inbound.parse("Tsaya!", catalog) == ("stop", "ha", ())
    config = OutboxConfig(keyring=TEST_KEYRING, catalog=catalog)
    inbound.handle(redis, config, sender="+2348031234567", text="tsaya", inbound_id="ha1")
    assert subscribers.is_opted_out(redis, TEST_KEYRING, "+2348031234567")


def test_another_action_plugs_in_by_catalog_key_and_route(redis):
    """The seam for CHECK: a ``sms.keywords.<action>`` key anywhere in the catalogs, and a route from the app."""
    base = Catalog.load()
    messages = {lang: dict(table) for lang, table in base.messages.items()}
    messages["en"]["sms.keywords.check"] = "CHECK"
    catalog = Catalog(messages=messages, languages=base.languages)
    seen = []

    def route(message):
        seen.append(message)
        return "Genuine."

    config = OutboxConfig(keyring=TEST_KEYRING, catalog=catalog)
    result = inbound.handle(redis, config, sender="+254711000001", text="check AB12CD", inbound_id="c1",
                            routes={"check": route})
    assert result.action == "check" and seen[0].keyword == ("check", "en", ("AB12CD",))
    assert len(Queue("normal", connection=redis)) == 1
    assert inbound.handle(redis, config, sender="+254711000001", text="check AB12CD", inbound_id="c1",
                          routes={"check": route}).action == "duplicate"
    assert inbound.handle(redis, config, sender="+254711000001", text="check x", inbound_id="c2").action == "ignored"


def test_a_reply_missing_in_one_language_is_a_check_menus_fault(tmp_path):
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    swahili = tmp_path / "locale" / "sms" / "sw.po"
    swahili.write_text(swahili.read_text().replace('msgid "sms.help"', 'msgid "sms.help.old"'))
    faults = Catalog.load(tmp_path / "locale").faults()
    assert "sw.po: 'sms.help' is not translated" in faults


@pytest.mark.parametrize("lang", ["en", "fr", "sw", "tl"])
def test_every_reply_in_a_latin_language_is_one_gsm7_sms(lang):
    """A reply is paid per segment: in GSM-7 languages each is one (160 septets), its names included, and naming
    Arabic does not turn it into UCS-2."""
    catalog = Catalog.load()
    languages = ", ".join(inbound._language_label(catalog, lang, code) for code in catalog.languages)
    for key in (k for k in catalog.messages[lang] if k.startswith("sms.") and not k.startswith("sms.keywords.")):
        text = catalog.text(lang, key, country="Saudi Arabia", language=inbound._language_label(catalog, lang, "ar"),
                            words="x" * inbound.ECHO_CHARS, choices="Congo - Kinshasa, Congo - Brazzaville",
                            languages=languages)
        segments = sms_segments(text)
        assert (segments.encoding, segments.segments) == ("GSM-7", 1), (key, text)
