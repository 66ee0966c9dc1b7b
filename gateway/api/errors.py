"""JSON errors for the agency API: ``{"error": {"code": "...", "message": "..."}}`` with a fitting status."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, request
from redis.exceptions import RedisError
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/v1"


class ApiError(Exception):
    """Raise from a view to answer with a JSON error. ``field`` (if any) is named in the message."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 details: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = f"{field}: {message}" if field else message
        self.field = field
        #: Every problem found (``field``, ``code``, ``message``), when there were several.
        self.details = details

    def response(self) -> tuple[Response, int]:
        return error_response(self.status, self.code, self.message, self.field, self.details)


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details: list[dict[str, str]] | None = None) -> tuple[Response, int]:
    body: dict[str, object] = {"code": code, "message": message}
    if field:
        body["field"] = field
    if details and len(details) > 1:
        body["details"] = details
    return jsonify(error=body), status


def _api_error(exc: ApiError) -> tuple[Response, int]:
    return exc.response()


def _http_error(exc: HTTPException) -> Response | tuple[Response, int] | HTTPException:
    """Werkzeug's own errors (404, 405, 413, a malformed body) as JSON under /api/v1, untouched elsewhere."""
    if not request.path.startswith(API_PREFIX):
        return exc
    code = (exc.name or "error").lower().replace(" ", "_")
    if exc.code == 413:  # the same code as the API's own size refusals
        return error_response(413, "too_large", "The request body is larger than the API accepts "
                              f"({(current_app.config.get('MAX_CONTENT_LENGTH') or 0) // 1024} KB).")
    return error_response(exc.code or 500, code, exc.description or exc.name or "Error.")


def _redis_down(exc: RedisError) -> Response | tuple[Response, int]:
    """Redis unreachable: 503 (JSON under /api/v1), so clients and AT try again later."""
    if request.path.startswith(API_PREFIX):
        return error_response(503, "unavailable", "The gateway's store is unavailable; try again shortly.")
    return Response("Unavailable", status=503, mimetype="text/plain")


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RedisError, _redis_down)
