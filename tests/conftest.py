"""Shared fixtures: a real Redis, the app, a client, and a scripted phone.

Redis: ``TEST_REDIS_URL`` when set (CI points it at the machine's Redis), else the embedded ``redis-server``
started once for the session in a temporary folder. The database is flushed before every test.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis

from gateway import embedded_redis
from gateway.app import create_app
from gateway.config import Settings
from identity.keyring import Keyring

#: The tests' GATEWAY_SECRET: every app and worker a test builds derives its keys from it, as production does.
TEST_SECRET = "test-secret-" + "0123456789abcdef" * 2
#: Its keyring, for tests that call the stores directly.
TEST_KEYRING = Keyring(TEST_SECRET)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    var_dir = tmp_path_factory.mktemp("embedded-redis")
    yield embedded_redis.ensure_running(var_dir)
    embedded_redis.stop(var_dir)


@pytest.fixture
def redis(redis_url: str) -> Iterator[Redis]:
    connection = Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.close()


@pytest.fixture
def settings(redis: Redis, redis_url: str, tmp_path: Path) -> Settings:
    return replace(Settings.from_env({}), redis_url=redis_url, var_dir=tmp_path / "var", secret=TEST_SECRET)


@pytest.fixture
def keyring() -> Keyring:
    """The keys of the tests' installation (:data:`TEST_SECRET`)."""
    return TEST_KEYRING


@pytest.fixture
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


#: Where `make test` builds the voice prompts (`gateway build-audio`, into ./var/audio of the checkout).
BUILT_AUDIO = Path(__file__).resolve().parents[1] / "var" / "audio"


@pytest.fixture
def serve(redis: Redis, redis_url: str, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Starts ``gateway serve`` as a real process (granian, the production interface) on a free port, with the
    given extra environment; returns its base URL. Every server started is stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra: str) -> str:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        # A development machine: callbacks open, the secret kept under var/ (shared with `gateway seed-demo`).
        # The voice prompts' audio that `make test` built: `serve` only checks it (a fresh folder is built anew).
        env = {**os.environ, "REDIS_URL": redis_url, "GATEWAY_VAR_DIR": str(tmp_path / "var"), "WEB_THREADS": "4",
               "GATEWAY_DEV": "1", "VOICE_AUDIO_DIR": str(BUILT_AUDIO), **extra}
        proc = subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).read()
                return url
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("gateway serve did not come up")
                time.sleep(0.05)

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def live_server(serve: Callable[..., str]) -> str:
    """``gateway serve`` with the default settings; its base URL."""
    return serve()


@dataclass
class Phone:
    """A scripted handset: keeps the session id and the ``*``-joined text the way Africa's Talking does."""

    client: FlaskClient
    phone: str = "+254711000001"
    network: str = "63902"
    service: str = "*384*55#"
    session_id: str = field(default_factory=lambda: "ATUid_" + secrets.token_hex(16))
    inputs: list[str] = field(default_factory=list)
    query: str = ""

    def post(self, text: str | None = None) -> str:
        form = {
            "sessionId": self.session_id,
            "serviceCode": self.service,
            "phoneNumber": self.phone,
            "networkCode": self.network,
            "text": "*".join(self.inputs) if text is None else text,
        }
        response = self.client.post("/ussd" + self.query, data=form)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.mimetype == "text/plain"
        body = response.get_data(as_text=True)
        assert body.startswith(("CON ", "END ")), body
        return body

    def dial(self) -> str:
        self.inputs = []
        return self.post()

    def send(self, *values: str) -> str:
        body = ""
        for value in values:
            self.inputs.append(value)
            body = self.post()
        return body

    def redial(self) -> str:
        """Hang up and dial again: a new session, as after a dropped call."""
        self.session_id = "ATUid_" + secrets.token_hex(16)
        return self.dial()


@pytest.fixture
def phone(client: FlaskClient) -> Phone:
    return Phone(client)


@pytest.fixture
def english_phone(client: FlaskClient) -> Phone:
    """A caller who has already chosen English, standing on the welcome menu."""
    handset = Phone(client)
    handset.dial()
    handset.send("1")
    handset.redial()
    return handset


# --- outbox and agency API (tests/outbox, tests/api) ---------------------------------------------------------


@pytest.fixture
def at_server() -> Iterator[object]:
    """A local AT-compatible SMS API (tests/at_server.py), reached through the real SDK."""
    from tests.at_server import ATServer

    server = ATServer().start()
    yield server
    server.stop()


@pytest.fixture
def outbox_config() -> object:
    from outbox.config import OutboxConfig

    return OutboxConfig(keyring=TEST_KEYRING, batch_size=50, send_rate=100_000, lease_s=30, sweep_interval_s=1,
                        max_attempts=4,
                        retry_base_s=0)


@pytest.fixture
def outbox_runtime() -> Iterator[None]:
    """Restores the outbox's process-wide runtime (``outbox.config.configure``) after a test that sets it."""
    from outbox import config

    saved = config._runtime
    yield
    config._runtime = saved


@pytest.fixture
def provider(at_server: object, outbox_config: object, outbox_runtime: None) -> object:
    """The real SDK pointed at ``at_server``, configured for jobs run in this process (until the test ends)."""
    from outbox.config import configure
    from outbox.provider import AfricasTalkingProvider

    p = AfricasTalkingProvider("testuser", "test-key", api_url=at_server.url, timeout=(1.0, 2.0))  # type: ignore[attr-defined]
    configure(p, outbox_config)  # type: ignore[arg-type]
    return p


@pytest.fixture
def drain(redis: Redis, provider: object) -> object:
    """Run every queued outbox job in-process, emergency first, until the queues are empty."""
    from rq import Queue, SimpleWorker

    from outbox.queues import PRIORITIES

    def run() -> None:
        SimpleWorker([Queue(name, connection=redis) for name in PRIORITIES], connection=redis).work(burst=True)

    return run
