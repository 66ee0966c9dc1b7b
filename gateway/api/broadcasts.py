"""``/api/v1/broadcasts``: create, read, list and cancel, each scoped to the calling agency."""

from __future__ import annotations

from flask import Response, current_app, jsonify
from redis import Redis

from outbox import broadcasts
from outbox.errors import BroadcastError, NotFound

from . import bp, store
from .auth import current_agency, require_scope
from .errors import ApiError
from .idempotency import idempotent
from .validation import int_arg, json_body, timestamp


def _redis() -> Redis:
    return store()


def as_api_error(exc: BroadcastError) -> ApiError:
    """The outbox's refusal as the API's error: 404 for a missing one, 413 too large, 422 otherwise."""
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    status = 413 if exc.code == "too_large" else 422
    return ApiError(status, exc.code, str(exc), field=exc.field)


@bp.post("/broadcasts")
@require_scope("broadcasts")
@idempotent
def create_broadcast() -> tuple[Response, int]:
    body = json_body()
    try:
        request = broadcasts.parse_request(body, send_at=timestamp(body.get("send_at"), "send_at"),
                                           expires_at=timestamp(body.get("expires_at"), "expires_at"))
        view = broadcasts.create(_redis(), current_agency(), request, current_app.extensions["outbox"])
    except BroadcastError as exc:
        raise as_api_error(exc) from None
    return jsonify(view), 202


@bp.get("/broadcasts")
@require_scope("broadcasts")
def list_broadcasts() -> Response:
    limit = int_arg("limit", 20, 1, 100)
    offset = int_arg("offset", 0, 0, 1_000_000)
    items, total = broadcasts.list_for(_redis(), current_agency(), offset=offset, limit=limit)
    next_offset = offset + limit if offset + limit < total else None
    return jsonify(broadcasts=items, total=total, next_offset=next_offset)


@bp.get("/broadcasts/<broadcast_id>")
@require_scope("broadcasts")
def get_broadcast(broadcast_id: str) -> Response:
    try:
        return jsonify(broadcasts.view(_redis(), broadcast_id, current_agency()))
    except NotFound as exc:
        raise as_api_error(exc) from None


@bp.post("/broadcasts/<broadcast_id>/cancel")
@require_scope("broadcasts")
@idempotent
def cancel_broadcast(broadcast_id: str) -> Response:
    try:
        return jsonify(broadcasts.cancel(_redis(), broadcast_id, current_agency()))
    except NotFound as exc:
        raise as_api_error(exc) from None
