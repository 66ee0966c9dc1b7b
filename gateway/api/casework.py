"""Casework for agencies: call-back tickets and reports, behind the ``reports`` scope, routed by country.

An agency sees the cases of callers whose host or home country its key names (``gateway apikey create NAME
--countries KE,UG``); any other case is 404, as if it did not exist. The rules live in :mod:`handlers.casework`,
which the console calls too.

``GET /api/v1/tickets`` and ``GET /api/v1/reports`` list newest first (``?limit=`` up to 200, ``?before=`` a
``created_at`` timestamp of the last item seen, for the next page); ``GET /api/v1/tickets/<ref>`` and
``GET /api/v1/reports/<ref>`` return one with its history. Reports carry the caller's masked number only; a
ticket's full number (``phone``) is present while its short contact period lasts (the agency needs it to call
back). ``PATCH`` with ``{"status": "open" | "in_progress" | "closed", "note": "…"}`` moves a case along the
workflow (409 for a transition it does not allow) and keeps who did it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from flask import Response, current_app, jsonify, request
from pydantic import Field, model_validator

from handlers import casework
from outbox.schema import Strict

from . import bp, store
from .auth import current_key, require_scope
from .errors import ApiError
from .idempotency import idempotent
from .validation import query_params, validated

if TYPE_CHECKING:
    from gateway.app import Gateway

_MAX_LIMIT = 200


class CasePatch(Strict):
    """``PATCH /reports/<ref>`` and ``/tickets/<ref>``: a new status, a note, or both."""

    status: Literal["open", "in_progress", "closed"] | None = None
    note: str | None = Field(None, min_length=1, max_length=casework.MAX_NOTE)

    @model_validator(mode="after")
    def _something(self) -> CasePatch:
        if self.status is None and self.note is None:
            raise ValueError('give "status", "note", or both')
        return self


def _gateway() -> Gateway:
    gateway: Gateway = current_app.extensions["gateway"]
    return gateway


def _list(kind: str) -> Response:
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
    cases = casework.list_for(store(), kind, current_key().countries, keyring=_gateway().keyring, limit=limit,
                              before=before, retention=_gateway().settings.report_retention_days * 86400)
    items = [c.to_json() for c in cases]
    for item in items:
        item.pop("phone", None)  # the full number only on the one ticket an agent opens
    return jsonify(items=items, count=len(items))


def _one(kind: str, ref: str) -> Response:
    try:
        case = casework.get_for(store(), kind, ref.upper(), current_key().countries, keyring=_gateway().keyring)
    except casework.CaseNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    return jsonify({**case.to_json(), "history": casework.history(store(), kind, case.ref, _gateway().keyring)})


def _patch(kind: str, ref: str) -> Response:
    body = validated(CasePatch)
    key = current_key()
    try:
        casework.update(store(), kind, ref.upper(), key.countries, by=f"{key.agency} (API key {key.id})",
                        keyring=_gateway().keyring, status=body.status, note=body.note)
    except casework.CaseNotFound as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    except casework.TransitionRefused as exc:
        raise ApiError(409, "invalid_transition", str(exc), field="status") from None
    return _one(kind, ref)


@bp.get("/tickets")
@require_scope("reports")
@query_params("limit", "before")
def list_tickets() -> Response:
    return _list(casework.CALLBACK)


@bp.get("/tickets/<ref>")
@require_scope("reports")
def get_ticket(ref: str) -> Response:
    return _one(casework.CALLBACK, ref)


@bp.patch("/tickets/<ref>")
@require_scope("reports")
@idempotent
def patch_ticket(ref: str) -> Response:
    return _patch(casework.CALLBACK, ref)


@bp.get("/reports")
@require_scope("reports")
@query_params("limit", "before")
def list_reports() -> Response:
    return _list(casework.REPORT)


@bp.get("/reports/<ref>")
@require_scope("reports")
def get_report(ref: str) -> Response:
    return _one(casework.REPORT, ref)


@bp.patch("/reports/<ref>")
@require_scope("reports")
@idempotent
def patch_report(ref: str) -> Response:
    return _patch(casework.REPORT, ref)
