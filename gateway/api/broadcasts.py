"""``/api/v1/broadcasts``: create, estimate, read, list and cancel, each scoped to the calling agency."""

from __future__ import annotations

from flask import Response, current_app, jsonify

from outbox import broadcasts
from outbox.errors import BroadcastError, Conflict, NotFound
from outbox.schema import BroadcastBody

from . import bp, store
from .auth import current_agency, require_scope
from .errors import ApiError
from .idempotency import idempotent
from .validation import int_arg, query_params, validated


def as_api_error(exc: BroadcastError) -> ApiError:
    """The outbox's refusal as the API's error: 404 for a missing one, 409 for a state that forbids it, 413 too
    large, 422 otherwise."""
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, exc.code, str(exc))
    status = 413 if exc.code == "too_large" else 422
    return ApiError(status, exc.code, str(exc), field=exc.field)


@bp.post("/broadcasts")
@require_scope("broadcasts")
@idempotent
def create_broadcast() -> tuple[Response, int]:
    request = validated(BroadcastBody).request()
    try:
        view = broadcasts.create(store(), current_agency(), request, current_app.extensions["outbox"])
    except BroadcastError as exc:
        raise as_api_error(exc) from None
    return jsonify(view), 202


@bp.post("/broadcasts/estimate")
@require_scope("broadcasts")
def estimate_broadcast() -> Response:
    """The same body as a broadcast; answers recipients, per-language estimate and cost. Stores and sends
    nothing, so it needs no Idempotency-Key."""
    request = validated(BroadcastBody).request()
    try:
        return jsonify(broadcasts.estimate(store(), current_agency(), request, current_app.extensions["outbox"]))
    except BroadcastError as exc:
        raise as_api_error(exc) from None


@bp.get("/broadcasts")
@require_scope("broadcasts")
@query_params("limit", "offset")
def list_broadcasts() -> Response:
    limit = int_arg("limit", 20, 1, 100)
    offset = int_arg("offset", 0, 0, 1_000_000)
    items, total = broadcasts.list_for(store(), current_agency(), offset=offset, limit=limit)
    next_offset = offset + limit if offset + limit < total else None
    return jsonify(broadcasts=items, total=total, next_offset=next_offset)


@bp.get("/broadcasts/<broadcast_id>")
@require_scope("broadcasts")
def get_broadcast(broadcast_id: str) -> Response:
    try:
        return jsonify(broadcasts.view(store(), broadcast_id, current_agency()))
    except NotFound as exc:
        raise as_api_error(exc) from None


@bp.post("/broadcasts/<broadcast_id>/cancel")
@require_scope("broadcasts")
@idempotent
def cancel_broadcast(broadcast_id: str) -> Response:
    try:
        return jsonify(broadcasts.cancel(store(), broadcast_id, current_agency()))
    except BroadcastError as exc:
        raise as_api_error(exc) from None
