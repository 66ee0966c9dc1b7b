"""The web app on granian's native interface (RSGI): ``POST /ussd`` answered on the event loop, the rest by Flask.

Why: under WSGI every request crosses from granian's Rust threads to a Python thread and back, and the server's
own share of a USSD request's CPU was as large as the gateway's (bench/RESULTS.md). Under RSGI a request is a
coroutine on one event loop: a USSD request that needs one Redis round trip (this process's copy of the session,
a replay, a new session's first screen; :meth:`gateway.ussd.UssdService.answer_inline`) is answered right there,
with a blocking call that the loop's thread spends waiting on Redis, which on a busy core is Redis's own work.
Anything that may wait longer (a lock held by another request, a handler, a balance provider) goes to a thread
pool, and so does every other route: Flask's WSGI app, called with an environ built here.

Request bodies are read by the loop, never by a thread, under a deadline: a client that sends half a body holds
only its own connection, never a thread or the loop (``BODY_TIMEOUT_S``).
"""

from __future__ import annotations

import asyncio
import hmac
import io
import logging
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from .ussd import MAX_BODY_BYTES, BadCallback, UssdService, parse_form

log = logging.getLogger(__name__)

#: How long a client may take to send a request's headers (granian reads them, before the app sees the request).
HEADER_READ_TIMEOUT_MS = 5_000
#: How long a client may take to send a USSD callback's body (AT sends a few hundred bytes at once).
USSD_BODY_TIMEOUT_S = 2.0
#: How long any other request may take to send its body (an API import of 10,000 rows is a few MB).
BODY_TIMEOUT_S = 30.0
#: The largest body any route accepts (the API answers 413 above its own, smaller limit).
MAX_OTHER_BODY_BYTES = 8 * 1024 * 1024
#: A USSD request answered on the loop that took longer than this (Redis slow or down: its timeouts are 0.25 s to
#: connect and 0.5 s a call) sends the next ones to the thread pool for ``INLINE_PAUSE_S``, so a failing Redis
#: costs each request its own timeout in a thread, never the loop's time for every request in turn.
SLOW_INLINE_S = 0.1
INLINE_PAUSE_S = 1.0
#: How often overdue body reads are looked for: a deadline is kept to within this.
SWEEP_S = 0.25
_TEXT = [("content-type", "text/plain; charset=utf-8")]
#: What a body too slow, then one too large, is answered.
_USSD_REFUSALS = ((408, "END Bad request: the body was not sent in time"),
                  (400, "END Bad request: the request body is larger than an AT callback can be"))
_REFUSALS = ((408, "Request body not sent in time"), (413, "Request body too large"))


class _TooLarge(Exception):
    pass


