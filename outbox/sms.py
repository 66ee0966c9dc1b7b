"""Individual SMS (confirmations, helpline numbers, balances): one RQ job per message, under daily caps.

Callers never wait for the provider: :func:`queue_message` only enqueues. The job's arguments are the number
sealed and the text encrypted (:mod:`identity.keyring`), so neither a queued job nor a failed one in Redis holds a
number or a message; the worker opens both right before the provider call. Transient provider failures are
retried by RQ with back-off.

Every single SMS, whatever asked for it, counts against two daily caps (UTC days): one per number (counted under
the number's pseudonym) and one for the installation (``SMS_SINGLE_PER_DAY``). The per-number one is
``SMS_PER_NUMBER_PER_DAY`` for what a USSD screen or a service sends, and a separate allowance,
``SMS_REPLIES_PER_NUMBER_PER_DAY``, for replies to the number's own keyword SMS (``reply=True``): a person who
texted HELP five times must still get JOIN's confirmation (CONTRACT §2), and a USSD confirmation is not eaten by
keyword replies. They are what keeps a script from pumping SMS through our account (a flood of report
confirmations, JOIN messages from spoofed senders). A screen that promises an SMS claims its place first
(:func:`claim`) so it can say so when the caps are reached; the message is then queued with ``claimed=True``.
"""

from __future__ import annotations

import hashlib
import time
from enum import Enum

from redis import Redis
from rq import Retry

from . import keys, queues
from .config import OutboxConfig

#: A dedupe key is remembered this long: a repeat within it sends nothing.
DEDUPE_TTL_S = 24 * 3600
#: Retries of a single message on transient failures, and the waits between them.
SINGLE_RETRY = (3, [10, 30, 60])
SINGLE_JOB_TIMEOUT_S = 60
#: Sent single-message jobs are not kept; failed ones a day, and even then hold nothing readable.
SINGLE_FAILURE_TTL_S = 24 * 3600
#: Day counters outlive their day a little, so a count taken just before midnight is still there to read.
COUNTER_TTL_S = 2 * 24 * 3600


class Outcome(Enum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"  # the dedupe key was used already
    CAPPED = "capped"  # a daily cap is reached: nothing queued


# KEYS: per-number counter, global counter. ARGV: per-number cap, global cap, ttl. Both move, or neither.
_CLAIM = """
local mine, all = tonumber(redis.call('GET', KEYS[1]) or '0'), tonumber(redis.call('GET', KEYS[2]) or '0')
if mine >= tonumber(ARGV[1]) or all >= tonumber(ARGV[2]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""


def claim(connection: Redis, config: OutboxConfig, phone: str, *, per_number: bool = True,
          reply: bool = False) -> bool:
    """Take one single SMS from today's caps for ``phone``; False (and nothing counted) when either is reached.
    ``reply``: a reply to the number's own keyword SMS, counted against its replies' allowance instead of
    ``SMS_PER_NUMBER_PER_DAY``. ``per_number=False``: only the installation's cap stops it (still counted for the
    number), for replies that have a per-number limit of their own (``CHECK``: a few an hour,
    handlers/genuine/limits.py)."""
    day = time.strftime("%Y%m%d", time.gmtime())
    who = config.keyring.pseudonym(phone)
    counters = [keys.reply_count(who, day) if reply else keys.single_count(who, day), keys.single_count("all", day)]
    cap = config.sms_replies_per_number_per_day if reply else config.sms_per_number_per_day
    mine = cap if per_number else 2**31
    allowed = connection.register_script(_CLAIM)(
        keys=counters, args=[mine, config.sms_single_per_day, COUNTER_TTL_S])
    return bool(allowed)


def queue_message(connection: Redis, config: OutboxConfig, phone: str, text: str, *, priority: str = "normal",
                  dedupe_key: str | None = None, claimed: bool = False, reply: bool = False) -> Outcome:
    """Enqueue one SMS to ``phone`` (E.164) unless ``dedupe_key`` was used already or the caps are reached.
    ``claimed``: the caller took its place with :func:`claim` already (to tell the person when it could not).
    ``reply``: an answer to the number's own keyword SMS (its own per-number allowance, see :func:`claim`)."""
    if dedupe_key is not None:
        digest = hashlib.sha256(dedupe_key.encode()).hexdigest()
        if not connection.set(keys.single_dedupe(digest), "1", nx=True, ex=DEDUPE_TTL_S):
            return Outcome.DUPLICATE
    if not claimed and not claim(connection, config, phone, reply=reply):
        return Outcome.CAPPED
    token = config.keyring.seal(phone)
    queues.queue(connection, priority).enqueue(
        "outbox.jobs.send_single", token, config.keyring.encrypt(text, context=token),
        retry=Retry(max=SINGLE_RETRY[0], interval=SINGLE_RETRY[1]), job_timeout=SINGLE_JOB_TIMEOUT_S, result_ttl=0,
        failure_ttl=SINGLE_FAILURE_TTL_S,
        # RQ logs a job's description; the default one would show the (sealed) arguments.
        description="single SMS")
    return Outcome.QUEUED
