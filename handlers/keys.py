"""Every Redis key the handlers write, built in one place (STYLE §6.1).

Keys about one caller carry the caller's pseudonym (:meth:`identity.keyring.Keyring.pseudonym`), never the number,
in a ``{…}`` hash tag so that, on Redis Cluster, one caller's keys share a slot. Casework (tickets, reports) is keyed by
its reference code.
"""

from __future__ import annotations

import hashlib

PIN_PREFIX = "pin:"
MONEY_PREFIX = "money:"
HELP_PREFIX = "help:"
CASE_PREFIX = "case:"


# -- money ------------------------------------------------------------------------------------------------------

def account_key(caller: str) -> str:
    """Hash: the caller's linked account (provider, account reference, PIN salt and keyed hash, sealed number)."""
    return f"{MONEY_PREFIX}{{{caller}}}:account"


def pin_attempts_key(caller: str) -> str:
    """Counter of PIN attempts in the current window, counted before each check (the name predates that)."""
    return f"{PIN_PREFIX}{{{caller}}}:failures"


def pin_lockouts_key(caller: str) -> str:
    """Counter of lockouts within :data:`handlers.remittance.pins.LOCKOUT_MEMORY_S`: each lasts longer."""
    return f"{PIN_PREFIX}{{{caller}}}:lockouts"


def pin_lock_key(caller: str) -> str:
    """Present (with a TTL) while the caller is locked out."""
    return f"{PIN_PREFIX}{{{caller}}}:locked"


# -- help -------------------------------------------------------------------------------------------------------

def help_sms_count_key(caller: str, day: str) -> str:
    """Counter of "send me these numbers" SMS for one caller on one UTC day (``YYYYMMDD``)."""
    return f"{HELP_PREFIX}{{{caller}}}:sms:{day}"


# -- casework: call-back tickets and reports ------------------------------------------------------------------

def case_key(kind: str, ref: str) -> str:
    """Hash: one ticket (``kind`` ``callback``) or report (``report``)."""
    return f"{CASE_PREFIX}{kind}:{ref}"


def case_contact_key(kind: str, ref: str) -> str:
    """The full number a call-back needs, kept apart from the ticket and only for a short while."""
    return f"{CASE_PREFIX}{kind}:{ref}:contact"


def case_index_key(kind: str) -> str:
    """Sorted set of references by creation time (newest last)."""
    return f"{CASE_PREFIX}{kind}:index"


def case_country_index_key(kind: str, country: str) -> str:
    """Sorted set of the references of cases whose caller's host or home country is ``country`` (agency routing)."""
    return f"{CASE_PREFIX}{kind}:country:{country}"


def case_history_key(kind: str, ref: str) -> str:
    """List: a case's status changes and notes, oldest first."""
    return f"{CASE_PREFIX}{kind}:{ref}:history"


def session_digest(session_id: str) -> str:
    """A session id as a fixed-length digest: AT's session ids are the caller's to shape, and one such as
    ``zz:category`` once made the key of another kind of record (a report got the reference ``abuse``)."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


def case_session_key(kind: str, session_id: str) -> str:
    """The reference a USSD session already created, so a repeated step never makes a second case. Kept only for
    about a session's lifetime (casework.SESSION_TTL): the provider's records map a session id to a number."""
    return f"{CASE_PREFIX}{kind}:session:{session_digest(session_id)}"


def report_category_key(session_id: str) -> str:
    """The category a session's caller picked for a report in progress; kept as long as the session mapping."""
    return f"{CASE_PREFIX}report:category:{session_digest(session_id)}"
