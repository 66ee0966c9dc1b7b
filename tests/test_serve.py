"""``gateway serve`` as deployed: granian's native interface, USSD on the event loop, Flask in a thread pool."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode

from redis import Redis

from outbox.apikeys import create_key


def _call(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
          method: str | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _ussd(url: str, session: str, text: str, phone: str = "+254711000001") -> tuple[float, str]:
    form = urlencode({"sessionId": session, "phoneNumber": phone, "networkCode": "63902",
                      "serviceCode": "*384*55#", "text": text}).encode()
    started = time.monotonic()
    status, _, body = _call(url + "/ussd", form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    return time.monotonic() - started, body.decode()


def test_flask_routes_answer_through_the_native_interface(live_server: str, redis: Redis) -> None:
    status, headers, body = _call(live_server + "/healthz")
    assert status == 200 and json.loads(body) == {"redis": True, "status": "ok"}
    assert headers["Content-Type"] == "application/json"
    assert _call(live_server + "/no-such-page")[0] == 404
    assert _call(live_server + "/ussd")[0] == 405
    key, _ = create_key(redis, "agency-a", ["subscribers"])
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    rows = {"subscribers": [{"phone": "+254711000123", "country": "KE", "language": "sw", "topics": ["weather"]}]}
    assert _call(live_server + "/api/v1/subscribers", json.dumps(rows).encode(), {})[0] == 401
    status, _, body = _call(live_server + "/api/v1/subscribers", json.dumps(rows).encode(), auth)
    assert status == 200 and json.loads(body)["imported"] == 1, body
    status, _, body = _call(live_server + "/api/v1/subscribers/count?country=KE&topic=weather", headers=auth)
    assert status == 200 and json.loads(body) == {"count": 1}
    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:  # a body too large is refused unread
        sock.sendall(b"POST /api/v1/subscribers HTTP/1.1\r\nHost: x\r\nContent-Length: 9437184\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 413")


def test_a_slow_handler_holds_no_other_caller(serve: Callable[..., str], redis_url: str, tmp_path: Path) -> None:
    """A balance provider taking 1.5 s keeps its caller waiting (in a thread), and nobody else."""
    url = serve(BALANCE_DEMO_DELAY_MS="1500", BALANCE_DEADLINE_MS="3000")
    env = {**os.environ, "GATEWAY_DEV": "1", "GATEWAY_VAR_DIR": str(tmp_path / "var"), "REDIS_URL": redis_url}
    subprocess.run([sys.executable, "-m", "gateway", "seed-demo"], env=env, check=True, capture_output=True)
    for text in ("", "1", "1*2", "1*2*1"):  # English, Money, My balance: the PIN screen
        _ussd(url, "waiting", text)
    balance: list[str] = []
    waiting = threading.Thread(target=lambda: balance.append(_ussd(url, "waiting", "1*2*1*1234")[1]))
    waiting.start()
    time.sleep(0.2)
    for n, text in enumerate(("", "1", "1*3", "1*3*0")):
        seconds, body = _ussd(url, "meanwhile", text, phone="+254711000009")
        assert seconds < 0.5 and body.startswith("CON "), (n, seconds, body)
    waiting.join(10)
    assert balance and balance[0].startswith("END ") and "12,850.50" in balance[0], balance


def test_a_port_in_use_is_named_in_one_line(redis_url: str, tmp_path: Path) -> None:
    """Another process listening on the port: `serve` and `run` say so in one line (no server traceback)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "REDIS_URL": redis_url, "GATEWAY_VAR_DIR": str(tmp_path), "GATEWAY_DEV": "1",
               "PORT": str(port)}
        for command in (["serve"], ["run"]):
            done = subprocess.run([sys.executable, "-m", "gateway", *command], env=env, capture_output=True,
                                  text=True, timeout=60, cwd=tmp_path)
            assert done.returncode == 1, (command, done.stderr)
            assert f"Cannot listen on 127.0.0.1:{port}" in done.stderr, (command, done.stderr)
            assert "Traceback" not in done.stderr and "panicked" not in done.stderr, (command, done.stderr)
