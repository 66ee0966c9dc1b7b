"""The ``gateway`` command: check-menus, serve (the real server), dial (the terminal phone) and run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from redis import Redis

from gateway import embedded_redis
from gateway.cli import main
from gateway.config import Settings
from gateway.console import users
from gateway.demo import DEMO_EMAIL, DEMO_SUBSCRIBERS, seed
from gateway.dial import split_code, wrap
from menus.catalog import Catalog
from menus.check import check_all
from menus.engine import Engine
from menus.model import MenuError, MenuSet
from outbox import subscribers
from tests.conftest import TEST_KEYRING


def test_check_menus_passes_on_the_shipped_menus():
    result = CliRunner().invoke(main, ["check-menus"])
    assert result.exit_code == 0, result.output
    assert "5 languages" in result.output


def test_check_menus_lists_faults(tmp_path: Path):
    (tmp_path / "welcome.yaml").write_text(
        "menu: welcome\nstart: main\nscreens:\n"
        "  main:\n    text: welcome.title\n    options:\n"
        "      - {label: welcome.help, goto: nowhere}\n"
        "      - {label: no.such.key, action: no_such_handler}\n"
    )
    menus, catalog = MenuSet.load(tmp_path), Catalog.load()
    faults = check_all(menus, catalog, Engine(menus, catalog, {}, 160, services=None), 160)
    assert any("'welcome.nowhere'" in fault for fault in faults)
    assert any("no_such_handler" in fault for fault in faults)
    assert any("'no.such.key' is not in en.po" in fault for fault in faults)


def test_a_tight_budget_is_reported(monkeypatch):
    monkeypatch.setenv("USSD_PAGE_BUDGET", "40")
    result = CliRunner().invoke(main, ["check-menus"])
    assert result.exit_code == 1
    assert "common.unavailable" in result.output


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("menu: Welcome\nscreens: {main: {text: a}}", "lowercase"),
        ("menu: welcome\nscreens: {main: {text: a, bogus: 1}}", "unknown fields"),
        ("menu: welcome\nscreens: {main: {text: a, input: {pattern: '(', goto: main}}}", "does not compile"),
        ("menu: welcome\nscreens: {main: {text: a, input: {secret: true, save_as: pin, goto: main}}}", "secret"),
        ("menu: welcome\nscreens: {main: {text: a, options: [{label: a, goto: main, action: x}]}}", "exactly one"),
    ],
)
def test_malformed_menus_are_refused_with_a_reason(tmp_path: Path, yaml_text: str, message: str):
    (tmp_path / "welcome.yaml").write_text(yaml_text)
    with pytest.raises(MenuError, match=message):
        MenuSet.load(tmp_path)


def test_dial_walks_a_running_gateway(live_server: str):
    result = CliRunner().invoke(
        main, ["dial", "--url", live_server + "/ussd", "--phone", "+639171234567", "--network", "51502"],
        input="1\nx\n",
    )
    assert result.exit_code == 0, result.output
    assert "Piliin ang iyong wika" in result.output  # a Filipino number: Tagalog first
    assert "Welcome. How can we help?" in result.output
    assert "| Sorry, that is not an" in result.output  # wrapped to the handset's width


def test_dial_with_inputs_sends_them_as_a_handset_does(live_server: str):
    """`*384*55*1*2#` reaches the gateway as serviceCode *384*55# with text 1*2: English, then Money, at once."""
    result = CliRunner().invoke(main, ["dial", "--url", live_server + "/ussd", "--width", "20", "*384*55*1*2#"],
                                input="0\n")
    assert result.exit_code == 0, result.output
    assert "Dialling *384*55*1*2#" in result.output
    screens = result.output.split("Reply:")
    assert "| Money " in screens[0] and "My balance" in screens[0], result.output  # no language menu first
    assert "Welcome. How can we" in screens[1], result.output  # `0` went back from Money: text 1*2*0
    drawn = [line for line in result.output.splitlines() if line.startswith(("|", "+"))]
    assert drawn and all(len(line) == 20 + 4 for line in drawn), drawn  # a 20-column screen in its box


@pytest.mark.parametrize(
    ("dialled", "service_code", "inputs"),
    [
        ("*384*55#", "*384*55#", []),
        ("*384*55*1#", "*384*55#", ["1"]),
        ("*384*55*1*2#", "*384*55#", ["1", "2"]),
        (" *384*55*4*3*1# ", "*384*55#", ["4", "3", "1"]),
        ("*384*56*1#", "*384*56*1#", []),  # another service's code: no inputs of ours
        ("*384*55*", "*384*55*", []),  # not a complete code
    ],
)
def test_a_dialled_code_is_split_as_the_network_does(dialled: str, service_code: str, inputs: list[str]):
    assert split_code(dialled) == (service_code, inputs)


