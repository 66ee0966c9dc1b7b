"""No client holds the service: against the real ``gateway serve`` (no reverse proxy in front), sockets that send
half a body neither delay an honest caller nor stay open for long."""

from __future__ import annotations

import http.client
import socket
import time
from urllib.parse import urlencode, urlsplit

from gateway.rsgi import USSD_BODY_TIMEOUT_S

SLOW = 10


def _half_sent(address: tuple[str, int], path: str, content_type: str) -> socket.socket:
    """A request whose headers promise 400 bytes of body, and which sends 20 of them."""
    sock = socket.create_connection(address, timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: 400\r\n\r\n"
                 "sessionId=slow&phone".encode())
    return sock


def _honest(address: tuple[str, int], session: str) -> tuple[float, str]:
    form = urlencode({"sessionId": session, "phoneNumber": "+254711000001", "networkCode": "63902",
                      "serviceCode": "*384*55#", "text": ""})
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        started = time.monotonic()
        connection.request("POST", "/ussd", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
        body = connection.getresponse().read().decode()
        return time.monotonic() - started, body
    finally:
        connection.close()


def test_half_sent_bodies_do_not_delay_an_honest_caller(live_server: str) -> None:
    parts = urlsplit(live_server)
    address = (parts.hostname or "127.0.0.1", parts.port or 80)
    _honest(address, "warm-up")
    slow = [_half_sent(address, "/ussd", "application/x-www-form-urlencoded") for _ in range(SLOW)]
    slow += [_half_sent(address, "/api/v1/subscribers", "application/json") for _ in range(SLOW)]
    try:
        time.sleep(0.3)
        for n in range(5):
            seconds, body = _honest(address, f"honest-{n}")
            assert body.startswith("CON "), body
            assert seconds < 1.0, f"an honest caller waited {seconds:.2f} s behind {len(slow)} slow ones"
        # The slow USSD requests themselves are answered, and their connections closed, soon after the deadline.
        deadline = time.monotonic() + USSD_BODY_TIMEOUT_S + 2
        for sock in slow[:SLOW]:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            answer = sock.recv(1024)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:60]
    finally:
        for sock in slow:
            sock.close()
