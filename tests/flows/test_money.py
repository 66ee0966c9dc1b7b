"""Money: PIN (lockout across sessions), balance with the deadline fallback, cost comparison."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from gateway.app import create_app
from gateway.config import Settings
from handlers.remittance import pins
from handlers.remittance.jobs import send_balance
from handlers.remittance.providers import BalanceReader, DemoProvider, HttpProvider, ProviderError
from identity.keyring import Keyring
from redis_reply import texts
from tests.conftest import TEST_KEYRING, Phone
from tests.flows.conftest import CALLERS, fresh, handset
from tests.flows.helpers import queued_args, queued_jobs


def test_right_pin_shows_balance_in_locale(client: FlaskClient, accounts: None) -> None:
    phone = handset(client, "KE")
    assert "PIN" in phone.send("2", "1")
    assert phone.send("1234") == "END Your balance is KES 12,850.50. For the menu, dial *384*55# again."
    french = handset(client, "KE", lang_option="2")
    french.send("2", "1")
    assert french.send("1234").startswith("END Votre solde est de KES 12 850,50.")


def test_three_wrong_pins_lock_the_number_across_sessions(client: FlaskClient, redis: Redis, accounts: None) -> None:
    phone = handset(client, "KE")
    phone.send("2", "1")
    assert "2 tries left" in phone.send("0000")
    fresh(phone)  # hang up and call again: the count survives
    phone.send("2", "1")
    assert "1 try left" in phone.send("1111")  # a plural per language, not "1 tries"
    fresh(phone)
    phone.send("2", "1")
    body = phone.send("2222")
    assert body.startswith("END Too many wrong PINs") and "30 minutes" in body
    fresh(phone)
    assert phone.send("2", "1").startswith("END Too many wrong PINs")  # even the right PIN is refused now
    locks = [k for k in texts(redis.keys("pin:*")) if k.endswith(":locked")]
    assert len(locks) == 1 and 1790 <= redis.ttl(locks[0]) <= 1800


def test_pin_screen_rejects_non_digits_without_counting(client: FlaskClient, redis: Redis, accounts: None) -> None:
    phone = handset(client, "KE")
    phone.send("2", "1")
    assert "A PIN is 4 digits." in phone.send("12a4")
    assert not redis.keys("pin:*")
    assert phone.send("1234").startswith("END Your balance")


def test_no_account_is_said_plainly(client: FlaskClient) -> None:
    phone = handset(client, "KE")
    assert phone.send("2", "1") == "END No account is linked to this number."


def test_slow_provider_sends_the_balance_by_sms(settings: Settings, redis: Redis, accounts: None) -> None:
    slow = replace(settings, balance_deadline_s=0.2, balance_demo_delay_s=5.0)
    client = create_app(slow).test_client()
    phone = handset(client, "KE")
    phone.send("2", "1")
    started = time.perf_counter()
    body = phone.send("1234")
    assert time.perf_counter() - started < 3.0  # the deadline, not the provider's 5 s
    assert body == "END This is taking longer than usual. We will send your balance by SMS."
    phone.post()  # a repeated request queues nothing more
    jobs = queued_jobs(redis)
    assert [j.func_name for j in jobs] == ["handlers.remittance.jobs.send_balance"]
    assert "1234" not in queued_args(redis)
    job = jobs[0]
    job.cancel()  # run it here rather than in a worker, so the SMS it queues stays queued for the check
    caller, lang = job.args  # no provider URL or spec: the worker builds its own provider
    outbox = client.application.extensions["outbox"]
    assert send_balance(caller, lang, connection=redis, outbox=outbox, provider=DemoProvider()) == "queued"
    sms = queued_jobs(redis)
    assert [j.func_name for j in sms] == ["outbox.jobs.send_single"]
    token, text = sms[0].args  # sealed and encrypted; the worker opens them
    assert TEST_KEYRING.unseal(token) == "+254711000001"
    assert TEST_KEYRING.decrypt(text, context=token) == "Your balance is KES 12,850.50."


def test_cost_comparison_for_the_corridor(client: FlaskClient) -> None:
    phone = handset(client, "AE")  # Kenyan in the UAE
    body = phone.send("2", "2")
    assert "United Arab Emirates to Kenya" in body
    assert body.split("\n")[1] == "Exchange house: USD 8.10 (USD 4.80 + 1.65%)"  # a price on the first page
    pages = [body]
    while "98 More" in pages[-1]:
        pages.append(phone.send("98"))
    lines = [line for page in pages for line in page.split("\n")]
    assert len([line for line in lines if ": USD " in line]) == 3  # the three cheapest, not numbered like options
    assert not [line for line in lines if line[:1].isdigit() and not line.startswith(("98 ", "0 ", "00 "))]
    assert "DEMO" in [line for line in lines if not line[:1].isdigit()][-1]  # the source closes the list


class _SlowBalance(BaseHTTPRequestHandler):
    delay = 0.0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        time.sleep(self.delay)
        body = json.dumps({"amount": "99.50", "currency": "PHP"}).encode()
        self.send_response(200 if "/accounts/acc-1/" in self.path else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def balance_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowBalance)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_provider_template_and_deadline(balance_server: str) -> None:
    provider = HttpProvider(balance_server, timeout_s=2)
    assert str(provider.balance("acc-1").amount) == "99.50"
    with pytest.raises(ProviderError):
        provider.balance("nobody")
    _SlowBalance.delay = 0.5
    try:
        reader = BalanceReader({"kind": "http", "url": balance_server}, deadline_s=0.1)
        future = reader.submit("acc-1")
        with pytest.raises(TimeoutError):
            future.result(timeout=reader.deadline_s)
        assert future.result(timeout=2).currency == "PHP"
    finally:
        _SlowBalance.delay = 0.0


def test_parallel_wrong_pins_get_at_most_three_checks(app: Flask, redis: Redis, accounts: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Sessions from one number racing wrong PINs: the attempt is counted before the ~50 ms hash, so however many
    arrive together, at most three PINs are ever compared; a right PIN typed on a screen opened before the lockout
    is refused too."""
    compared: list[str] = []
    real_matches = pins.matches

    def counting(keyring: Keyring, pin: str, salt: bytes, expected: bytes) -> bool:
        compared.append(pin)
        return real_matches(keyring, pin, salt, expected)

    monkeypatch.setattr(pins, "matches", counting)
    try:
        handset(app.test_client(), "KE")
        phones = []
        for _ in range(11):  # ten guessers, and the owner with the PIN screen open
            phone = Phone(app.test_client(), phone=CALLERS["KE"][0], network=CALLERS["KE"][1])
            fresh(phone)
            assert "PIN" in phone.send("2", "1")
            phones.append(phone)
        guessers, owner = phones[:10], phones[10]
        start = threading.Barrier(len(guessers))
        bodies: list[str] = []

        def guess(phone: Phone, pin: str) -> None:
            start.wait()
            bodies.append(phone.send(pin))

        threads = [threading.Thread(target=guess, args=(p, f"{n:04d}")) for n, p in enumerate(guessers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(bodies) == 10 and len(compared) <= pins.MAX_TRIES
        assert sum(b.startswith("END Too many wrong PINs") for b in bodies) >= 10 - pins.MAX_TRIES + 1
        assert owner.send("1234").startswith("END Too many wrong PINs")  # the right PIN, after the lockout
        assert len(compared) <= pins.MAX_TRIES and "1234" not in compared
    finally:  # the threads opened a connection each; close them rather than leave them to the garbage collector
        app.extensions["gateway"].redis.connection_pool.disconnect()


def test_cost_comparison_at_home_shows_what_relatives_abroad_pay(client: FlaskClient) -> None:
    """A Kenyan in Kenya has no "Kenya to Kenya" corridor: the screen lists the cheapest way in from each country."""
    phone = handset(client, "KE")
    body = phone.send("2", "2")
    assert "Kenya to Kenya" not in body and "Cost of sending you" in body
    pages = [body]
    while "98 More" in pages[-1]:
        pages.append(phone.send("98"))
    text = "\n".join(pages)
    assert "DEMO" in text
    assert "United Arab Emirates: USD " in text and "Saudi Arabia: USD " in text
    assert ": USD " in body.split("\n")[1]  # a price on the first page, the source line last
