"""``/api/v1/subscribers``: bulk import and counts."""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from identity.codes import country_code, language_code
from outbox import subscribers
from outbox.schema import SubscriberImport

from . import bp, store
from .auth import require_scope
from .errors import ApiError
from .idempotency import idempotent
from .validation import query_params, validated


@bp.post("/subscribers")
@require_scope("subscribers")
@idempotent
def import_subscribers() -> Response:
    body = validated(SubscriberImport)
    rows = [row.model_dump(exclude_none=True) for row in body.subscribers]
    result = subscribers.import_many(store(), current_app.extensions["gateway"].keyring, rows, source="api")
    return jsonify(imported=result.imported, rejected=result.rejected)


@bp.get("/subscribers/count")
@require_scope("subscribers")
@query_params("country", "language", "topic")
def count_subscribers() -> Response:
    raw_country, raw_language = request.args.get("country"), request.args.get("language")
    topic = (request.args.get("topic") or "").strip().lower() or None
    country = country_code(raw_country, alpha3=False) if raw_country else None
    language = language_code(raw_language) if raw_language else None
    if raw_country and country is None:
        raise ApiError(400, "invalid", "must be an ISO 3166-1 alpha-2 code", field="country")
    if raw_language and language is None:
        raise ApiError(400, "invalid", "must be a 2- or 3-letter code", field="language")
    if topic is not None and topic not in subscribers.TOPICS:
        raise ApiError(400, "invalid", f"must be one of {', '.join(subscribers.TOPICS)}", field="topic")
    n = subscribers.count(store(), country=country, language=language, topic=topic)
    return jsonify(count=n)
