"""``gateway dial``: a feature phone in the terminal, speaking the AT USSD protocol to a running gateway.

Each reply is posted the way Africa's Talking does: the same ``sessionId`` throughout and ``text`` holding every
input so far joined by ``*``. A code dialled with inputs (``*384*55*1*2#``) reaches the gateway as a handset's does:
``serviceCode`` the registered code (``*384*55#``) and ``text`` the rest (``1*2``). The screen is drawn in a box the
width of a handset display (``--width``), wrapped as a handset wraps: at spaces, a word longer than a line cut.
"""

from __future__ import annotations

import secrets
import textwrap
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import click

#: The gateway's own code (README, CONTRACT §1): a dialled code that extends it carries inputs.
SERVICE_CODE = "*384*55#"
SCREEN_WIDTH = 28
TIMEOUT_S = 15  # AT's own application timeout


def split_code(dialled: str, service_code: str = SERVICE_CODE) -> tuple[str, list[str]]:
    """The service code and the inputs of a dialled string, as the network splits them before AT posts them.

    ``*384*55*1*2#`` → (``*384*55#``, [``1``, ``2``]); a code that does not extend ``service_code`` is a service
    code of its own with no inputs."""
    code = dialled.strip()
    stem = service_code.removesuffix("#") + "*"
    if code.startswith(stem) and code.endswith("#") and len(code) > len(stem) + 1:
        return service_code, code[len(stem):-1].split("*")
    return code, []


@dataclass
class Phone:
    url: str
    phone: str
    network_code: str
    service_code: str
    session_id: str = field(default_factory=lambda: "ATUid_" + secrets.token_hex(16))
    inputs: list[str] = field(default_factory=list)
    width: int = SCREEN_WIDTH

    def post(self) -> str:
        form = {
            "sessionId": self.session_id,
            "serviceCode": self.service_code,
            "phoneNumber": self.phone,
            "networkCode": self.network_code,
            "text": "*".join(self.inputs),
        }
        data = urllib.parse.urlencode(form).encode()
        request = urllib.request.Request(self.url, data=data, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.read().decode("utf-8", "replace") or f"END (HTTP {exc.code})"

    def run(self) -> None:
        dialled = self.service_code if not self.inputs else (
            self.service_code.removesuffix("#") + "*" + "*".join(self.inputs) + "#")
        click.echo(f"Dialling {dialled} as {self.phone} on network {self.network_code} ({self.url})")
        while True:
            try:
                body = self.post()
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                raise click.ClickException(f"No answer from {self.url}: {exc}. Is the gateway running?") from None
            ended = not body.startswith("CON ")
            show(body[4:] if body[:4] in ("CON ", "END ") else body, ended, self.width)
            if ended:
                return
            try:
                reply = click.prompt("Reply", default="", show_default=False)
            except (click.Abort, EOFError):
                click.echo("\nCancelled.")
                return
            self.inputs.append(reply.strip())


def wrap(screen: str, width: int = SCREEN_WIDTH) -> list[str]:
    """The lines a handset of ``width`` columns shows: each line of the screen broken at spaces, a word longer
    than the line cut, an empty line kept."""
    return [part for line in screen.split("\n")
            for part in (textwrap.wrap(line, width, break_on_hyphens=False) or [""])]


def show(screen: str, ended: bool, width: int = SCREEN_WIDTH) -> None:
    border = "+" + "-" * (width + 2) + "+"
    click.echo(border)
    for line in wrap(screen, width):
        click.echo(f"| {line:<{width}} |")
    click.echo(border)
    if ended:
        click.echo("(session ended)")
