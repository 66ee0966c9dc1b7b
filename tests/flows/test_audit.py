"""The privacy audit: every flow run once through the contract's doors (USSD, SMS callbacks, the agency API, the
worker), then a full copy of Redis read as a thief holding it alone would (:mod:`tests.privacy`), plus the logs.

Neither a PIN, nor a report's text, nor any full number (E.164, without ``+``, national format) may appear in
either; the pseudonyms and sealed numbers that do appear are keyed: recomputed with another secret they match
nothing, so they cannot be reversed by trying every number. The agency, with the key, still reads what it needs.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from redis import Redis

from gateway.app import create_app
from gateway.config import Settings
from handlers import casework
from handlers.keys import account_key
from handlers.remittance import accounts
from handlers.remittance.jobs import send_balance
from handlers.remittance.providers import DemoProvider
from identity.keyring import Keyring
from outbox.apikeys import create_key
from tests.conftest import TEST_KEYRING, Phone
from tests.flows.conftest import fresh
from tests.flows.helpers import queued_jobs, run_jobs
from tests.privacy import dump, leaks, number_forms

CALLER = "+254722000099"  # PIN, report, help SMS and call-back, alerts by USSD
TEXTER = "+254733000088"  # JOIN then STOP by SMS
IMPORTED = "+639171234599"  # imported by an agency, then reached by a broadcast
PRIVATE = "+254711000077"  # reached by a broadcast to a phones list
NUMBERS = (CALLER, TEXTER, IMPORTED, PRIVATE)
PIN, WRONG = "7391", "8264"
STORY = "Boss keeps passports at Zephyr Lane 17"
OTHER_KEYS = Keyring("a thief's guess at the secret, long enough 0123456789")


def _inbound(client: FlaskClient, text: str, sender: str, message_id: str) -> None:
    form = {"from": sender, "to": "12345", "text": text, "date": "2026-01-01", "id": message_id, "linkId": "",
            "networkCode": "63902"}
    assert client.post("/sms/inbound", data=form).status_code == 200


def _run_every_flow(settings: Settings, redis: Redis, snapshots: list[dict[str, str]]) -> dict[str, str]:
    """Each flow once; Redis is dumped at the points where most is kept (jobs queued, audiences resolved, batches
    cut), since a thief may copy it at any moment. Returns what the agency read back."""
    accounts.link(redis, TEST_KEYRING, CALLER, provider="demo", account="demo-ke-0001", pin=PIN)
    app = create_app(settings)
    client = app.test_client()
    slow = create_app(replace(settings, balance_deadline_s=0.1, balance_demo_delay_s=0.5)).test_client()

    phone = Phone(client, phone=CALLER, network="63902")
    phone.dial()
    phone.send("1")  # English
    phone.send("2", "1", WRONG)
    assert phone.send(PIN).startswith("END ")  # the right PIN after a wrong one
    slow_phone = Phone(slow, phone=CALLER, network="63902")
    fresh(slow_phone)
    assert "by SMS" in slow_phone.send("2", "1", PIN)  # the balance-by-SMS job is queued
    fresh(phone)
    assert phone.send("4", "3", "1", STORY, "2").startswith("END ")  # a report with its text and an SMS
    phone.post()  # a repeated request
    fresh(phone)
    assert "SMS" in phone.send("1", "4")  # help numbers by SMS
    fresh(phone)
    assert "C-" in phone.send("1", "5", "2")  # a call-back request
    fresh(phone)
    assert phone.send("3", "1", "1").startswith("END ")  # alerts for this country
    _inbound(client, "JOIN KE sw", TEXTER, "in-1")
    snapshots.append(dump(redis))  # USSD and SMS done: every single-SMS job queued

    (balance_job,) = [j for j in queued_jobs(redis) if j.func_name.endswith("send_balance")]
    balance_job.cancel()  # the worker's part, run here with the worker's own provider
    assert send_balance(*balance_job.args, connection=redis, outbox=app.extensions["outbox"],
                        provider=DemoProvider()) == "queued"
    _inbound(client, "STOP", TEXTER, "in-2")

    agency = {"Authorization": f"Bearer {create_key(redis, 'audit-agency', ['subscribers', 'broadcasts'])[0]}"}
    rows = [{"phone": IMPORTED, "country": "PH", "language": "tl"}]
    assert client.post("/api/v1/subscribers", headers=agency, json={"subscribers": rows}).status_code == 200
    for audience in ({"countries": ["PH", "KE"]}, {"phones": [PRIVATE, CALLER]}):
        response = client.post("/api/v1/broadcasts", headers=agency,
                               json={"message": {"en": "Stay indoors tonight"}, "audience": audience})
        assert response.status_code == 202, response.get_json()
    snapshots.append(dump(redis))  # audiences resolved, fan-outs queued
    return {"reports": _casework(client, redis)}


def _casework(client: FlaskClient, redis: Redis) -> str:
    caseworker = {"Authorization": f"Bearer {create_key(redis, 'audit-caseworker', ['reports'], ['KE'])[0]}"}
    reports = client.get("/api/v1/reports", headers=caseworker).get_json()["items"]  # a Kenyan caller's
    (ticket,) = client.get("/api/v1/tickets", headers=caseworker).get_json()["items"]
    one_ticket = client.get(f"/api/v1/tickets/{ticket['ref']}", headers=caseworker).get_json()
    return repr((reports, one_ticket))


@pytest.mark.slow
def test_a_copy_of_redis_alone_yields_no_number_pin_or_report_text(
        settings: Settings, redis: Redis, caplog: pytest.LogCaptureFixture, provider: object) -> None:
    caplog.set_level(logging.DEBUG)
    snapshots: list[dict[str, str]] = []
    agency_read = _run_every_flow(settings, redis, snapshots)
    run_jobs(redis, only="normal")  # fan-outs cut batches, sends open them for the provider
    snapshots.append(dump(redis))
    assert {"rq:job:", "{aud}:sub:", "{aud}:optout", "money:", "case:report:", "case:callback:"} <= {
        prefix for snapshot in snapshots for key in snapshot for prefix in
        ("rq:job:", "{aud}:sub:", "{aud}:optout", "money:", "case:report:", "case:callback:") if
        key.startswith(prefix)}  # the audit saw every kind of record it is about

    secrets = {PIN, WRONG, STORY, "Zephyr", *(form for number in NUMBERS for form in number_forms(number))}
    everything = {f"{n}:{key}": text for n, snapshot in enumerate(snapshots) for key, text in snapshot.items()}
    assert leaks(everything, secrets) == []
    logs = caplog.text + "\n".join(str(record.args) for record in caplog.records)
    assert leaks(logs, secrets) == []

    # What is there is keyed: another secret recomputes pseudonyms and tokens that appear nowhere.
    whole = "\n".join(everything.values())
    for number in NUMBERS:
        assert OTHER_KEYS.pseudonym(number) not in whole and OTHER_KEYS.seal(number) not in whole
    assert TEST_KEYRING.pseudonym(CALLER) in whole and TEST_KEYRING.seal(CALLER) in whole
    assert hashlib.blake2b(CALLER.encode(), digest_size=16).hexdigest() not in whole

    # The PIN hash does not answer an unkeyed guess, even the right one.
    account = accounts.get(redis, TEST_KEYRING.pseudonym(CALLER))
    assert account is not None and redis.exists(account_key(TEST_KEYRING.pseudonym(CALLER)))
    assert hashlib.scrypt(PIN.encode(), salt=account.salt, n=2**14, r=8, p=1, dklen=32) != account.pin_hash

    # With the key, the agency reads what it needs: the report's text and the number to call back.
    assert STORY in agency_read["reports"] and CALLER in agency_read["reports"]
    (report,) = casework.newest(redis, casework.REPORT, keyring=TEST_KEYRING)
    assert report.fields["text"] == STORY
