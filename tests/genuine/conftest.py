"""Fixtures of the genuine-or-fake checks: agency keys as the API tests have them."""

from __future__ import annotations

import pytest
from redis import Redis

from outbox.apikeys import create_key


@pytest.fixture
def key_a(redis: Redis) -> dict[str, str]:
    key, _ = create_key(redis, "agency-a", countries=["KE"])
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def key_b(redis: Redis) -> dict[str, str]:
    key, _ = create_key(redis, "agency-b", countries=["QA"])
    return {"Authorization": f"Bearer {key}"}
