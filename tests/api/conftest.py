"""Agency API fixtures: keys for two agencies, over the base conftest's ``app``, ``client`` and ``redis``."""

from __future__ import annotations

import pytest
from redis import Redis

from outbox.apikeys import create_key


@pytest.fixture
def key_a(redis: Redis) -> dict[str, str]:
    key, _ = create_key(redis, "agency-a")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def key_b(redis: Redis) -> dict[str, str]:
    key, _ = create_key(redis, "agency-b")
    return {"Authorization": f"Bearer {key}"}
