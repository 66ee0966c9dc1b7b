"""The sweeper: the outbox's safety net, run every few seconds by every worker (one at a time, under a lock).

For each broadcast that is due it: expires it once past ``expires_at``; restarts a fan-out whose job was lost;
turns batches whose lease ran out (their worker died, or Redis restarted under it) back into pending with the
next attempt and enqueues them; enqueues pending batches that have no live job (a scheduled broadcast that
came due, a job lost with a Redis restart, a retry whose back-off is over). A broadcast therefore resumes
within one lease plus one sweep of its worker and Redis being back.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from redis import Redis
from rq import Queue
from rq.job import Job

from redis_reply import optional_text, texts

from . import keys, queues
from .config import OutboxConfig
from .ledger import Ledger, drain_resolved, pending_state
from .states import TERMINAL, BatchState, Status

log = logging.getLogger(__name__)
_LIVE = {b"queued", b"scheduled", b"deferred"}
#: How often lapsed subscribers are pruned from the audience sets.
PRUNE_EVERY_S = 24 * 3600
_STATE = re.compile(rf"^([{BatchState.PENDING}{BatchState.IN_FLIGHT}])(\d+):([\d.]+)$")


@dataclass
class SweepReport:
    broadcasts: int = 0
    enqueued: int = 0
    redriven: int = 0
    expired: int = 0


def sweep(connection: Redis, config: OutboxConfig, *, now: float | None = None, force: bool = False) -> SweepReport:
    """One pass over the due broadcasts. ``force`` skips the lock that keeps concurrent workers from sweeping
    at the same time (tests)."""
    now = time.time() if now is None else now
    report = SweepReport()
    if not force and not connection.set(keys.sweep_lock(), "1", nx=True,
                                        px=max(500, int(config.sweep_interval_s * 1000) - 200)):
        return report
    for broadcast_id in texts(connection.zrangebyscore(keys.active_broadcasts(), "-inf", now)):
        report.broadcasts += 1
        _sweep_one(connection, config, broadcast_id, now, report)
    # Once a day, a job takes lapsed subscribers out of the audience sets (outbox.subscribers.prune_expired).
    if connection.set(keys.prune_lock(), "1", nx=True, ex=PRUNE_EVERY_S):
        queues.queue(connection, "normal").enqueue("outbox.jobs.prune_subscribers", job_timeout=3600, result_ttl=0,
                                                   description="prune lapsed subscribers")
    return report


def _sweep_one(connection: Redis, config: OutboxConfig, broadcast_id: str, now: float, report: SweepReport) -> None:
    meta_key = keys.broadcast(broadcast_id)
    fields = connection.hmget(meta_key, "status", "fanout", "priority", "expires_at", "langs", "fanout_gen")
    if fields[0] is None:
        connection.zrem(keys.active_broadcasts(), broadcast_id)
        return
    status, fanout, priority, expires_at, langs, gen = (optional_text(f) or "" for f in fields)
    ledger = Ledger(connection, broadcast_id)
    if status not in TERMINAL and expires_at and now >= float(expires_at):
        ledger.stop(Status.EXPIRED, now)
        drain_resolved(connection, broadcast_id, [lang for lang in langs.split(",") if lang])
        report.expired += 1
    fanning_out = bool(connection.exists(keys.fanout_lock(broadcast_id)))
    if fanout != "1" and not fanning_out:
        job_id = queues.fanout_job_id(broadcast_id, int(gen or 0))
        if not _live(connection, [job_id], config, now)[0]:
            next_gen = int(gen or 0) + 1
            connection.hset(meta_key, "fanout_gen", next_gen)
            queues.enqueue_fanout(connection, broadcast_id, priority, next_gen)
            report.redriven += 1
    states = ledger.states()
    pending = []
    for number, state in states.items():
        match = _STATE.match(state)
        if not match:
            continue
        kind, attempt, at = match.group(1), int(match.group(2)), float(match.group(3))
        if kind == BatchState.IN_FLIGHT and at < now:
            if attempt + 1 >= config.max_attempts:
                ledger.release(number, attempt, now, retry_at=None, reason="worker_lost")
            elif ledger.redrive(number, state, pending_state(attempt + 1)):
                queues.enqueue_batch_once(connection, broadcast_id, priority, number, attempt + 1)
                report.redriven += 1
        elif kind == BatchState.PENDING and at <= now and not fanning_out:
            pending.append((number, attempt, state))
    if not pending:
        return
    live = _live(connection, [queues.batch_job_id(broadcast_id, n, a) for n, a, _ in pending], config, now)
    missing = []
    for (number, attempt, state), alive in zip(pending, live, strict=True):
        if alive is None:
            missing.append((number, attempt))
        elif alive is False and ledger.redrive(number, state, pending_state(attempt + 1)):
            missing.append((number, attempt + 1))
            report.redriven += 1
    queues.enqueue_batches(connection, broadcast_id, priority, missing)
    report.enqueued += len(missing)


def _live(connection: Redis, job_ids: Sequence[str], config: OutboxConfig, now: float) -> list[bool | None]:
    """Per job: True while queued or recently started, False when dead (failed, finished, started by a worker
    that has been gone longer than a lease, or said to be queued for longer than a lease but in no queue), None
    when no such job exists.

    A worker pops a job from its queue (``BLPOP``) and only then marks it started: one that loses Redis in between
    (a restart, a failover) leaves the job "queued" in no queue, and nothing else would ever run it."""
    pipe = connection.pipeline(transaction=False)
    for job_id in job_ids:
        pipe.hmget(Job.key_for(job_id), "status", "started_at", "enqueued_at", "origin")
    out: list[bool | None] = []
    waiting: dict[str, set[str]] = {}  # queue name -> the job ids in it, read once per call when needed
    for job_id, (status, started_at, enqueued_at, origin) in zip(job_ids, pipe.execute(), strict=True):
        if status is None:
            out.append(None)
        elif status == b"queued" and enqueued_at and origin and now - _epoch(enqueued_at) >= config.lease_s:
            name = origin.decode()
            if name not in waiting:
                waiting[name] = set(texts(connection.lrange(Queue(name, connection=connection).key, 0, -1)))
            out.append(job_id in waiting[name])
        elif status in _LIVE:
            out.append(True)
        elif status == b"started" and started_at:
            out.append(now - _epoch(started_at) < config.lease_s)
        else:
            out.append(False)
    return out


def _epoch(stamp: bytes) -> float:
    """One of RQ's timestamps (ISO-8601 UTC) as an epoch."""
    return datetime.fromisoformat(stamp.decode().replace("Z", "+00:00")).timestamp()
