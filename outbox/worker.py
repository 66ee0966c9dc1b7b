"""The outbox worker: an RQ worker that drains the emergency queue before the normal one, runs the sweeper,
and outlives Redis outages.

RQ's ``work()`` returns when it loses Redis mid-loop; this loop starts it again with a back-off, so a worker
rides out a Redis restart. Jobs run in the worker's own process (``SimpleWorker``): a batch is one quick HTTP
request, so forking per job would cost more than the job; the ledger, not process isolation, is what makes a
crash safe.
"""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker

from .config import OutboxConfig, configure
from .provider import Provider
from .queues import PRIORITIES
from .sweeper import sweep
from .voice import VoiceProvider

log = logging.getLogger(__name__)

#: Workers listen in this order, so emergency work overtakes whatever normal work is queued.
QUEUES = PRIORITIES
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 30.0
#: RQ's worker time-to-live. RQ waits on its queues for this less 15 s, and raises the socket timeout of every
#: connection of the worker's pool (the jobs' and the sweeper's too) to that wait plus 10 s: with RQ's default
#: (420 s) a worker whose primary hung (a partition: no reset, no answer) sat 415 s on a dead socket after the
#: Sentinels had promoted another. 35 s keeps the gateway's own 30 s timeout (gateway/cli.py).
WORKER_TTL_S = 35


class Sweeper(threading.Thread):
    """Calls :func:`outbox.sweeper.sweep` every ``interval`` seconds until stopped; survives Redis errors."""

    def __init__(self, connection: Redis, config: OutboxConfig) -> None:
        super().__init__(name="outbox-sweeper", daemon=True)
        self.connection = connection
        self.config = config
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.config.sweep_interval_s):
            try:
                sweep(self.connection, self.config)
            except RedisError as exc:
                log.warning("Sweeper: Redis unavailable (%s); will try again.", type(exc).__name__)
            except Exception:  # a bug must not stop the safety net; it is logged with its traceback
                log.exception("Sweeper pass failed.")


def _unsubscribe(worker: SimpleWorker) -> None:
    """Stop the pub/sub thread of a worker that lost Redis. RQ's teardown first records the worker's death, which
    raises while Redis is gone, and never reaches its unsubscribe: each restart would then leave a thread holding
    one of the pool's connections until the pool ran dry ("No connection available")."""
    if worker.pubsub_thread is not None:
        worker.pubsub_thread.stop()  # the loop ends within its 60 s poll and closes the pub/sub with its connection


def run_worker(connection: Redis, *, provider: Provider, config: OutboxConfig, burst: bool = False,
               logging_level: str = "INFO", voice: VoiceProvider | None = None) -> bool:
    """Work the queues until stopped (or, with ``burst``, until they are empty). Returns whether any job ran."""
    configure(provider, config, voice)
    queues = [Queue(name, connection=connection) for name in QUEUES]
    sweeper = Sweeper(connection, config)
    if burst:
        sweep(connection, config, force=True)
    else:
        sweeper.start()
    pause = RECONNECT_MIN_S
    worked = False
    try:
        while True:
            worker = None
            started = time.monotonic()
            try:
                # Inside the try: RQ's constructor talks to Redis (CLIENT SETNAME), so a worker restarting during
                # an outage would otherwise die here (tests/outbox/test_crash_drills.py).
                worker = SimpleWorker(queues, connection=connection, worker_ttl=WORKER_TTL_S)
                worked = worker.work(burst=burst, with_scheduler=not burst, logging_level=logging_level) or worked
            except RedisError as exc:
                log.warning("Worker lost Redis (%s); reconnecting in %.0f s.", type(exc).__name__, pause)
            else:
                # An idle worker told to stop leaves without setting _stop_requested; RQ notes the request's date.
                if burst or worker._stop_requested or worker._shutdown_requested_date is not None:
                    return worked
                log.warning("Worker stopped without a request (Redis gone?); restarting in %.0f s.", pause)
            if worker is not None:
                _unsubscribe(worker)
            if time.monotonic() - started > RECONNECT_MAX_S:
                pause = RECONNECT_MIN_S  # it had been working: a fresh outage starts with a short wait
            time.sleep(pause)
            pause = min(pause * 2, RECONNECT_MAX_S)
    finally:
        sweeper.stopped.set()
