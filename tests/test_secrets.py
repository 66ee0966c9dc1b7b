"""Secure by default (CONTRACT §1): no secret, no service; secrets never in Redis; `gateway run` keeps its own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

from gateway.config import ConfigError, Settings
from gateway.demo import seed
from gateway.secrets import SECRET_FILE, kept_value, keyring
from tests.conftest import TEST_SECRET

TOKEN = "callback-token-for-tests"


def _gateway(*args: str, env: dict[str, str], timeout: float = 20) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("GATEWAY_SECRET", "CALLBACK_TOKEN", "GATEWAY_DEV")}
    return subprocess.run([sys.executable, "-m", "gateway", *args], env={**clean, **env}, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize(
    ("command", "env", "variable"),
    [
        ("serve", {}, "GATEWAY_SECRET"),
        ("serve", {"GATEWAY_SECRET": "too short"}, "GATEWAY_SECRET"),
        ("serve", {"GATEWAY_SECRET": TEST_SECRET}, "CALLBACK_TOKEN"),
        ("worker", {}, "GATEWAY_SECRET"),
        ("seed-demo", {}, "GATEWAY_SECRET"),
    ],
)
def test_production_processes_refuse_to_start_without_their_secrets(redis_url: str, tmp_path: Path, command: str,
                                                                     env: dict[str, str], variable: str) -> None:
    done = _gateway(command, env={"REDIS_URL": redis_url, "GATEWAY_VAR_DIR": str(tmp_path), **env})
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0]
    assert not (tmp_path / SECRET_FILE).exists()  # production never makes one up


def test_a_worker_with_its_secret_starts(redis: Redis, redis_url: str, tmp_path: Path) -> None:
    done = _gateway("worker", "--burst", env={"REDIS_URL": redis_url, "GATEWAY_VAR_DIR": str(tmp_path),
                                              "GATEWAY_SECRET": TEST_SECRET})
    assert done.returncode == 0, done.stderr


def test_a_development_machine_keeps_one_secret_owner_only(tmp_path: Path) -> None:
    settings = Settings.from_env({"GATEWAY_DEV": "1", "GATEWAY_VAR_DIR": str(tmp_path / "var")})
    first, again = keyring(settings), keyring(settings)
    assert first.pseudonym("+254711000001") == again.pseudonym("+254711000001")
    path = tmp_path / "var" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kept_value(tmp_path / "var", SECRET_FILE) == path.read_text().strip()


def test_without_the_dev_flag_no_secret_is_made_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GATEWAY_SECRET"):
        keyring(Settings.from_env({"GATEWAY_VAR_DIR": str(tmp_path)}))


def test_seed_demo_refuses_a_production_installation(redis: Redis) -> None:
    production = Settings.from_env({"AT_USERNAME": "agency", "AT_API_KEY": "k", "GATEWAY_SECRET": TEST_SECRET})
    with pytest.raises(ConfigError, match="AT_USERNAME"):
        list(seed(redis, production))
    assert redis.dbsize() == 0


def test_the_dev_warning_says_callbacks_are_open(redis_url: str, tmp_path: Path) -> None:
    """`serve` on a development machine without CALLBACK_TOKEN starts, and says at once that callbacks are open."""
    env = {**os.environ, "REDIS_URL": redis_url, "GATEWAY_VAR_DIR": str(tmp_path), "GATEWAY_DEV": "1"}
    with subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--port", "0"], env=env, text=True,
                          stderr=subprocess.PIPE, stdout=subprocess.DEVNULL) as proc:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        proc.terminate()
    assert "CALLBACK_TOKEN" in first and "open" in first
