"""``gateway dial``: a feature phone in the terminal, speaking the AT USSD protocol to a running gateway.

Each reply is posted the way Africa's Talking does: the same ``sessionId`` throughout and ``text`` holding every
input so far joined by ``*``. The screen is drawn in a box the width of a small handset display.
"""

from __future__ import annotations

import secrets
import textwrap
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import click

SCREEN_WIDTH = 28
TIMEOUT_S = 15  # AT's own application timeout


@dataclass
class Phone:
    url: str
    phone: str
    network_code: str
    service_code: str
    session_id: str = field(default_factory=lambda: "ATUid_" + secrets.token_hex(16))
    inputs: list[str] = field(default_factory=list)

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
        click.echo(f"Dialling {self.service_code} as {self.phone} on network {self.network_code} ({self.url})")
        while True:
            try:
                body = self.post()
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                raise click.ClickException(f"No answer from {self.url}: {exc}. Is the gateway running?") from None
            ended = not body.startswith("CON ")
            show(body[4:] if body[:4] in ("CON ", "END ") else body, ended)
            if ended:
                return
            try:
                reply = click.prompt("Reply", default="", show_default=False)
            except (click.Abort, EOFError):
                click.echo("\nCancelled.")
                return
            self.inputs.append(reply.strip())


def show(screen: str, ended: bool) -> None:
    lines = [part for line in screen.split("\n") for part in (textwrap.wrap(line, SCREEN_WIDTH) or [""])]
    border = "+" + "-" * (SCREEN_WIDTH + 2) + "+"
    click.echo(border)
    for line in lines:
        click.echo(f"| {line:<{SCREEN_WIDTH}} |")
    click.echo(border)
    if ended:
        click.echo("(session ended)")
