"""The gateway behind Redis Sentinel: it follows the primary the Sentinels name, apologises while there is none,
is whole again after a promotion without a restart, and answers an API write only once a replica holds it.

Each test starts its own primary, replica and three Sentinels (tests/redis_topology.py). The process-level drill
(two ``gateway serve``, two ``gateway worker``, a broadcast) is in tests/test_failover_drill.py.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.config import ConfigError, Settings
from gateway.redis_client import connect, wait_for_replica
from outbox.apikeys import create_key
from tests.conftest import Phone
from tests.redis_topology import SentinelGroup, wait_until


@pytest.fixture
def group(tmp_path: Path):
    sentinels = SentinelGroup(tmp_path / "redis").start()
    yield sentinels
    sentinels.stop()


def _settings(group: SentinelGroup, tmp_path: Path) -> Settings:
    return replace(Settings.from_env({**group.env, "GATEWAY_SECRET": "s" * 40}), var_dir=tmp_path / "var")


def test_sentinel_settings_are_read_and_checked():
    settings = Settings.from_env({"REDIS_SENTINELS": "10.0.0.5:26379, [::1]:26380", "REDIS_SENTINEL_MASTER": "gw"})
    assert settings.redis_sentinels == (("10.0.0.5", 26379), ("::1", 26380))
    assert settings.redis_sentinel_master == "gw"
    with pytest.raises(ConfigError, match="REDIS_SENTINEL_MASTER"):
        Settings.from_env({"REDIS_SENTINELS": "10.0.0.5:26379"})
    with pytest.raises(ConfigError, match="REDIS_SENTINELS"):
        Settings.from_env({"REDIS_SENTINELS": "10.0.0.5", "REDIS_SENTINEL_MASTER": "gw"})


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_ussd_apologises_without_a_primary_and_recovers_after_the_promotion(group, tmp_path):
    app = create_app(_settings(group, tmp_path))
    client = app.test_client()
    handset = Phone(client)
    handset.dial()
    assert handset.send("1").startswith("CON Welcome")
    old = group.primary_port()

    group.node(old).kill()
    started = time.monotonic()
    body = handset.send("3")
    assert body.startswith("END ") and time.monotonic() - started < 1.0
    assert client.get("/healthz").status_code == 503
    handset.inputs.pop()

    group.wait_promotion(old)
    promoted = time.monotonic()

    def whole() -> bool:
        fresh = Phone(client, phone="+254711000077")
        return fresh.dial().startswith("CON ") and client.get("/healthz").status_code == 200
    wait_until(whole, "USSD whole again after the promotion", timeout=15)
    assert time.monotonic() - promoted < 15
    assert handset.redial().startswith("CON ")  # the caller from before the kill: their language was kept


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_an_api_write_is_answered_only_once_a_replica_holds_it(group, tmp_path):
    app = create_app(_settings(group, tmp_path))
    primary = connect(_settings(group, tmp_path))
    key, _ = create_key(primary, "agency-a")
    headers = {"Authorization": f"Bearer {key}"}
    replica = next(node for node in group.nodes if node.port != group.primary_port())
    row = {"phone": "+254711000001", "country": "KE", "language": "sw", "topics": ["weather"]}

    replica.pause(True)  # connected, but confirms nothing
    try:
        started = time.monotonic()
        answer = app.test_client().post("/api/v1/subscribers", json={"subscribers": [row]}, headers=headers)
        assert answer.status_code == 503 and answer.get_json()["error"]["code"] == "not_replicated"
        assert time.monotonic() - started >= 1.5
    finally:
        replica.pause(False)

    row["phone"] = "+254711000002"
    answer = app.test_client().post("/api/v1/subscribers", json={"subscribers": [row]}, headers=headers)
    assert answer.status_code == 200 and answer.get_json()["imported"] == 1
    # Acknowledged means on the replica already, not "soon".
    assert replica.client().dbsize() == primary.dbsize()
    assert wait_for_replica(primary)
