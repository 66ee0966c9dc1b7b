"""Request parsing that turns bad input into a 400/413/422 naming the field, never a 5xx, before anything is
written.

A body is read in three steps: JSON (UTF-8, nesting at most :data:`MAX_DEPTH`), then a walk that refuses lone
surrogates (``"\\ud800"`` is valid JSON but no text: stored, it breaks every later encode), then the call's
pydantic model from :mod:`outbox.schema`, which refuses unknown fields and wrong types anywhere. Query strings
are checked too: a parameter the view did not declare with :func:`query_params` is a 422, since an ignored
filter (``?category=``) silently answers a different question.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from outbox.schema import field_name, problems

from .errors import ApiError

#: Deepest nesting of arrays and objects a body may have; the API's bodies need 3.
MAX_DEPTH = 32
M = TypeVar("M", bound=BaseModel)
V = TypeVar("V", bound=Callable[..., Any])
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_body() -> Any:
    """The request's JSON, checked for depth and Unicode; a 400 that says what is wrong otherwise."""
    raw = request.get_data(cache=True)
    try:
        body = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The body is not UTF-8.") from None
    except RecursionError:
        raise ApiError(400, "too_deep", f"The body nests deeper than {MAX_DEPTH} levels.") from None
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"The body is not JSON ({str(exc)[:80]}); send a JSON object with "
                       "Content-Type: application/json.") from None
    _check_tree(body)
    return body


def _check_tree(body: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and strings with lone surrogates, naming where. Iterative,
    so a hostile body costs one pass and no Python recursion."""
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(body, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict | list) and len(path) >= MAX_DEPTH:
            raise ApiError(400, "too_deep", f"The body nests deeper than {MAX_DEPTH} levels.")
        if isinstance(node, str):
            if _SURROGATE.search(node):
                raise ApiError(422, "invalid", "is not valid Unicode (a lone surrogate)",
                               field=field_name(path) or "body")
        elif isinstance(node, dict):
            for key, value in node.items():
                if _SURROGATE.search(key):
                    raise ApiError(422, "invalid", "holds a key that is not valid Unicode",
                                   field=field_name(path) or "body")
                stack.append((value, (*path, key)))
        elif isinstance(node, list):
            stack.extend((value, (*path, i)) for i, value in enumerate(node))


def validated(model: type[M], body: Any | None = None) -> M:
    """The request's JSON body (or ``body``) as ``model``; 422 naming the first problem's field."""
    if body is None:
        body = json_body()
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object, not a list or a value.")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        found = problems(exc)
        field, code, message = found[0]
        raise ApiError(422, code, message, field=field or None,
                       details=[{"field": f, "code": c, "message": m} for f, c, m in found[:20]]) from None


def query_params(*names: str) -> Callable[[V], V]:
    """Declare the query parameters a view understands; any other is a 422 naming it (checked by
    :func:`gateway.api.auth.require_scope` once the key is known, so a stranger still gets 401)."""

    def decorator(view: V) -> V:
        view.query_params = frozenset(names)  # type: ignore[attr-defined]
        return view

    return decorator


def check_query(view: Callable[..., Any]) -> None:
    allowed: frozenset[str] = getattr(view, "query_params", frozenset())
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        known = f"; this call takes {', '.join(sorted(allowed))}" if allowed else "; this call takes none"
        raise ApiError(422, "unknown_parameter", f"is not a query parameter this call knows{known}",
                       field=unknown[0][:40])


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid", f"{raw[:20]!r} is not a whole number", field=name) from None
    if not low <= value <= high:
        raise ApiError(400, "invalid", f"must be from {low} to {high}", field=name)
    return value
