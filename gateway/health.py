"""``/healthz`` for load balancers and ``/metrics`` for Prometheus; neither sits behind ``CALLBACK_TOKEN``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from redis.exceptions import RedisError

from . import metrics

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        current_app.extensions["gateway"].redis.ping()
    except RedisError:
        return jsonify(status="unavailable", redis=False), 503
    return jsonify(status="ok", redis=True), 200


@bp.get("/metrics")
def metrics_view() -> Response:
    body, content_type = metrics.render()
    return Response(body, content_type=content_type)
