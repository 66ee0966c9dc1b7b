"""The ``gateway`` command: check-menus, serve (the real server) and dial (the terminal phone)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.dial import split_code, wrap
from menus.catalog import Catalog
from menus.check import check_all
from menus.engine import Engine
from menus.model import MenuError, MenuSet


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
