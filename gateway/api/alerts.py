"""``POST /api/v1/alerts/cap``: a CAP 1.2 alert in, broadcasts out (see :mod:`outbox.cap`)."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from outbox import cap
from outbox.errors import BroadcastError, CapError

from . import bp, store
from .auth import current_agency, require_scope
from .broadcasts import as_api_error
from .errors import ApiError
from .idempotency import idempotent
from .validation import query_params


def _countries() -> list[str] | None:
    raw = request.args.get("countries")
    if raw is None:
        return None
    codes = [c.strip() for c in raw.split(",") if c.strip()]
    if not codes:
        raise ApiError(400, "invalid", "must be comma-separated ISO 3166-1 codes, e.g. KE,UG", field="countries")
    try:
        return [cap.country_code(c) for c in codes]
    except CapError as exc:
        raise ApiError(400, "invalid", str(exc), field="countries") from None


@bp.post("/alerts/cap")
@require_scope("cap")
@idempotent
@query_params("countries")
def post_cap() -> tuple[Response, int]:
    body = request.get_data(cache=True)
    if len(body) > cap.MAX_CAP_BYTES:
        raise ApiError(413, "too_large", f"A CAP alert may be at most {cap.MAX_CAP_BYTES // 1024} KB.")
    countries = _countries()
    try:
        alert = cap.parse(body)
    except CapError as exc:
        status = 400 if "XML" in str(exc) or "root element" in str(exc) else 422
        raise ApiError(status, "invalid_cap", str(exc)) from None
    try:
        outcome = cap.submit(store(), current_agency(), alert, countries, current_app.extensions["outbox"])
    except CapError as exc:
        raise ApiError(422, "invalid_cap", str(exc)) from None
    except BroadcastError as exc:
        raise as_api_error(exc) from None
    if outcome.skipped:
        return jsonify(broadcasts=outcome.broadcasts, skipped=outcome.skipped), 202
    return jsonify(broadcasts=outcome.broadcasts), 202
