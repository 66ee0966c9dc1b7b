"""A local Africa's Talking-compatible Voice API for tests: ``POST {base}/call`` answered as AT does.

It answers with AT's shape (``{"entries": [{"phoneNumber", "status", "sessionId"}], "errorMessage": "None"}``) as
bare ``application/json`` (the SDK parses nothing else), records every call, and can then play AT's side of each
call: post the outbound call's callbacks (answered, then hung up) to the gateway, as AT does when the callee
picks up. Numbers in ``unreachable`` get ``InvalidPhoneNumber``; ``fail_next`` requests get HTTP 500.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

AUTH_BODY = "The supplied authentication is invalid"


@dataclass
class PlacedCall:
    caller_id: str  # the AT number the call is from
    phone: str
    session_id: str


@dataclass
class ATVoiceServer:
    unreachable: set[str] = field(default_factory=set)
    fail_next: int = 0
    calls: list[PlacedCall] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> ATVoiceServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def called(self) -> list[str]:
        with self.lock:
            return [c.phone for c in self.calls]

    def answer_all(self, post: Callable[[dict[str, str]], str], seconds: int = 20) -> list[str]:
        """Play AT's side of every call placed so far: the callee answers (the gateway's XML is returned, one
        per call), then hangs up after ``seconds``. ``post`` sends one form to the gateway's ``/voice``."""
        answers = []
        for call in list(self.calls):
            form = {"isActive": "1", "sessionId": call.session_id, "direction": "Outbound",
                    "callerNumber": call.caller_id, "destinationNumber": call.phone, "callSessionState": "Answered"}
            answers.append(post(form))
            post({**form, "isActive": "0", "durationInSeconds": str(seconds), "status": "Success",
                  "callSessionState": "Completed"})
        return answers

    def _answer(self, form: dict[str, list[str]]) -> tuple[int, str]:
        with self.lock:
            self.requests += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500, "Internal Server Error"
        caller_id = form.get("from", [""])[0]
        entries = []
        for phone in filter(None, form.get("to", [""])[0].split(",")):
            if phone in self.unreachable:
                entries.append({"phoneNumber": phone, "status": "InvalidPhoneNumber", "sessionId": "None"})
                continue
            session_id = f"ATVId_{uuid.uuid4().hex}"
            with self.lock:
                self.calls.append(PlacedCall(caller_id, phone, session_id))
            entries.append({"phoneNumber": phone, "status": "Queued", "sessionId": session_id})
        return 200, json.dumps({"entries": entries, "errorMessage": "None"})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                ctype = "text/plain"
                if self.path.rstrip("/") != "/call":
                    status, body = 404, "Not found"
                elif not self.headers.get("apiKey"):
                    status, body = 401, AUTH_BODY
                else:
                    status, body = server._answer(form)
                    ctype = "application/json" if status == 200 else ctype
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
