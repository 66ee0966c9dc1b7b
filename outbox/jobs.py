"""The RQ jobs of the outbox: fan a broadcast out into batches, send one batch, send one message.

Jobs are the only place the provider is called. Each reads its Redis connection from its own RQ job and the
provider and settings from :func:`outbox.config.runtime`. A job's arguments are ids, never secrets.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import get_current_job

from identity.phones import mask
from redis_reply import number, optional_text

from . import broadcasts, dlr, keys, queues, subscribers, throttle, voice
from .config import runtime
from .errors import ProviderAuthError, ProviderError, ProviderUnavailable
from .ledger import Ledger, drain_resolved
from .states import Status

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Batches enqueued per round trip while fanning out.
ENQUEUE_CHUNK = 50
#: Passes over the resolved audience before a fan-out gives up and leaves the rest to the sweeper's re-run.
FANOUT_ROUNDS = 3
#: After the provider took a batch, keep trying to record it for this share of the lease before giving up (a
#: batch not recorded is re-sent after its lease: the one duplicate the design allows per crash).
RECORD_RETRY_SHARE = 0.5


def _connection() -> Redis:
    job = get_current_job()
    if job is None:
        raise RuntimeError("outbox jobs run inside an RQ worker (the job supplies the Redis connection).")
    return job.connection


def fanout(broadcast_id: str) -> str:
    """Resolve a large audience left to this job, cut the resolved audience into batches and enqueue those that
    are due. Safe to re-run."""
    connection = _connection()
    config = runtime().config
    lock = keys.fanout_lock(broadcast_id)
    if not connection.set(lock, "1", nx=True, ex=config.lease_s):
        return "busy"
    try:
        meta = connection.hmget(keys.broadcast(broadcast_id), "langs", "priority", "send_at", "fanout")
        langs, priority, send_at, fanout = (optional_text(value) for value in meta)
        if langs is None or priority is None or fanout == "1":
            return "nothing to do"
        # A large audience is resolved here, not in POST /broadcasts (outbox.broadcasts.resolve_deferred).
        broadcasts.resolve_deferred(connection, broadcast_id, config)
        languages = [lang for lang in langs.split(",") if lang]
        due = number(send_at) <= time.time()
        ledger = Ledger(connection, broadcast_id)
        stopped = False
        for _ in range(FANOUT_ROUNDS):
            ready: list[tuple[int, int]] = []
            for lang in languages:
                while not stopped:
                    seq = ledger.cut(lang, config.batch_size, time.time())
                    if seq == -3:
                        raise RuntimeError(f"Broadcast {broadcast_id}: audience not resolved on this Redis.")
                    stopped = seq == -2
                    if seq < 0:
                        break
                    if due:
                        ready.append((seq, 0))
                    if len(ready) >= ENQUEUE_CHUNK:
                        queues.enqueue_batches(connection, broadcast_id, priority, ready)
                        ready = []
                        connection.expire(lock, config.lease_s)
            queues.enqueue_batches(connection, broadcast_id, priority, ready)
            if stopped:
                drain_resolved(connection, broadcast_id, languages)
            # Done only if this Redis holds no member left to cut (a cut that went to a former primary did not).
            if ledger.fanout_done(time.time(), languages) >= 0:
                return "stopped" if stopped else "done"
        raise RuntimeError(f"Broadcast {broadcast_id}: resolved audience not drained; the sweeper re-runs it.")
    finally:
        connection.delete(lock)


def send_batch(broadcast_id: str, number: int, attempt: int) -> str:
    """Send one batch: claim it, skip opted-out numbers, hand it to the provider, record the outcome."""
    connection = _connection()
    rt = runtime()
    config = rt.config
    ledger = Ledger(connection, broadcast_id)
    size = int(connection.hget(keys.batch(broadcast_id, number), "n") or 0)
    if size == 0:
        return "settled"
    throttle.acquire(connection, config.account, size, rate=config.send_rate,
                     capacity=max(config.send_rate, config.batch_size))
    claimed_at = time.time()
    claim = ledger.claim(number, attempt, claimed_at, config.lease_s)
    if claim.outcome != "ok":
        return claim.outcome
    opted = connection.smismember(keys.optout_set(), list(claim.phones)) if claim.phones else []
    tokens = [t for t, o in zip(claim.phones, opted, strict=True) if not o]
    opted_out = len(claim.phones) - len(tokens)
    # The batch holds sealed numbers; they are opened here, for the provider call, and never written back.
    token_of = {_digits(config.keyring.unseal(t)): t for t in tokens}
    # Voice subscribers are called instead of texted (outbox.voice); whoever was not called gets the SMS.
    called = voice.place_alert_calls(connection, rt, broadcast_id, claim.language, token_of)
    token_of = {digits: t for digits, t in token_of.items() if t not in called}
    phones = ["+" + digits for digits in token_of]
    results = []
    if phones:
        try:
            results = rt.provider.send(claim.text, phones)
        except ProviderAuthError as exc:
            log.error("Broadcast %s failed: %s", broadcast_id, exc)
            ledger.stop(Status.FAILED, time.time(), reason=str(exc))
            ledger.release(number, attempt, time.time(), retry_at=None, reason="provider_auth")
            return "failed"
        except ProviderUnavailable as exc:
            give_up = attempt + 1 >= config.max_attempts
            log.warning("Batch %s/%d attempt %d: %s (%s)%s", broadcast_id, number, attempt, exc, exc.detail[:80],
                        "; giving up" if give_up else "; will retry")
            now = time.time()
            ledger.release(number, attempt, now, retry_at=None if give_up else now + config.backoff(attempt),
                           reason="provider_unavailable")
            return "retry"
        except ProviderError as exc:
            log.error("Batch %s/%d: %s", broadcast_id, number, exc)
            ledger.release(number, attempt, time.time(), retry_at=None, reason="provider_error")
            return "failed"
    accepted = {r.phone: r for r in results if r.accepted}
    can_retry = attempt + 1 < config.max_attempts
    retry = [token_of[_digits(r.phone)] for r in results if r.transient and _digits(r.phone) in token_of] \
        if can_retry else []
    reasons: Counter[str] = Counter(r.status or str(r.status_code) for r in results
                                    if not r.accepted and not (can_retry and r.transient))
    answered = {_digits(r.phone) for r in results}
    missing = sum(1 for digits in token_of if digits not in answered)
    if missing:
        reasons["NoResult"] += missing
    message_ids = [r.message_id for r in accepted.values() if r.message_id]
    rejected = len(phones) - len(accepted) - len(retry)

    def record() -> bool:
        dlr.record_sent(connection, broadcast_id, message_ids)
        return ledger.complete(number, attempt, time.time(), sent=len(accepted), failed=rejected,
                               opted_out=opted_out, reasons=reasons, language=claim.language, retry=retry,
                               retry_at=time.time() + config.backoff(attempt), called=len(called))

    _retry_redis(record, deadline=claimed_at + config.lease_s * RECORD_RETRY_SHARE)
    if rejected:
        log.info("Batch %s/%d: %d sent, %d rejected (%s)", broadcast_id, number, len(accepted), rejected,
                 dict(reasons))
    return "sent"


def prune_subscribers() -> int:
    """The daily prune of lapsed subscribers from the audience sets (queued by the sweeper)."""
    return subscribers.prune_expired(_connection())


def _digits(phone: str) -> str:
    """A number as the provider may echo it (with or without ``+``), reduced to its digits for matching."""
    return phone.lstrip("+")


def send_single(token: str, sealed_text: str) -> str:
    """Send one individual SMS (a confirmation, a helpline number): the number sealed and the text encrypted
    (:func:`outbox.sms.queue_message`), opened only here. Transient failures raise, so RQ retries."""
    connection = _connection()
    rt = runtime()
    phone = rt.config.keyring.unseal(token)
    text = rt.config.keyring.decrypt(sealed_text, context=token)
    throttle.acquire(connection, rt.config.account, 1, rate=rt.config.send_rate,
                     capacity=max(rt.config.send_rate, rt.config.batch_size))
    try:
        results = rt.provider.send(text, [phone])
    except ProviderAuthError:
        log.error("SMS to %s not sent: the provider refused our credentials.", mask(phone))
        return "failed"
    result = results[0] if results else None
    if result is None or not result.accepted:
        log.info("SMS to %s rejected: %s", mask(phone), result.status if result else "no result")
        return "rejected"
    if result.message_id:
        dlr.record_sent(connection, dlr.SINGLE, [result.message_id])
    return "sent"


def _retry_redis(action: Callable[[], T], *, deadline: float) -> T:
    """Run ``action``, retrying through a Redis outage until ``deadline``."""
    pause = 0.2
    while True:
        try:
            return action()
        except (RedisConnectionError, RedisTimeoutError):
            if time.time() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
