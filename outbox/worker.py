"""The outbox worker: an RQ worker that drains the emergency queue before the normal one."""

from __future__ import annotations

from redis import Redis
from rq import Queue, Worker

#: Workers listen in this order, so emergency work overtakes whatever normal work is queued.
QUEUES = ("emergency", "normal")


def run_worker(connection: Redis, *, burst: bool = False) -> bool:
    queues = [Queue(name, connection=connection) for name in QUEUES]
    return Worker(queues, connection=connection).work(burst=burst, with_scheduler=True)
