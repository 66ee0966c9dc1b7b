"""Casework for agencies: call-back tickets and reports, read-only, behind the ``reports`` scope.

``GET /api/v1/tickets`` and ``GET /api/v1/reports`` list newest first (``?limit=`` up to 200, ``?before=`` a
``created_at`` timestamp of the last item seen, for the next page); ``GET /api/v1/tickets/<ref>`` and
``GET /api/v1/reports/<ref>`` return one. Reports carry the caller's masked number only; a ticket's full number
(``phone``) is present while its short contact period lasts (the agency needs it to call back).
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, current_app, jsonify, request

from handlers import casework

from . import bp, store
from .auth import require_scope
from .errors import ApiError
from .validation import query_params

_MAX_LIMIT = 200


def _list(kind: str) -> Response:
    gateway = current_app.extensions["gateway"]
    try:
        limit = int(request.args.get("limit", 50))
    except ValueError:
        raise ApiError(400, "invalid", "must be a whole number", field="limit") from None
    if not 1 <= limit <= _MAX_LIMIT:
        raise ApiError(422, "invalid", f"must be from 1 to {_MAX_LIMIT}", field="limit")
    before = None
    if request.args.get("before"):
        try:
            before = datetime.fromisoformat(request.args["before"]).timestamp()
        except ValueError:
            raise ApiError(400, "invalid", "must be an ISO-8601 timestamp", field="before") from None
    cases = casework.newest(store(), kind, limit=limit, before=before,
                            retention=gateway.settings.report_retention_days * 86400)
    items = [c.to_json() for c in cases]
    if kind == casework.CALLBACK:
        for item in items:
            item.pop("phone", None)  # the full number only on the one ticket an agent opens
    return jsonify(items=items, count=len(items))


def _one(kind: str, ref: str) -> Response:
    case = casework.get(store(), kind, ref.upper())
    if case is None:
        raise ApiError(404, "not_found", f"No {kind} with reference {ref!r} (it may have passed its retention).")
    return jsonify(case.to_json())


@bp.get("/tickets")
@require_scope("reports")
@query_params("limit", "before")
def list_tickets() -> Response:
    return _list(casework.CALLBACK)


@bp.get("/tickets/<ref>")
@require_scope("reports")
def get_ticket(ref: str) -> Response:
    return _one(casework.CALLBACK, ref)


@bp.get("/reports")
@require_scope("reports")
@query_params("limit", "before")
def list_reports() -> Response:
    return _list(casework.REPORT)


@bp.get("/reports/<ref>")
@require_scope("reports")
def get_report(ref: str) -> Response:
    return _one(casework.REPORT, ref)
