"""Prometheus metrics. Labels are low-cardinality outcomes: never a number, a session id or a country list.

Under several server workers the counters live in ``PROMETHEUS_MULTIPROC_DIR`` (set by ``gateway serve``), and
``/metrics`` aggregates them, so a scrape sees every worker rather than whichever one answered.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

# ``*_created`` series double the exposition for no use here.
disable_created_metrics()

USSD_REQUESTS = Counter("gateway_ussd_requests_total", "USSD callbacks answered, by outcome.", ["outcome"])
USSD_LATENCY = Histogram(
    "gateway_ussd_request_seconds",
    "Time to answer a USSD callback.",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
_USSD_OUTCOMES: dict[str, Counter] = {}


def ussd_outcome(outcome: str) -> Counter:
    """The request counter's child for ``outcome``, looked up once per outcome (``labels()`` on every USSD
    request was a measurable share of the hot path)."""
    child = _USSD_OUTCOMES.get(outcome)
    if child is None:
        child = _USSD_OUTCOMES[outcome] = USSD_REQUESTS.labels(outcome)
    return child


USSD_EVENTS = Counter("gateway_ussd_session_events_total", "End-of-session notifications, by status.", ["status"])


def render() -> tuple[bytes, str]:
    """The exposition text for ``/metrics`` and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
