"""``POST /ussd/events``: AT's end-of-session notification, kept as drop-off statistics.

Only counts are kept: sessions by final status, and for sessions that did not finish (``Incomplete``/``Failed``)
the screen the caller was on (found through the caller's pseudonym). The notification's ``input`` (every input,
PINs included) and ``phoneNumber`` are never stored. ``/ussd`` itself is answered before Flask (gateway.ussd);
its route here exists so that other methods get 405.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from redis.exceptions import RedisError

from . import metrics
from .auth import require_callback_token
from .ussd import msisdn

log = logging.getLogger(__name__)
bp = Blueprint("ussd", __name__)
bp.before_request(require_callback_token)

STATS_TTL = 90 * 24 * 3600
_STATUSES = {"Success", "Incomplete", "Failed"}


def stats_keys(day: str) -> tuple[str, str]:
    return f"stats:ussd:{day}:status", f"stats:ussd:{day}:dropoff"


@bp.post("/ussd")
def ussd() -> Response:  # pragma: no cover - the Dispatcher answers POST /ussd before Flask sees it
    return Response("END Unavailable", status=503, mimetype="text/plain")


@bp.post("/ussd/events")
def ussd_events() -> Response:
    status = request.form.get("status", "")
    status = status if status in _STATUSES else "Other"
    session_id = request.form.get("sessionId", "")[:128]
    metrics.USSD_EVENTS.labels(status).inc()
    connection = current_app.extensions["gateway"].redis
    status_key, dropoff_key = stats_keys(datetime.now(UTC).strftime("%Y-%m-%d"))
    try:
        screen = None
        phone = msisdn(request.form.get("phoneNumber"))
        if status in ("Incomplete", "Failed") and session_id and phone:
            screen = current_app.extensions["gateway"].ussd.screen_of(session_id, phone)
        pipe = connection.pipeline(transaction=False)
        pipe.hincrby(status_key, status, 1)
        pipe.expire(status_key, STATS_TTL)
        if screen:
            pipe.hincrby(dropoff_key, screen, 1)
            pipe.expire(dropoff_key, STATS_TTL)
        pipe.execute()
    except RedisError as exc:
        # AT does not document retries for this notification; losing one count is better than a 5xx.
        log.warning("Could not record a USSD session event: %s", type(exc).__name__)
    return Response("OK", mimetype="text/plain")
