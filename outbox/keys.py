"""Every Redis key the outbox writes, built in one place.

Hash tags keep what one Lua script or pipeline touches in one Redis Cluster slot:

* ``bc:{<id>}:…``: one broadcast (record, ledger, batches, resolved audience);
* ``{aud}:…``: subscribers and their index (records, audience sets, opt-outs) — one slot, so an audience is a single
  ``SUNIONSTORE``; a million subscribers' index fits one node comfortably;
* ``sms:msg:{<message id>}``: one provider message id, for delivery reports;
* single keys (``apikey:<hash>``, ``idem:…``) need no tag.
"""

from __future__ import annotations

import uuid

AUDIENCE_TAG = "{aud}"


# --- subscribers (all in the {aud} slot) -----------------------------------------------------------------
def subscriber(token: str) -> str:
    """A subscriber's record (a hash) by sealed number, in the index's slot so a subscription changes in one
    script. Every set below holds sealed numbers (:meth:`identity.keyring.Keyring.seal`), never numbers."""
    return f"{AUDIENCE_TAG}:sub:{token}"


def audience_set(country: str, language: str, topic: str) -> str:
    """Sealed numbers subscribed to ``topic`` in ``country`` with ``language`` (opted-out ones included)."""
    return f"{AUDIENCE_TAG}:c:{country}:l:{language}:t:{topic}"


def audience_set_format() -> str:
    """:func:`audience_set` as a Lua ``string.format`` pattern (country, language, topic), so scripts that keep
    the index build the same names as Python does."""
    return audience_set("%s", "%s", "%s")


def optout_set() -> str:
    return f"{AUDIENCE_TAG}:optout"


def voice_subscribers() -> str:
    """Sealed numbers that take their alerts by phone call instead of SMS (:mod:`outbox.voice`)."""
    return f"{AUDIENCE_TAG}:voice"


def known_countries() -> str:
    return f"{AUDIENCE_TAG}:countries"


def known_languages() -> str:
    return f"{AUDIENCE_TAG}:languages"


def resolved(broadcast_id: str, language: str) -> str:
    """A broadcast's resolved audience of one language, not yet put into batches (in the index's slot, as it
    is computed there with one ``SUNIONSTORE``)."""
    return f"{AUDIENCE_TAG}:resolved:{broadcast_id}:{language}"


def scratch() -> str:
    """A throw-away set in the index's slot, for counting an audience without keeping it (deleted in the same
    transaction that fills it)."""
    return f"{AUDIENCE_TAG}:count:{uuid.uuid4().hex}"


def fanout_stage(broadcast_id: str) -> str:
    """The chunk taken from a resolved audience and not yet written as a batch (crash recovery of the fan-out)."""
    return f"{AUDIENCE_TAG}:stage:{broadcast_id}"


# --- broadcasts --------------------------------------------------------------------------------------------
def broadcast(broadcast_id: str) -> str:
    """The broadcast record: a hash with status, counts, texts and settings."""
    return f"bc:{{{broadcast_id}}}"


def ledger(broadcast_id: str) -> str:
    """Batch number → state (see :mod:`outbox.ledger`)."""
    return f"bc:{{{broadcast_id}}}:ledger"


def batch(broadcast_id: str, number: int) -> str:
    """One batch's recipients: a hash ``{l: language, n: count, p: "phone,phone,…"}``."""
    return f"bc:{{{broadcast_id}}}:b:{number}"


def fanout_lock(broadcast_id: str) -> str:
    """Held while one fan-out job cuts the broadcast into batches (the sweeper leaves a fan-out alone meanwhile)."""
    return f"bc:{{{broadcast_id}}}:fanout"


def called(broadcast_id: str) -> str:
    """Sealed numbers a broadcast has already called (a batch retried or re-driven does not call them again)."""
    return f"bc:{{{broadcast_id}}}:called"


def reasons(broadcast_id: str) -> str:
    """Per-recipient failure reasons → count (no numbers)."""
    return f"bc:{{{broadcast_id}}}:reasons"


def active_broadcasts() -> str:
    """Sorted set: broadcasts with work left, scored by when they are next due (the sweeper's agenda)."""
    return "bc:active"


def agency_broadcasts(agency: str) -> str:
    return f"agency:{{{agency}}}:broadcasts"


def country_alerts(country: str) -> str:
    """Broadcasts sent to a country, newest last, for the USSD "latest alerts" screen."""
    return f"alerts:country:{country}"


def unfiltered_alerts() -> str:
    """Public broadcasts without a country filter (``all``, or languages and topics only), newest last: listed on
    "latest alerts" to the callers they reached."""
    return "alerts:unfiltered"


def cap_alert(identifier_hash: str) -> str:
    """A CAP alert (by sender, identifier and sent) → the broadcast ids it made."""
    return f"cap:{identifier_hash}"


def alert_call(session_id: str) -> str:
    """AT's session id of an alert call → the broadcast and the language it speaks (no number, no text)."""
    return f"voice:call:{{{session_id}}}"


# --- messages, delivery reports, inbound ---------------------------------------------------------------------
def message(message_id: str) -> str:
    """Provider message id → ``"<broadcast id>|<status>"`` for delivery-report reconciliation."""
    return f"sms:msg:{{{message_id}}}"


def single_dedupe(dedupe_key: str) -> str:
    return f"sms:dedupe:{dedupe_key}"


def stop_confirmed(pseudonym: str, day: str) -> str:
    """Set when a number's first STOP confirmation of the UTC ``day`` went out past its daily cap."""
    return f"sms:stop-confirmed:{pseudonym}:{day}"


def inbound_seen(inbound_id: str) -> str:
    return f"sms:in:{inbound_id}"


def single_count(who: str, day: str) -> str:
    """Single SMS queued on one UTC day (``YYYYMMDD``) to one number (by its pseudonym, never the number), or to
    everyone (``all``)."""
    return f"sms:single:{who}:{day}"


def reply_count(pseudonym: str, day: str) -> str:
    """Replies to one number's own keyword SMS queued on one UTC day (by its pseudonym, never the number)."""
    return f"sms:reply:{pseudonym}:{day}"


def throttle(account: str) -> str:
    """The provider account's token bucket."""
    return f"throttle:{{{account}}}"


def prune_lock() -> str:
    """Present for a day after the sweeper queued the daily prune of lapsed subscribers."""
    return f"{AUDIENCE_TAG}:prune"


def sweep_lock() -> str:
    return "bc:sweeper"


# --- agency API --------------------------------------------------------------------------------------------
def api_key(key_hash: str) -> str:
    """A key's record (agency, scopes, countries, id, created, last used), by the SHA-256 of the key."""
    return f"apikey:{key_hash}"


def api_key_ids() -> str:
    """Hash: a key's public id → the SHA-256 its record is kept under (to list and revoke keys by id)."""
    return "apikeys:ids"


def idempotency(agency: str, key: str) -> str:
    return f"idem:{{{agency}}}:{key}"