class RsgiApp:
    """``granian --interface rsgi`` target: see the module docstring."""

    def __init__(self, wsgi: Callable[..., Iterable[bytes]], ussd: UssdService, callback_token: str | None,
                 threads: int) -> None:
        self.wsgi = wsgi
        self.ussd = ussd
        self.callback_token = callback_token
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="web")
        self._inline_after = 0.0
        self._reading = _Deadlines()

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._reading.watch(loop)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        if scope.path == "/ussd" and scope.method == "POST":
            await self._ussd(scope, protocol)
        else:
            await self._flask(scope, protocol)

    # -- POST /ussd -------------------------------------------------------------------------------------------

    async def _ussd(self, scope: Any, protocol: Any) -> None:
        if self.callback_token is not None and not _token_ok(scope.query_string, self.callback_token):
            protocol.response_str(403, _TEXT, "END Forbidden")
            return
        body = await self._read(scope, protocol, MAX_BODY_BYTES, USSD_BODY_TIMEOUT_S, _USSD_REFUSALS)
        if body is None:
            return
        form = parse_form(body.decode("utf-8", "replace"))
        try:
            started = time.monotonic()
            if started >= self._inline_after:
                answered = self.ussd.answer_inline(form)
                if time.monotonic() - started > SLOW_INLINE_S:
                    self._inline_after = time.monotonic() + INLINE_PAUSE_S
            else:
                answered = partial(self.ussd.answer, form)
            if not isinstance(answered, str):
                answered = await self.loop.run_in_executor(self.pool, answered)
        except BadCallback as exc:
            protocol.response_str(400, _TEXT, f"END Bad request: {exc}")
            return
        protocol.response_str(200, _TEXT, answered)

    # -- everything else: Flask -------------------------------------------------------------------------------

    async def _flask(self, scope: Any, protocol: Any) -> None:
        body = await self._read(scope, protocol, MAX_OTHER_BODY_BYTES, BODY_TIMEOUT_S, _REFUSALS)
        if body is None:
            return
        status, headers, content = await self.loop.run_in_executor(self.pool, self._call_wsgi,
                                                                   _environ(scope, body))
        protocol.response_bytes(status, headers, content)

    async def _read(self, scope: Any, protocol: Any, limit: int, seconds: float,
                    refusals: tuple[tuple[int, str], tuple[int, str]]) -> bytes | None:
        """The whole body, or None once a refusal was answered: the first of ``refusals`` when it took longer than
        ``seconds``, the second when it is larger than ``limit`` bytes."""
        length = scope.headers.get("content-length")
        task = self._reading.start(seconds)
        try:
            if length is not None and length.isdigit() and int(length) > limit:
                raise _TooLarge()
            if length is not None:
                body: bytes = await protocol()
                return body
            chunks, size = [], 0
            async for chunk in protocol:  # chunked: no length announced
                size += len(chunk)
                if size > limit:
                    raise _TooLarge()
                chunks.append(chunk)
            return b"".join(chunks)
        except _TooLarge:
            protocol.response_str(refusals[1][0], _TEXT, refusals[1][1])
        except asyncio.CancelledError:
            if not self._reading.expired(task):
                raise  # cancelled for another reason (the server stopping): not ours to swallow
            protocol.response_str(refusals[0][0], _TEXT, refusals[0][1])
        finally:
            self._reading.done(task)
        return None

    def _call_wsgi(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started[:] = [int(status.split(" ", 1)[0]), headers]

        result = self.wsgi(environ, start_response)
        try:
            content = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started[0], started[1], content


class _Deadlines:
    """Cancels body reads that run past their deadline. One sweep every :data:`SWEEP_S` for all of them:
    ``asyncio.timeout`` per request cost a third of the server's own CPU for a USSD request (bench/RESULTS.md)."""

    def __init__(self) -> None:
        self._pending: dict[asyncio.Task[Any], float] = {}
        self._expired: set[asyncio.Task[Any]] = set()

    def watch(self, loop: asyncio.AbstractEventLoop) -> None:
        def sweep() -> None:
            now = time.monotonic()
            for task, deadline in list(self._pending.items()):
                if deadline < now:
                    self._expired.add(task)
                    task.cancel()
            loop.call_later(SWEEP_S, sweep)

        loop.call_later(SWEEP_S, sweep)

    def start(self, seconds: float) -> asyncio.Task[Any]:
        """Watch the current task: it is cancelled if :meth:`done` is not called within ``seconds``."""
        task = asyncio.current_task()
        assert task is not None
        self._pending[task] = time.monotonic() + seconds
        return task

    def expired(self, task: asyncio.Task[Any]) -> bool:
        """Whether ``task`` was cancelled for running past its deadline."""
        return task in self._expired

    def done(self, task: asyncio.Task[Any]) -> None:
        self._pending.pop(task, None)
        self._expired.discard(task)


def _environ(scope: Any, body: bytes) -> dict[str, Any]:
    host, _, port = (scope.server or "127.0.0.1:80").rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": (scope.client or "").rpartition(":")[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in scope.headers.items():
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            key = "HTTP_" + key
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def _token_ok(query: str, token: str) -> bool:
    given = dict(parse_qsl(query)).get("token", "")
    return hmac.compare_digest(given.encode(), token.encode())


def rsgi_app(app: Any) -> RsgiApp:
    """The RSGI face of a Flask app built by :func:`gateway.app.create_app`."""
    gateway = app.extensions["gateway"]
    return RsgiApp(app.wsgi_app, gateway.ussd, gateway.settings.callback_token, gateway.settings.web_threads)
