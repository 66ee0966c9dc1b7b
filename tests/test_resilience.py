"""Redis failing under a live gateway: hung, killed, restarted. Uses its own redis-server, never the shared one."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from gateway import embedded_redis
from gateway.app import create_app
from tests.conftest import Phone


@pytest.fixture
def own_redis(tmp_path: Path):
    var_dir = tmp_path / "redis"
    url = embedded_redis.ensure_running(var_dir)
    yield var_dir, url
    pid = _pid(var_dir)
    try:
        os.kill(pid, signal.SIGCONT)
    except ProcessLookupError:
        pass
    embedded_redis.stop(var_dir)


def _pid(var_dir: Path) -> int:
    return int((var_dir.resolve() / "redis.pid").read_text())


def timed(handset: Phone, *inputs: str) -> tuple[str, float]:
    started = time.monotonic()
    body = handset.send(*inputs) if inputs else handset.dial()
    return body, time.monotonic() - started


def test_hung_killed_and_restarted_redis(settings, own_redis):
    var_dir, url = own_redis
    app = create_app(replace(settings, redis_url=url))
    handset = Phone(app.test_client())
    handset.dial()
    assert handset.send("1").startswith("CON Welcome")

    os.kill(_pid(var_dir), signal.SIGSTOP)  # hung: connections open, nothing answers
    body, seconds = timed(handset, "3")
    assert body.startswith("END Samahani") and seconds < 3.0  # no session to read: the number says Swahili
    assert app.test_client().get("/healthz").status_code == 503

    os.kill(_pid(var_dir), signal.SIGCONT)
    os.kill(_pid(var_dir), signal.SIGKILL)  # gone: connections refused
    time.sleep(0.1)
    handset.inputs.pop()
    body, seconds = timed(handset, "3")
    assert body.startswith("END Samahani") and seconds < 3.0  # no session to read: the number says Swahili

    embedded_redis.ensure_running(var_dir)  # back, with its AOF
    handset.inputs.pop()
    assert handset.send("3").startswith("CON ")  # the same client reconnects by itself
    assert app.test_client().get("/healthz").status_code == 200
