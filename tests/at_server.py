"""A local Africa's Talking-compatible SMS API for tests and the benchmark.

It answers ``POST /version1/messaging`` like AT does (HTTP 201, bare ``application/json``, AT's response shape,
one ``messageId`` per recipient), records what it got, and can be told to misbehave: answer 500 or 401, stall
past the client's timeout, or reject chosen numbers with a per-recipient status code.

Run alone (for the benchmark): ``python tests/at_server.py PORT [--latency-ms MS]`` (counts only, keeps no
messages). ``--latency-ms`` (``ATServer(latency_ms=...)`` in a test) makes every request take that long, as a busy
real API does (AT answers a 500-recipient request in about 200 ms); requests are served concurrently, one thread
each. ``GET /stats`` answers what it took so far: requests, recipients, and the epoch of the first and last
request answered (the benchmark's time to the last recipient).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

AUTH_BODY = "The supplied authentication is invalid"
STATUS_NAMES = {101: "Success", 403: "InvalidPhoneNumber", 404: "UnsupportedNumberType", 405: "InsufficientBalance",
                406: "UserInBlacklist", 407: "CouldNotRoute", 409: "DoNotDisturbRejection", 500: "InternalServerError"}


@dataclass
class Sent:
    to: list[str]
    message: str
    message_ids: dict[str, str]


@dataclass
class Behaviour:
    """What the next requests get. ``fail_next`` requests fail with ``fail_status`` (500 or 401) or, with
    ``stall_s``, stall that long before answering."""

    fail_next: int = 0
    fail_status: int = 500
    stall_s: float = 0.0
    rejected: dict[str, int] = field(default_factory=dict)
    #: The provider's latency: every request takes this long before it is answered.
    delay_s: float = 0.0


class ATServer:
    def __init__(self, *, record: bool = True, port: int = 0, latency_ms: float = 0.0) -> None:
        self.record = record
        self.sent: list[Sent] = []
        self.requests = 0
        self.recipients = 0
        self.first_at = self.last_at = 0.0  # epochs of the first and last answered request
        self.behaviour = Behaviour(delay_s=latency_ms / 1000)
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> ATServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def messages_to(self, phone: str) -> list[str]:
        with self.lock:
            return [s.message for s in self.sent if phone in s.to]

    def all_recipients(self) -> list[str]:
        with self.lock:
            return [p for s in self.sent for p in s.to]

    def message_ids(self) -> dict[str, str]:
        """messageId → phone for everything accepted."""
        with self.lock:
            return {mid: phone for s in self.sent for phone, mid in s.message_ids.items()}

    def _answer(self, form: dict[str, list[str]]) -> tuple[int, str, str]:
        with self.lock:
            self.requests += 1
            b = self.behaviour
            failing = b.fail_next > 0
            if failing:
                b.fail_next -= 1
            stall, status, delay = b.stall_s, b.fail_status, b.delay_s
        if failing and stall:
            time.sleep(stall)
        elif failing:
            body = AUTH_BODY if status == 401 else "Internal Server Error"
            return status, "text/plain", body
        if delay:
            time.sleep(delay)
        to = [p for p in form.get("to", [""])[0].split(",") if p]
        message = form.get("message", [""])[0]
        recipients: list[dict[str, object]] = []
        ids: dict[str, str] = {}
        for phone in to:
            code = self.behaviour.rejected.get(phone, 101)
            mid = f"ATXid_{uuid.uuid4().hex}" if code == 101 else "None"
            if code == 101:
                ids[phone] = mid
            recipients.append({"statusCode": code, "number": phone, "status": STATUS_NAMES.get(code, "Failed"),
                               "cost": "KES 0.8000" if code == 101 else "0", "messageId": mid})
        with self.lock:
            self.recipients += len(to)
            self.last_at = time.time()
            self.first_at = self.first_at or self.last_at
            if self.record:
                self.sent.append(Sent(to, message, ids))
        reply = {"SMSMessageData": {"Message": f"Sent to {len(ids)}/{len(to)} Total Cost: KES {0.8 * len(ids):.4f}",
                                   "Recipients": recipients}}
        return 201, "application/json", json.dumps(reply)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                if self.path.rstrip("/") != "/version1/messaging":
                    status, ctype, body = 404, "text/plain", "Not found"
                elif not self.headers.get("apiKey"):
                    status, ctype, body = 401, "text/plain", AUTH_BODY
                else:
                    status, ctype, body = server._answer(form)
                data = body.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                with server.lock:
                    stats = {"requests": server.requests, "recipients": server.recipients,
                             "first_at": server.first_at, "last_at": server.last_at}
                data = json.dumps(stats).encode() if self.path == "/stats" else b"Not found"
                self.send_response(200 if self.path == "/stats" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="A local AT-compatible SMS API (counts only).")
    parser.add_argument("port", type=int)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="How long every request takes.")
    options = parser.parse_args()
    srv = ATServer(record=False, port=options.port, latency_ms=options.latency_ms)
    srv.httpd.request_queue_size = 128
    print(srv.url, flush=True)
    srv.httpd.serve_forever()
