"""``Idempotency-Key`` on POSTs (CONTRACT §3): a retry with the same key, agency and body gets the first
answer and acts once; the same key with another body gets 409.

The first request claims the key with ``SET NX`` before acting, so two concurrent retries cannot both act: the
second sees the claim and gets 409 ``in_progress`` until the first has stored its answer. The claim itself lasts
only :data:`CLAIM_TTL_S`, so a request that died without releasing it (its clean-up failed too) locks the key for
a minute, not a day; the stored answer is kept 24 h.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, make_response, request

from outbox import keys

from . import store
from .auth import current_agency
from .errors import ApiError

IDEMPOTENCY_TTL_S = 24 * 3600
#: Longest a request may hold a key before answering (a million-number broadcast resolves in seconds).
CLAIM_TTL_S = 60
MAX_KEY_LENGTH = 200


def idempotent(view: Callable[..., Any]) -> Callable[..., Response]:
    """Decorate a POST view (below ``require_scope``) to honour ``Idempotency-Key``."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return make_response(view(*args, **kwargs))
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApiError(400, "invalid", f"must be 1-{MAX_KEY_LENGTH} characters", field="Idempotency-Key")
        connection = store()
        # Keyed: the body may hold phone numbers, and an unkeyed hash of it could be tested against guesses.
        digest = current_app.extensions["gateway"].keyring.digest(
            "idempotency", request.method.encode() + request.full_path.encode() + request.get_data())
        redis_key = keys.idempotency(current_agency(), hashlib.sha256(key.encode()).hexdigest())
        claimed = connection.set(redis_key, json.dumps({"h": digest}), nx=True, ex=CLAIM_TTL_S)
        if not claimed:
            return _replay(connection.get(redis_key), digest)
        try:
            response = make_response(view(*args, **kwargs))
        except ApiError as exc:
            response = make_response(exc.response())
        except BaseException:
            connection.delete(redis_key)
            raise
        connection.set(redis_key, json.dumps({
            "h": digest, "status": response.status_code, "body": response.get_data(as_text=True),
            "type": response.content_type,
        }), ex=IDEMPOTENCY_TTL_S)
        return response

    return wrapped


def _replay(raw: bytes | str | None, digest: str) -> Response:
    stored = json.loads(raw) if raw else {}
    if stored.get("h") != digest:
        raise ApiError(409, "idempotency_conflict", "This Idempotency-Key was already used with another request.")
    if "status" not in stored:
        raise ApiError(409, "in_progress", "A request with this Idempotency-Key is still being processed.")
    response = Response(stored["body"], status=stored["status"], content_type=stored["type"])
    response.headers["Idempotent-Replayed"] = "true"
    return response
