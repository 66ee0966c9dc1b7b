"""Data at rest and the smaller holes of "safe by default": lifetimes of every record that names a person, the
escalating PIN lockout, the balance provider kept out of jobs and logs, daily caps on single SMS, ASCII codes."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from redis import Redis
from rq import Queue

from gateway.app import create_app
from gateway.config import Settings
from handlers import casework
from handlers.keys import account_key, case_index_key, pin_lockouts_key
from handlers.remittance import accounts
from outbox import keys, subscribers, sweeper
from outbox.apikeys import create_key
from outbox.config import OutboxConfig
from redis_reply import texts
from tests.conftest import TEST_KEYRING
from tests.flows.conftest import fresh, handset
from tests.flows.helpers import queued_args, queued_jobs, queued_sms
from tests.privacy import dump, leaks

KENYAN = "+254711000001"
LANGUAGES = {"1": "Link it again", "2": "Reliez-le", "3": "Iunganishe upya", "4": "اربطه من جديد",
             "5": "I-link ito ulit"}


# -- lifetimes ------------------------------------------------------------------------------------------------

def test_subscriber_records_lapse_and_are_pruned_from_the_audience(redis: Redis) -> None:
    subscribers.subscribe(redis, TEST_KEYRING, KENYAN, country="KE", language="sw", topics=["weather"],
                          source="ussd")
    subscribers.subscribe(redis, TEST_KEYRING, "+254711000002", country="KE", language="sw", topics=["weather"],
                          source="api")
    token = TEST_KEYRING.seal(KENYAN)
    assert 0 < redis.ttl(keys.subscriber(token)) <= subscribers.SUBSCRIBER_TTL_S
    redis.delete(keys.subscriber(token))  # as its lifetime running out would
    assert subscribers.prune_expired(redis) == 1
    assert redis.smembers(keys.audience_set("KE", "sw", "weather")) == {TEST_KEYRING.seal("+254711000002").encode()}
    assert subscribers.count(redis, country="KE") == 1


def test_the_sweeper_queues_the_prune_once_a_day(redis: Redis) -> None:
    config = OutboxConfig(keyring=TEST_KEYRING)
    sweeper.sweep(redis, config, force=True)
    sweeper.sweep(redis, config, force=True)
    jobs = [j for j in Queue("normal", connection=redis).jobs if j.func_name == "outbox.jobs.prune_subscribers"]
    assert len(jobs) == 1 and 0 < redis.ttl(keys.prune_lock()) <= sweeper.PRUNE_EVERY_S


def test_account_links_and_case_indexes_expire(redis: Redis, settings: Settings) -> None:
    accounts.link(redis, TEST_KEYRING, KENYAN, provider="demo", account="demo-ke-0001", pin="1234")
    caller = TEST_KEYRING.pseudonym(KENYAN)
    redis.expire(account_key(caller), 100)
    phone = handset(create_app(settings).test_client(), "KE")
    phone.send("2", "1")
    assert phone.send("1234").startswith("END Your balance")
    assert redis.ttl(account_key(caller)) > accounts.ACCOUNT_TTL_S - 60  # renewed on use
    casework.upsert(redis, casework.REPORT, "s1", {"category": "wages"}, ttl=600, keyring=TEST_KEYRING)
    assert 0 < redis.ttl(case_index_key(casework.REPORT)) <= 600


def test_a_voice_report_keeps_its_recording_url_encrypted(redis: Redis) -> None:
    url = "https://voice.example/recordings/abc123.mp3"
    ref = casework.upsert(redis, casework.REPORT, "v1", {"recording_url": url}, ttl=600, keyring=TEST_KEYRING)
    assert leaks(dump(redis), {url, "abc123"}) == []
    case = casework.get(redis, casework.REPORT, ref, keyring=TEST_KEYRING)
    assert case is not None and case.fields["recording_url"] == url


# -- PIN lockout escalation -----------------------------------------------------------------------------------

@pytest.mark.parametrize("lang_option", sorted(LANGUAGES))
def test_after_the_escalating_lockouts_the_account_must_be_linked_again(settings: Settings, redis: Redis,
                                                                         lang_option: str) -> None:
    accounts.link(redis, TEST_KEYRING, KENYAN, provider="demo", account="demo-ke-0001", pin="1234")
    caller = TEST_KEYRING.pseudonym(KENYAN)
    redis.set(pin_lockouts_key(caller), 2)  # two lockouts already served this month
    phone = handset(create_app(settings).test_client(), "KE", lang_option=lang_option)
    phone.send("2", "1")
    phone.send("0000")
    phone.send("1111")
    assert LANGUAGES[lang_option] in phone.send("2222")
    assert "hash" not in texts(redis.hkeys(account_key(caller)))  # nothing left to test PINs on
    fresh(phone)
    assert LANGUAGES[lang_option] in phone.send("2", "1")  # not even the PIN screen, whatever the PIN
    accounts.link(redis, TEST_KEYRING, KENYAN, provider="demo", account="demo-ke-0001", pin="1234")
    fresh(phone)
    phone.send("2", "1")
    assert "PIN" not in phone.send("1234")  # linked again: the balance


# -- the balance provider stays with the worker --------------------------------------------------------------

def test_the_balance_provider_url_never_reaches_jobs_or_logs(settings: Settings, redis: Redis,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret_url = "http://agency-user:s3cr3t-pass@127.0.0.1:9/balances"
    app = create_app(replace(settings, balance_provider="http", balance_api_url=secret_url, balance_deadline_s=0.1))
    accounts.link(redis, TEST_KEYRING, KENYAN, provider="http", account="acc-1", pin="1234")
    phone = handset(app.test_client(), "KE")
    phone.send("2", "1")
    phone.send("1234")  # the provider fails (nothing listens): said plainly, or promised by SMS
    stored = dump(redis)
    assert leaks(stored, {"s3cr3t-pass", "agency-user"}) == [] and "s3cr3t" not in queued_args(redis)
    assert "s3cr3t" not in caplog.text and "agency-user" not in caplog.text


# -- SMS pumping ------------------------------------------------------------------------------------------------

def test_every_single_sms_shares_one_daily_cap_and_the_screen_says_so(settings: Settings, redis: Redis) -> None:
    capped = replace(settings, sms_per_number_per_day=1)
    phone = handset(create_app(capped).test_client(), "KE")
    assert "SMS" in phone.send("1", "4")  # the help numbers: the one SMS of the day
    fresh(phone)
    body = phone.send("4", "1", "2", "2")  # a report, with a confirmation SMS asked for
    assert body.startswith("END Thank you. Your reference: R-") and "today's SMS limit" in body
    assert len(queued_sms(redis)) == 1
    assert [j.func_name for j in queued_jobs(redis)] == ["outbox.jobs.send_single"]


def test_the_global_cap_holds_for_inbound_confirmations(settings: Settings, redis: Redis) -> None:
    client = create_app(replace(settings, sms_single_per_day=2)).test_client()
    for n in range(4):  # four different senders: a spoofed flood
        client.post("/sms/inbound", data={"from": f"+25471100010{n}", "to": "1", "text": "HELP", "id": f"f{n}"})
    assert len(queued_sms(redis)) == 2


# -- codes ------------------------------------------------------------------------------------------------------

def test_non_ascii_language_codes_are_refused_on_import(settings: Settings, redis: Redis) -> None:
    client = create_app(settings).test_client()
    key, _ = create_key(redis, "agency", ["subscribers"])
    rows = [{"phone": "+254711000003", "country": "KE", "language": lang} for lang in ("éé", "ئا", "sw")]
    answer = client.post("/api/v1/subscribers", headers={"Authorization": f"Bearer {key}"},
                         json={"subscribers": rows}).get_json()
    assert answer["imported"] == 1 and [r["index"] for r in answer["rejected"]] == [0, 1]
    assert texts(redis.smembers(keys.known_languages())) == ["sw"]
