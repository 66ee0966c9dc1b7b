"""Callers flag numbers from USSD (issue #11 item 4); a flag waits in the agency's casework until reviewed.

A caller's flag is a report (kind ``report``, category ``flag``) of the caller's host and home countries, so it
reaches the agencies that handle those countries wherever they read reports (``GET /api/v1/reports``, the
console). Its ``text`` (encrypted at rest, like every report's) names the flagged number and what happened;
``flag_contact`` and ``flag_ask`` hold the two answers from the screen's short lists.

**The review rule.** A flag counts toward what ``CHECK`` answers only once an agency has *closed* it
(``PATCH /api/v1/reports/<ref>`` ``{"status": "closed"}``): closing a flag upholds it. A flag found false is
closed with a note that starts with "dismiss" (``{"status": "closed", "note": "dismissed: a bank's real
number"}``), and then never counts; reopening a flag stops it counting until it is closed again. Until then
a flood of false flags brands nobody; one caller's flags are limited per day (:mod:`.limits`) and a caller who
flags the same number twice files one flag.

What the check reads: the set of flag references per flagged number (by pseudonym, never the number), each
looked up in casework; a reference whose report has expired is dropped from the set.
"""

from __future__ import annotations

from redis import Redis

from identity.keyring import Keyring
from identity.phones import mask

from .. import casework
from . import keys

CATEGORY = "flag"
#: How the flagged number reached the caller, and what it asked for (the screen's short lists, in order).
CONTACTS = ("call", "sms", "app")
ASKS = ("money", "documents", "details", "job")
#: A closing note starting with one of these dismisses the flag instead of upholding it.
DISMISS_WORDS = ("dismiss", "false", "reject")


def already_flagged(connection: Redis, keyring: Keyring, caller: str, phone: str) -> bool:
    """Whether ``caller`` (a pseudonym) flagged ``phone`` before (within the retention): checked by a keyed
    digest of the pair, so the register keeps no list of who flagged."""
    return bool(connection.sismember(keys.flaggers(keyring.pseudonym(phone)), keyring.digest("flagger", caller)))


def file(connection: Redis, keyring: Keyring, *, session_id: str, caller: str, phone: str, contact: str, ask: str,
         base: dict[str, str], ttl: int) -> str:
    """File a caller's flag of ``phone`` (E.164) as a report awaiting review; returns its reference."""
    text = (f"Caller's flag of the number {phone}: reached them by {contact}, asked for {ask}. Counts toward CHECK "
            f"once closed; close with a note starting 'dismissed' if it is false.")
    ref = casework.upsert(connection, casework.REPORT, f"flag:{session_id}",
                          {**base, "category": CATEGORY, "text": text, "flag_contact": contact, "flag_ask": ask,
                           "flagged_masked": mask(phone)},
                          ttl=ttl, keyring=keyring)
    number = keyring.pseudonym(phone)
    pipe = connection.pipeline(transaction=False)
    pipe.sadd(keys.caller_flags(number), ref)
    pipe.expire(keys.caller_flags(number), ttl)
    pipe.sadd(keys.flaggers(number), keyring.digest("flagger", caller))
    pipe.expire(keys.flaggers(number), ttl)
    pipe.execute()
    return ref


def _dismissed(connection: Redis, keyring: Keyring, ref: str) -> bool:
    closing = [e for e in casework.history(connection, casework.REPORT, ref, keyring) if e["to"] == "closed"]
    note = str(closing[-1]["note"]).strip().lower() if closing else ""
    return note.startswith(DISMISS_WORDS)


def upheld(connection: Redis, keyring: Keyring, phone: str) -> list[str]:
    """What the upheld callers' flags of ``phone`` say it asked for (one entry per flag, from :data:`ASKS`)."""
    number = keyring.pseudonym(phone)
    out, gone = [], []
    for raw in connection.smembers(keys.caller_flags(number)):
        ref = raw.decode() if isinstance(raw, bytes) else str(raw)
        case = casework.get(connection, casework.REPORT, ref, keyring=keyring)
        if case is None:
            gone.append(ref)
        elif case.status == "closed" and not _dismissed(connection, keyring, ref):
            out.append(case.fields.get("flag_ask", "job"))
    if gone:
        connection.srem(keys.caller_flags(number), *gone)
    return out
