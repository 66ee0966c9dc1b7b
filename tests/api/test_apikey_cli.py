"""``gateway apikey create/list/revoke`` (CONTRACT §1): the key alone on the last line, only its hash stored,
scopes honoured (``reports`` never by default), countries kept, keys listed without the key, revoked at once."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.cli import main
from outbox.apikeys import lookup


@pytest.fixture
def cli(redis_url, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("GATEWAY_DEV", "1")

    def run(*args: str):
        return CliRunner().invoke(main, ["apikey", *args])

    return run


def test_apikey_create(redis, cli, client):
    result = cli("create", "Red Cross KE", "--scopes", "broadcasts,cap")
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    record = lookup(redis, key)
    assert record.agency == "Red Cross KE" and record.scopes == ("broadcasts", "cap") and record.countries == ()
    assert not any(key.encode() in k or key.encode() in b"".join(redis.hvals(k)) for k in redis.keys("apikey*")
                   if redis.type(k) == b"hash")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/broadcasts", headers=headers).status_code == 200
    assert client.get("/api/v1/subscribers/count", headers=headers).status_code == 403
    bad = cli("create", "X", "--scopes", "admin")
    assert bad.exit_code != 0
    assert cli("create", "X", "--countries", "KE,Kenya").exit_code != 0


def test_reports_is_never_a_default_scope(redis, cli, client):
    key = cli("create", "UNHCR").output.strip().splitlines()[-1]
    assert lookup(redis, key).scopes == ("broadcasts", "subscribers", "cap", "registry")
    assert client.get("/api/v1/reports", headers={"Authorization": f"Bearer {key}"}).status_code == 403


def test_list_shows_keys_without_the_key_and_revoke_takes_effect_at_once(redis, cli, client):
    made = cli("create", "IOM Kenya", "--scopes", "reports,broadcasts", "--countries", "ke,UGA")
    key = made.output.strip().splitlines()[-1]
    record = lookup(redis, key)
    assert record.countries == ("KE", "UG") and record.id in made.output
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/broadcasts", headers=headers).status_code == 200
    listing = cli("list")
    assert listing.exit_code == 0 and key not in listing.output
    row = next(line for line in listing.output.splitlines() if record.id in line)
    assert "IOM Kenya" in row and "reports,broadcasts" in row and "KE,UG" in row and "never" not in row
    revoked = cli("revoke", record.id)
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/broadcasts", headers=headers).status_code == 401
    assert record.id not in cli("list").output
    assert cli("revoke", record.id).exit_code != 0
