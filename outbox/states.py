"""A broadcast's status and a batch's ledger state, defined once here and handed to the Lua scripts as constants.

The scripts of :mod:`outbox.ledger` change these states inside Redis; they get the names from :func:`lua`, a
prelude built from these enums, so a state is spelled in one place for Python and Lua alike.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """A broadcast's status, as the API shows it (CONTRACT §3)."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


#: Statuses a broadcast never leaves.
TERMINAL = frozenset({Status.DONE, Status.CANCELLED, Status.EXPIRED, Status.FAILED})


class BatchState(StrEnum):
    """The first letter of a batch's state in the ledger (see :mod:`outbox.ledger` for the whole state)."""

    #: ``p<attempt>:<not before>``: waiting for its send job.
    PENDING = "p"
    #: ``f<attempt>:<lease end>``: claimed by a job, with the provider.
    IN_FLIGHT = "f"
    #: Handed to the provider and counted.
    SENT = "s"
    #: Settled without sending (cancelled, expired, given up).
    SETTLED = "x"


def lua() -> str:
    """Lua locals for every state (``ST_DONE = 'done'``, ``B_PENDING = 'p'``) and the set ``TERMINAL``."""
    lines = [f"local ST_{s.name} = '{s.value}'" for s in Status]
    lines += [f"local B_{b.name} = '{b.value}'" for b in BatchState]
    lines.append("local TERMINAL = {" + ", ".join(f"['{s.value}'] = true" for s in sorted(TERMINAL)) + "}")
    return "\n".join(lines) + "\n"
