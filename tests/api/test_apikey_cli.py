"""``gateway apikey create``: the key alone on the last line, only its hash stored, scopes honoured."""

from __future__ import annotations

from click.testing import CliRunner

from gateway.cli import main
from outbox.apikeys import lookup


def test_apikey_create(redis, redis_url, monkeypatch, client):
    monkeypatch.setenv("REDIS_URL", redis_url)
    result = CliRunner().invoke(main, ["apikey", "create", "Red Cross KE", "--scopes", "broadcasts,cap"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    record = lookup(redis, key)
    assert record.agency == "Red Cross KE" and record.scopes == ("broadcasts", "cap")
    assert not any(key.encode() in k or key.encode() in b"".join(redis.hvals(k)) for k in redis.keys("apikey:*"))
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/broadcasts", headers=headers).status_code == 200
    assert client.get("/api/v1/subscribers/count", headers=headers).status_code == 403
    everything = CliRunner().invoke(main, ["apikey", "create", "UNHCR"]).output.strip().splitlines()[-1]
    assert lookup(redis, everything).scopes == ("broadcasts", "subscribers", "reports", "cap")
    bad = CliRunner().invoke(main, ["apikey", "create", "X", "--scopes", "admin"])
    assert bad.exit_code != 0
