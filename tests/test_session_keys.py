"""Session ids and the replay cache, through the HTTP face: an id names its own session and nothing else, and an
ended session's last answer (a balance) is kept only while AT may still repeat the request."""

from __future__ import annotations

import time

from flask.testing import FlaskClient
from redis import Redis

from gateway.demo import seed_accounts
from sessions.store import ENDED_TTL_S
from tests.conftest import Phone
from tests.flows.conftest import handset


def test_a_session_id_cannot_address_another_sessions_lock(client: FlaskClient, redis: Redis) -> None:
    """``x:lock`` once named session ``x``'s lock key: its state hash then blocked ``x`` until the apology."""
    first = Phone(client, session_id="x:lock")
    first.dial()
    first.send("1")
    second = Phone(client, session_id="x")
    started = time.monotonic()
    assert second.dial().startswith("CON Welcome.")  # the caller's language is known: the welcome menu
    assert time.monotonic() - started < 1.0
    assert first.send("2").startswith("CON ") and not redis.keys("*:x:lock*")


def test_a_session_id_cannot_read_another_sessions_report(client: FlaskClient) -> None:
    """A session named ``zz:category`` once took session ``zz``'s chosen category as its report reference."""
    first = handset(client, "KE")
    first.session_id = "zz"
    first.dial()
    first.send("4", "1")  # report, first category: kept for session zz
    second = handset(client, "KE")
    second.session_id = "zz:category"
    second.dial()
    second.send("4", "1", "2")  # report, first category, no details
    body = second.send("1")  # no SMS: file it
    assert body.startswith("END ") and "R-" in body, body


def test_any_printable_session_id_is_served(client: FlaskClient) -> None:
    for session_id in ("ATUid_1", "a b", "ü:{x}", "*#%", "x" * 128):
        assert Phone(client, session_id=session_id).dial().startswith("CON ")


def test_a_balance_stays_only_as_long_as_a_repeat_may_come(client: FlaskClient, redis: Redis) -> None:
    list(seed_accounts(redis, client.application.extensions["gateway"].keyring))
    phone = handset(client, "KE")
    phone.send("2", "1")
    shown = phone.send("1234")
    assert shown.startswith("END Your balance")
    assert phone.post() == shown  # AT repeating the request gets the same answer, and no second provider call
    ref = client.application.extensions["gateway"].sessions.ref(phone.session_id)
    (key,) = redis.scan_iter(f"ussd:*:{ref}")
    assert 0 < redis.ttl(key) <= ENDED_TTL_S
    assert ENDED_TTL_S <= 30
