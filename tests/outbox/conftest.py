"""The outbox tests use the shared fixtures of tests/conftest.py (``redis``, ``at_server``, ``drain`` …)."""

from __future__ import annotations

import pytest
from redis import Redis


@pytest.fixture
def conn(redis: Redis) -> Redis:
    """The base conftest's Redis, flushed before each test."""
    return redis
