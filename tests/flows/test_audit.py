"""Audit: after a PIN flow (a wrong PIN, then the right one, then the SMS fallback) and a report, neither the PIN
nor the report's text is anywhere in the logs, in Redis (keys, values, queued jobs' arguments) outside the one
report record that keeps the text; and no log line holds the full phone number."""

from __future__ import annotations

import logging
import re
from dataclasses import replace

import pytest
from redis import Redis
from rq.job import Job

import redis_reply
from gateway.app import create_app
from gateway.config import Settings
from handlers import casework
from handlers.keys import case_key
from handlers.remittance import accounts
from identity.keyring import Keyring
from tests.conftest import Phone
from tests.flows.conftest import fresh

NUMBER = "+254722000099"
PIN = "7391"
WRONG = "8264"
STORY = "Boss keeps passports at Zephyr Lane 17"


def _token(value: str) -> re.Pattern[str]:
    """``value`` as a whole token: a PIN hidden in a longer hex id is chance, not a leak."""
    return re.compile(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])")


def _dump(redis: Redis) -> dict[str, str]:
    """Every key with its value rendered as text; RQ jobs with their decoded arguments."""
    out: dict[str, str] = {}
    for raw in redis.scan_iter(count=1000):
        key = redis_reply.text(raw)
        kind = redis_reply.text(redis.type(raw))
        if kind == "string":
            value = repr(redis.get(raw))
        elif kind == "hash":
            value = repr(redis.hgetall(raw))
        elif kind == "list":
            value = repr(redis.lrange(raw, 0, -1))
        elif kind == "set":
            value = repr(redis.smembers(raw))
        elif kind == "zset":
            value = repr(redis.zrange(raw, 0, -1, withscores=True))
        elif kind == "stream":
            value = repr(redis.xrange(raw))
        else:
            value = ""
        if key.startswith("rq:job:") and kind == "hash" and key.count(":") == 2:
            job = Job.fetch(key.split(":")[2], connection=redis)
            value += f" args={job.args!r} kwargs={job.kwargs!r} description={job.description!r}"
        out[key] = f"{key} {value}"
    return out


@pytest.mark.parametrize("lang_option", ["1", "4"])  # English and Arabic
def test_no_pin_report_text_or_number_leaks(settings: Settings, redis: Redis, caplog: pytest.LogCaptureFixture,
                                            lang_option: str, keyring: Keyring) -> None:
    caplog.set_level(logging.DEBUG)
    accounts.link(redis, keyring.pseudonym(NUMBER), provider="demo", account="demo-ke-0001", pin=PIN,
                  phone=NUMBER)
    fast = create_app(settings).test_client()
    slow = create_app(replace(settings, balance_deadline_s=0.1, balance_demo_delay_s=0.5)).test_client()

    phone = Phone(fast, phone=NUMBER, network="63902")
    phone.dial()
    phone.send(lang_option)
    phone.send("2", "1", WRONG)
    assert phone.send(PIN).startswith("END ")  # the right PIN after a wrong one, in the same session
    slow_phone = Phone(slow, phone=NUMBER, network="63902")
    fresh(slow_phone)
    assert slow_phone.send("2", "1", PIN).startswith("END ")  # the SMS fallback: a job is queued
    fresh(phone)
    assert phone.send("4", "3", "1", STORY, "2").startswith("END ")  # with the confirmation SMS
    phone.post()  # and a repeated request

    refs = [c.ref for c in casework.newest(redis, casework.REPORT)]
    assert len(refs) == 1
    home = case_key(casework.REPORT, refs[0])
    assert STORY in (redis_reply.optional_text(redis.hget(home, "text")) or "")

    logs = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    for secret in (PIN, WRONG):
        assert not _token(secret).search(logs), f"PIN {secret} in the logs"
    assert STORY not in logs and "Zephyr" not in logs
    assert NUMBER not in logs and NUMBER[1:] not in logs

    dump = _dump(redis)
    for key, text in dump.items():
        for secret in (PIN, WRONG):
            assert not _token(secret).search(text), f"PIN {secret} in Redis key {key}"
        if key != home:
            assert "Zephyr" not in text, f"report text in Redis key {key}"
    assert any(k.startswith("rq:job:") for k in dump)  # the audit did see the queued jobs
