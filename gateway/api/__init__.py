"""The agency API (CONTRACT §3): JSON under ``/api/v1``, bearer keys with scopes, idempotent POSTs.

How to add routes (e.g. ``gateway/api/casework.py``)::

    from flask import jsonify
    from . import bp
    from .auth import current_agency, require_scope
    from .errors import ApiError
    from .idempotency import idempotent
    from .validation import query_params, validated

    @bp.post("/tickets")
    @require_scope("reports")      # 401 without a valid key, 403 without the scope
    @idempotent                    # Idempotency-Key support; put it under require_scope
    @query_params()                # the query parameters it reads; any other is a 422 naming it
    def create_ticket():
        body = validated(TicketBody)   # a strict pydantic model (outbox/schema.py): unknown field or wrong
                                       # type -> 422 naming it; bad JSON, nesting > 32, lone surrogate -> 4xx
        agency = current_agency()  # scope every read and write to it
        if body.kind == "x":
            raise ApiError(422, "invalid", "is not allowed", field="kind")   # -> {"error": {...}} 422
        return jsonify(id=...), 201

then add the module to the import line at the bottom of this file. Every error under ``/api/v1`` (including
404, 405, 413 and malformed JSON) is answered as ``{"error": {"code", "message"}}``. Redis is :func:`store`
(the API's own client, with a socket timeout long enough for a million-number audience).
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, make_response, request
from redis import Redis
from redis.exceptions import RedisError

from gateway.redis_client import connect, wait_for_replica

from . import errors

#: Largest request body the app reads: 10,000 subscribers of ~150 bytes, with room to spare (AT's callbacks are
#: a few hundred bytes; CAP keeps its own 512 KB limit).
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Socket timeout of the API's Redis client. The web app's 0.5 s suits USSD, but resolving or counting an
#: audience of a million numbers (one SUNIONSTORE) takes longer, and a timeout then would answer 503 after the
#: work was done.
API_SOCKET_TIMEOUT_S = 30.0
#: Connections of the API's client: the server's threads, each holding at most one.
API_POOL_SIZE = 16
EXTENSION = "agency_api_redis"

bp = Blueprint("api", __name__, url_prefix=errors.API_PREFIX)


def init_app(app: Flask) -> None:
    """Register the blueprint and the JSON error handlers; build the API's Redis client once."""
    errors.init_app(app)
    # Flask's defaults already hold MAX_CONTENT_LENGTH (None, no limit), so setdefault() would do nothing.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    settings = app.config["SETTINGS"]
    app.extensions[EXTENSION] = connect(settings, pool_size=max(API_POOL_SIZE, settings.web_threads),
                                        socket_timeout=API_SOCKET_TIMEOUT_S)
    app.register_blueprint(bp)


@bp.after_request
def _replicated(response: Response) -> Response:
    """Answer a write only once a replica holds it (when the primary has one), so a failover cannot lose what the
    API acknowledged (CONTRACT §5). A replica that does not confirm in time makes it a 503: the write may be
    retried (with the same ``Idempotency-Key``, it acts once and waits again)."""
    if request.method not in ("POST", "PUT", "PATCH", "DELETE") or response.status_code >= 300:
        return response
    try:
        if wait_for_replica(store()):
            return response
    except RedisError:
        pass
    return make_response(errors.error_response(503, "not_replicated", "The write was taken but no replica "
                                               "confirmed it in time; retry (with the same Idempotency-Key)."))


def store() -> Redis:
    """The agency API's Redis client (see :data:`API_SOCKET_TIMEOUT_S`)."""
    client: Redis = current_app.extensions[EXTENSION]
    return client


from . import alerts, broadcasts, casework, registry, subscribers  # noqa: E402,F401  (route modules register on bp)
