"""Helpers for flow tests: what the outbox queued, and running queued jobs in-process."""

from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker

from tests.conftest import TEST_KEYRING

QUEUES = ("emergency", "normal")


def queued_jobs(redis: Redis) -> list:
    jobs = []
    for name in QUEUES:
        jobs.extend(Queue(name, connection=redis).jobs)
    return jobs


def queued_args(redis: Redis) -> str:
    """Every queued job's arguments, as one string to search."""
    return "\n".join(f"{job.func_name} {job.args!r} {job.kwargs!r}" for job in queued_jobs(redis))


def queued_sms(redis: Redis) -> list[tuple[str, str]]:
    """Every queued single SMS as (number, text), opened as the worker would (they are stored sealed)."""
    return [(TEST_KEYRING.unseal(job.args[0]), TEST_KEYRING.decrypt(job.args[1], context=job.args[0]))
            for job in queued_jobs(redis) if job.func_name == "outbox.jobs.send_single"]


def run_jobs(redis: Redis, *, only: str | None = None) -> None:
    """Run queued jobs in this process (burst). ``only`` keeps the worker to one queue."""
    names = [only] if only else list(QUEUES)
    SimpleWorker([Queue(n, connection=redis) for n in names], connection=redis).work(burst=True)
