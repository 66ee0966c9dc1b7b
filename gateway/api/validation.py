"""Request parsing helpers that turn bad input into a 400/422 naming the field, never a 5xx."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request

from outbox.broadcasts import EARLIEST_YEAR, LATEST_YEAR, in_range

from .errors import ApiError


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    body = request.get_json(silent=True, force=True)
    if body is None:
        raise ApiError(400, "invalid_json", "The body must be a JSON object (Content-Type: application/json).")
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object, not a list or a value.")
    return body


def timestamp(value: Any, field: str) -> datetime | None:
    """An ISO-8601 timestamp with an offset, or None when absent."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid", "must be an ISO-8601 timestamp string", field=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid", f"{value[:40]!r} is not an ISO-8601 timestamp", field=field) from None
    if parsed.tzinfo is None:
        raise ApiError(422, "invalid", "needs a UTC offset, e.g. 2026-01-01T12:00:00+03:00", field=field)
    if not in_range(parsed):  # else it is stored, then cannot be shown (year 0 or 10000 in UTC)
        raise ApiError(422, "invalid", f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}", field=field)
    return parsed


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid", f"{raw[:20]!r} is not a whole number", field=name) from None
    if not low <= value <= high:
        raise ApiError(400, "invalid", f"must be from {low} to {high}", field=name)
    return value
