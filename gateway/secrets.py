"""The operator's secrets: where they come from, and the rule that the gateway does not run without them.

``GATEWAY_SECRET`` keys every pseudonym, sealed number, encrypted text and PIN hash (:mod:`identity.keyring`);
``CALLBACK_TOKEN`` is what keeps strangers off AT's callback URLs (AT signs nothing). Neither is ever written to
Redis. In production both come from the environment, and ``gateway serve``/``gateway worker`` refuse to start
without them (CONTRACT §1). On a development machine (``GATEWAY_DEV=1``) and under ``gateway run`` a missing
secret is made once and kept in a file under the var folder, readable by its owner only, so that every process
of the installation (web, worker, ``seed-demo``) derives the same keys and a restart keeps them.
"""

from __future__ import annotations

import os
from pathlib import Path

from identity.keyring import MIN_SECRET_CHARS, Keyring, new_secret

from .config import ConfigError, Settings

SECRET_FILE = "gateway-secret"
TOKEN_FILE = "callback-token"


def kept_value(var_dir: Path, name: str) -> str:
    """The value kept in ``var_dir/name``, made (random, mode 0600) the first time. Written with O_EXCL so two
    processes starting together agree on one value."""
    path = Path(var_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        value = path.read_text().strip()
        if len(value) >= MIN_SECRET_CHARS:
            return value
        raise ConfigError(f"{path} holds no usable secret; delete it to make a new one.") from None
    with os.fdopen(fd, "w") as out:
        out.write(new_secret() + "\n")
    return path.read_text().strip()


def missing(settings: Settings, *, callbacks: bool) -> str | None:
    """Why this process may not start under the production rules, in one line naming the variable; None when it
    may. ``callbacks``: the process answers AT's callbacks (``gateway serve``), so ``CALLBACK_TOKEN`` counts too."""
    if settings.dev:
        return None
    if not settings.secret:
        return (f"GATEWAY_SECRET is not set: set it to a random value of at least {MIN_SECRET_CHARS} characters "
                "(or GATEWAY_DEV=1 on a development machine).")
    if len(settings.secret) < MIN_SECRET_CHARS:
        return f"GATEWAY_SECRET is too short: give at least {MIN_SECRET_CHARS} characters."
    if callbacks and not settings.callback_token:
        return "CALLBACK_TOKEN is not set: AT's callbacks would be open to anyone (or GATEWAY_DEV=1)."
    return None


def keyring(settings: Settings) -> Keyring:
    """The keyring of this installation: from ``GATEWAY_SECRET``, or on a development machine from the kept file."""
    secret = settings.secret
    if not secret:
        if not settings.dev:
            raise ConfigError("GATEWAY_SECRET is not set (or set GATEWAY_DEV=1 on a development machine).")
        secret = kept_value(settings.var_dir, SECRET_FILE)
    try:
        return Keyring(secret)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
