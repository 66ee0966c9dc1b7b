"""Callback authentication: Africa's Talking signs nothing (AT-PROTOCOL §6), so when ``CALLBACK_TOKEN`` is set
every callback URL must carry ``?token=<value>``, compared in constant time."""

from __future__ import annotations

import hmac

from flask import Response, current_app, request


def require_callback_token() -> Response | None:
    """A ``before_request`` hook for callback blueprints."""
    token = current_app.extensions["gateway"].settings.callback_token
    if token is None:
        return None
    given = request.args.get("token", "")
    if hmac.compare_digest(given.encode(), token.encode()):
        return None
    return Response("Forbidden", status=403, mimetype="text/plain")
