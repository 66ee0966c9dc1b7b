"""Bearer-key authentication with scopes, as a decorator any /api/v1 view can use.

``@require_scope("broadcasts")`` answers 401 when the ``Authorization: Bearer <key>`` header is missing or the
key unknown, 403 when the key lacks the scope, and otherwise makes the key's agency available through
:func:`current_agency` for the rest of the request.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import g, request

from outbox.apikeys import SCOPES, ApiKey, lookup

from . import store
from .errors import ApiError
from .validation import check_query

P = ParamSpec("P")
R = TypeVar("R")


def _authenticate() -> ApiKey:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Send your API key as 'Authorization: Bearer <key>'.")
    record = lookup(store(), token.strip())
    if record is None:
        raise ApiError(401, "unauthorized", "The API key is not valid.")
    return record


def require_scope(scope: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a view so it runs only for a valid key holding ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"Unknown scope {scope!r}; scopes are {', '.join(SCOPES)}.")

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            record = _authenticate()
            if scope not in record.scopes:
                raise ApiError(403, "forbidden", f"This API key lacks the {scope!r} scope.")
            g.api_key = record
            check_query(view)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_key() -> ApiKey:
    """The key that authenticated this request (only inside a ``require_scope`` view)."""
    record: ApiKey | None = g.get("api_key")
    if record is None:
        raise RuntimeError("current_key() called outside a view decorated with require_scope().")
    return record


def current_agency() -> str:
    """The agency of the key that authenticated this request (only inside a ``require_scope`` view)."""
    return current_key().agency
