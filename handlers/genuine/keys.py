"""Every Redis key this package writes, built in one place (STYLE §6.1).

A per-number key carries the number's keyed pseudonym (:meth:`identity.keyring.Keyring.pseudonym`), never the
number, in a ``{…}`` hash tag, as :mod:`handlers.keys` does for callers.
"""

from __future__ import annotations

from handlers.keys import session_digest

PREFIX = "genuine:"


def check_count(caller: str) -> str:
    """Checks one number made in its current hour (the window opens with its first check)."""
    return f"{PREFIX}{{{caller}}}:checks"


def flag_count(caller: str) -> str:
    """Numbers one caller flagged in their current day (the window opens with their first flag)."""
    return f"{PREFIX}{{{caller}}}:flags"


def recruiter(licence: str) -> str:
    """Hash: a licensed recruiter, by its licence number as :func:`handlers.genuine.registers.licence_id` spells it."""
    return f"{PREFIX}recruiter:{licence}"


def flagged(number: str) -> str:
    """Hash: flags of one number (by pseudonym): agency name → JSON of the reason and when."""
    return f"{PREFIX}flagged:{{{number}}}"


def caller_flags(number: str) -> str:
    """Set: casework references of callers' flags of one number (by pseudonym), reviewed or not."""
    return f"{PREFIX}flagged:{{{number}}}:callers"


def flaggers(number: str) -> str:
    """Set: keyed digests of the callers who flagged one number (one flag per caller and number)."""
    return f"{PREFIX}flagged:{{{number}}}:by"


def flag_draft(session_id: str) -> str:
    """Hash: a flag in progress in one USSD session (the number sealed, how it reached the caller), kept about a
    session's lifetime. The session id is digested: AT's ids are the caller's to shape."""
    return f"{PREFIX}draft:{session_digest(session_id)}"
