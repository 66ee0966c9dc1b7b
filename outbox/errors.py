"""The outbox's exception tree: one root, so callers can catch broadly or narrowly.

::

    OutboxError
    ├── BroadcastError (also ValueError)    a broadcast request the outbox cannot accept; names the field
    │   ├── NotFound                        no such broadcast (or not the asking agency's)
    │   └── Conflict                        the broadcast's state forbids it (cancel after it finished)
    ├── CapError (also ValueError)          a body that is not a usable CAP 1.2 alert
    └── ProviderError                       the SMS provider failed; carries ``status`` and a short ``detail``
        ├── ProviderAuthError               bad credentials: retrying cannot help, the broadcast fails
        └── ProviderUnavailable             5xx, timeout, connection refused: retried with back-off

A number phonenumbers does not hold valid raises :class:`identity.phones.InvalidNumber` (a ValueError), re-exported
here. Foreign errors (the AT SDK's ``AfricasTalkingException``, ``requests`` errors, phonenumbers' parse errors) are
translated into these at one boundary each (:mod:`outbox.provider`, :mod:`identity.phones`) with ``raise … from``.
"""

from __future__ import annotations

from identity.phones import InvalidNumber

__all__ = ["BroadcastError", "CapError", "InvalidNumber", "NotFound", "OutboxError", "ProviderAuthError",
           "ProviderError", "ProviderUnavailable"]


class OutboxError(Exception):
    """Root of every error the outbox raises on purpose."""


class BroadcastError(OutboxError, ValueError):
    """A broadcast request the outbox cannot accept. ``field`` names the offending input for API errors."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class NotFound(BroadcastError):
    """No such broadcast, or it belongs to another agency (which must not learn that it exists)."""

    def __init__(self, message: str = "No such broadcast.") -> None:
        super().__init__(message, code="not_found")


class Conflict(BroadcastError):
    """The request is sound but the broadcast's state forbids it (a cancel once it is done)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="conflict")


class CapError(OutboxError, ValueError):
    """A body that is not a usable CAP 1.2 alert; the message names the element."""


class ProviderError(OutboxError):
    """The SMS provider did not take the message."""

    def __init__(self, message: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail[:200]


class ProviderAuthError(ProviderError):
    """The provider refused our credentials (HTTP 401): retrying cannot help."""


class ProviderUnavailable(ProviderError):
    """A transient failure (5xx, timeout, connection error): worth retrying later."""
