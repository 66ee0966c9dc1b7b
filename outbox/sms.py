"""Individual SMS (confirmations, helpline numbers, balances): one RQ job per message.

Callers never wait for the provider: :func:`queue_message` only enqueues. The job's arguments are the number and
the text, so callers must never pass secrets (PINs) in a text. Transient provider failures are retried by RQ
with back-off.
"""

from __future__ import annotations

import hashlib

from redis import Redis
from rq import Retry

from identity.phones import mask

from . import keys, queues

#: A dedupe key is remembered this long: a repeat within it sends nothing.
DEDUPE_TTL_S = 24 * 3600
#: Retries of a single message on transient failures, and the waits between them.
SINGLE_RETRY = (3, [10, 30, 60])
SINGLE_JOB_TIMEOUT_S = 60
#: Sent single-message jobs are not kept: they hold a number and a text.
SINGLE_FAILURE_TTL_S = 24 * 3600


def queue_message(connection: Redis, phone: str, text: str, *, priority: str = "normal",
                  dedupe_key: str | None = None) -> str | None:
    """Enqueue one SMS to ``phone`` (E.164); returns the job id, or None when ``dedupe_key`` was used already."""
    if dedupe_key is not None:
        digest = hashlib.sha256(dedupe_key.encode()).hexdigest()
        if not connection.set(keys.single_dedupe(digest), "1", nx=True, ex=DEDUPE_TTL_S):
            return None
    job = queues.queue(connection, priority).enqueue(
        "outbox.jobs.send_single", phone, text, retry=Retry(max=SINGLE_RETRY[0], interval=SINGLE_RETRY[1]),
        job_timeout=SINGLE_JOB_TIMEOUT_S, result_ttl=0, failure_ttl=SINGLE_FAILURE_TTL_S,
        # RQ logs a job's description; the default one holds the number and the text.
        description=f"SMS to {mask(phone)}")
    return job.id
