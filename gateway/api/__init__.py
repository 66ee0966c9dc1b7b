"""The agency API (CONTRACT §3): JSON under ``/api/v1``, bearer keys with scopes, idempotent POSTs.

How to add routes (e.g. ``gateway/api/casework.py``)::

    from flask import jsonify
    from . import bp
    from .auth import current_agency, require_scope
    from .errors import ApiError
    from .idempotency import idempotent
    from .validation import json_body

    @bp.post("/tickets")
    @require_scope("reports")      # 401 without a valid key, 403 without the scope
    @idempotent                    # Idempotency-Key support; put it under require_scope
    def create_ticket():
        body = json_body()         # the JSON object, or a 400 naming the problem
        agency = current_agency()  # scope every read and write to it
        if "kind" not in body:
            raise ApiError(422, "invalid", "is required", field="kind")   # -> {"error": {...}} 422
        return jsonify(id=...), 201

then add the module to the import line at the bottom of this file. Every error under ``/api/v1`` (including
404, 405, 413 and malformed JSON) is answered as ``{"error": {"code", "message"}}``. Redis is
``current_app.extensions["gateway"].redis``.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from . import errors

#: Largest request body the API reads: 10,000 subscribers of ~150 bytes, with room to spare.
MAX_BODY_BYTES = 4 * 1024 * 1024

bp = Blueprint("api", __name__, url_prefix=errors.API_PREFIX)


def init_app(app: Flask) -> None:
    """Register the blueprint and the JSON error handlers."""
    errors.init_app(app)
    app.config.setdefault("MAX_CONTENT_LENGTH", MAX_BODY_BYTES)
    app.register_blueprint(bp)


from . import alerts, broadcasts, casework, subscribers  # noqa: E402,F401  (route modules register on bp)
