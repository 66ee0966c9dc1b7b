"""RQ queues, job ids and enqueueing for the outbox's jobs.

Workers listen to ``emergency`` before ``normal``, so an emergency broadcast's batches overtake whatever normal
batches wait. Job ids are deterministic (``[A-Za-z0-9_-]`` only, as RQ requires): ``sb-<broadcast>-<batch>-<attempt>``
for a batch, ``fo-<broadcast>-<generation>`` for a fan-out. The sweeper uses them to tell a live job from a lost one.
"""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis
from rq import Queue
from rq.exceptions import DuplicateJobError

PRIORITIES = ("emergency", "normal")
#: Seconds one job may run: a batch is one provider request plus its bookkeeping; a fan-out streams a million.
BATCH_JOB_TIMEOUT_S = 120
FANOUT_JOB_TIMEOUT_S = 1800
#: Failed jobs are kept this long for operators to look at.
FAILURE_TTL_S = 7 * 24 * 3600


def queue(connection: Redis, priority: str) -> Queue:
    return Queue(priority if priority in PRIORITIES else "normal", connection=connection)


def batch_job_id(broadcast_id: str, number: int, attempt: int) -> str:
    return f"sb-{broadcast_id}-{number}-{attempt}"


def fanout_job_id(broadcast_id: str, generation: int) -> str:
    return f"fo-{broadcast_id}-{generation}"


def enqueue_batches(connection: Redis, broadcast_id: str, priority: str, batches: Iterable[tuple[int, int]]) -> None:
    """Enqueue send jobs for ``(batch number, attempt)`` pairs in one round trip."""
    q = queue(connection, priority)
    datas = [
        Queue.prepare_data("outbox.jobs.send_batch", args=(broadcast_id, n, attempt),
                           job_id=batch_job_id(broadcast_id, n, attempt), timeout=BATCH_JOB_TIMEOUT_S,
                           result_ttl=0, failure_ttl=FAILURE_TTL_S)
        for n, attempt in batches
    ]
    if datas:
        with connection.pipeline() as pipe:
            q.enqueue_many(datas, pipeline=pipe)
            pipe.execute()


def enqueue_batch_once(connection: Redis, broadcast_id: str, priority: str, number: int, attempt: int) -> bool:
    """Enqueue one send job unless a job with its id exists; True when enqueued."""
    try:
        queue(connection, priority).enqueue(
            "outbox.jobs.send_batch", broadcast_id, number, attempt, job_id=batch_job_id(broadcast_id, number, attempt),
            job_timeout=BATCH_JOB_TIMEOUT_S, result_ttl=0, failure_ttl=FAILURE_TTL_S, unique=True)
    except DuplicateJobError:
        return False
    return True


def enqueue_fanout(connection: Redis, broadcast_id: str, priority: str, generation: int) -> None:
    try:
        queue(connection, priority).enqueue(
            "outbox.jobs.fanout", broadcast_id, job_id=fanout_job_id(broadcast_id, generation),
            job_timeout=FANOUT_JOB_TIMEOUT_S, result_ttl=0, failure_ttl=FAILURE_TTL_S, unique=True)
    except DuplicateJobError:
        pass