@pytest.mark.parametrize(
    ("screen", "lines"),
    [
        ("Welcome. How can we help?\n1 Emergency help", ["Welcome. How can we", "help?", "1 Emergency help"]),
        ("Call +254-20-1234567 now", ["Call +254-20-1234567", "now"]),  # numbers are not cut at their hyphens
        ("Kwa msaada piga simu", ["Kwa msaada piga simu"]),  # exactly 20 columns: one line
        ("A\n\nB", ["A", "", "B"]),
        ("x" * 25, ["x" * 20, "x" * 5]),  # a word longer than the screen is cut, as a handset does
    ],
)
def test_a_screen_wraps_at_a_handsets_width(screen: str, lines: list[str]):
    assert wrap(screen, 20) == lines


def test_a_chunked_ussd_callback_is_read(live_server: str):
    import http.client
    from urllib.parse import urlencode, urlsplit

    parts = urlsplit(live_server)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
    form = urlencode({"sessionId": "chunked1", "phoneNumber": "254711000001", "networkCode": "63902", "text": ""})
    connection.request("POST", "/ussd", body=iter([form.encode()]), encode_chunked=True,
                       headers={"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"})
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    assert response.status == 200
    assert body.startswith("CON ")


# --- gateway run and its demo data -----------------------------------------------------------------------------


def test_seeding_again_keeps_what_callers_and_operators_changed(redis: Redis, settings: Settings):
    """A restart of `gateway run` seeds again: a demo caller's alert language and topics stay as they chose."""
    seeded = list(seed(redis, settings))
    assert any(line.startswith("Console login: " + DEMO_EMAIL) for line in seeded)
    phone = DEMO_SUBSCRIBERS[0][0]
    subscribers.unsubscribe(redis, TEST_KEYRING, phone)
    subscribers.subscribe(redis, TEST_KEYRING, phone, country="QA", language="fr", topics=["safety"], source="ussd")
    again = list(seed(redis, settings))
    found = subscribers.get(redis, TEST_KEYRING, phone)
    assert found is not None
    assert (found.language, found.countries, found.topics) == ("fr", frozenset({"QA"}), frozenset({"safety"}))
    assert again == seeded  # the same logins and PINs, still valid
    password = seeded[-1].split(" password ")[1].split(" ")[0]
    assert users.authenticate(redis, DEMO_EMAIL, password).user is not None


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs: a daemon's zombie, waiting for whoever adopted it to reap it, does not."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ctrl_c_stops_gateway_run_within_3_s(tmp_path: Path):
    """`gateway run` with no Redis configured, in an empty folder: the banner comes last and names what to try;
    SIGINT (Ctrl-C) stops the web server, the worker and the embedded Redis within 3 s and says so."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {
        "REDIS_URL", "TEST_REDIS_URL", "REDIS_SENTINELS", "GATEWAY_SECRET", "CALLBACK_TOKEN", "GATEWAY_VAR_DIR",
        "GATEWAY_DEV", "LOG_LEVEL", "AT_USERNAME", "AT_API_KEY"}}
    env["PORT"] = str(port)
    proc = subprocess.Popen([sys.executable, "-m", "gateway", "run"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while not any(line.startswith("Stop with Ctrl-C") for line in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        time.sleep(1.0)  # nothing is printed after the banner
        output = "".join(lines)
        banner = output[output.rindex("The gateway is running."):]
        assert banner.rstrip().endswith("=" * 78), output
        for expected in ("gateway dial", "PIN 1234", f"http://127.0.0.1:{port}/api/v1",
                         f"http://127.0.0.1:{port}/console/", f"Console login: {DEMO_EMAIL} password"):
            assert expected in banner, banner
        assert "Traceback" not in output and "open to anyone" not in output, output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert response.status == 200
        redis_pid = int((tmp_path / "var" / "redis.pid").read_text())

        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        proc.wait(timeout=10)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:  # the test failed before its SIGINT: stop it all the same way
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()  # its children get SIGTERM from the kernel (PR_SET_PDEATHSIG)
                proc.wait()
        embedded_redis.stop(tmp_path / "var")
        reader.join(5)
        if proc.stdout:
            proc.stdout.close()
    output = "".join(lines)
    assert took < 3.0, (took, output)
    assert proc.returncode == 0, output
    assert "Stopped: web server, outbox worker, embedded Redis." in output
    assert not (tmp_path / "var" / "redis.sock").exists()
    assert not _running(redis_pid), "the embedded redis-server still runs"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)


def test_children_of_a_killed_gateway_run_stop_too():
    """`gateway run` killed outright (SIGKILL, no chance to clean up): the kernel stops its children, so no web
    server is left holding the port."""
    parent = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from gateway.launch import Children\n"
        "children = Children()\n"
        "children.start('sleeper', [sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(children.procs['sleeper'].pid, flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    with parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _running(child)
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 5
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child)


def test_the_banner_names_gateway_as_the_reader_runs_it(tmp_path, monkeypatch):
    """Under `make run` the banner says `.venv/bin/gateway`; installed with pip (on PATH), plain `gateway`."""
    from gateway.launch import banner, command_name

    script = tmp_path / ".venv" / "bin" / "gateway"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert command_name(".venv/bin/gateway") == ".venv/bin/gateway"
    monkeypatch.setenv("PATH", str(script.parent))
    assert command_name(str(script)) == "gateway"
    text = banner(port=8000, token="t", redis_where="var/", demo_lines=[], command="gateway")
    assert "  gateway dial  " in text and ".venv" not in text
