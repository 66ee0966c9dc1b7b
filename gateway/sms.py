"""AT's SMS callbacks (CONTRACT §2): delivery reports, inbound messages and bulk opt-outs.

Each view reads AT's form fields, hands them to the outbox and answers 200 at once; nothing here waits on the
provider. All three sit behind ``CALLBACK_TOKEN``. A Redis failure answers 503, so AT tries again later (it
retries inbound messages every minute for 12 hours); the outbox makes those retries act once.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from redis.exceptions import RedisError

from handlers.genuine import keyword
from identity.phones import InvalidNumber, mask, normalise
from outbox import dlr, inbound, subscribers

from .auth import require_callback_token

log = logging.getLogger(__name__)
bp = Blueprint("sms", __name__)
bp.before_request(require_callback_token)

MAX_FIELD = 200


def _field(name: str) -> str:
    return (request.form.get(name) or "")[:MAX_FIELD].strip()


def _ok() -> Response:
    return Response("OK", mimetype="text/plain")


def _unavailable(what: str, exc: RedisError) -> Response:
    log.warning("Could not record %s (%s); AT will retry.", what, type(exc).__name__)
    return Response("Unavailable", status=503, mimetype="text/plain")


@bp.post("/sms/delivery")
def delivery() -> Response:
    message_id, status = _field("id"), _field("status")
    if not message_id or not status:
        return _ok()  # nothing to match; a 4xx would only make AT retry
    try:
        dlr.report(current_app.extensions["gateway"].redis, message_id, status)
    except RedisError as exc:
        return _unavailable("a delivery report", exc)
    return _ok()


@bp.post("/sms/inbound")
def inbound_message() -> Response:
    gateway = current_app.extensions["gateway"]
    try:
        # CHECK first (handlers/genuine): the outbox's keywords may not import handlers.
        checked = keyword.handle(gateway.services, gateway.catalog, sender=_field("from"),
                                 text=(request.form.get("text") or "")[:480], inbound_id=_field("id"))
        if checked is not None:
            return _ok()
        result = inbound.handle(gateway.redis, current_app.extensions["outbox"], sender=_field("from"),
                                text=(request.form.get("text") or "")[:480], inbound_id=_field("id"))
    except RedisError as exc:
        return _unavailable("an inbound SMS", exc)
    if result.action not in ("ignored", "duplicate"):
        log.info("Inbound %s from %s", result.action, mask(_field("from")))
    return _ok()


@bp.post("/sms/optout")
def optout() -> Response:
    try:
        phone = normalise(_field("phoneNumber"))
    except InvalidNumber:
        return _ok()
    try:
        gateway = current_app.extensions["gateway"]
        subscribers.opt_out(gateway.redis, gateway.keyring, phone)
    except RedisError as exc:
        return _unavailable("an opt-out", exc)
    log.info("Opt-out from %s via AT", mask(phone))
    return _ok()
