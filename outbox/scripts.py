"""Lua scripts compiled once per process, not registered on every call.

``Redis.register_script`` builds a ``Script`` and hashes its source each time it is called; the outbox's jobs
run several scripts per batch. A :class:`Lua` is built once, at import, and runs on whichever client or
pipeline is handed to it (``EVALSHA``, loading the script on a server that does not know it yet, as after a
failover to a fresh replica).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from redis.commands.core import Script


class Lua:
    """One script: ``CLAIM = Lua("...")`` at module level, then ``CLAIM(connection, keys, args)``."""

    def __init__(self, source: str) -> None:
        self.source = source
        # Given bytes, redis-py hashes them itself and needs no client; every call names its client.
        self._script = Script(None, source.encode())  # type: ignore[arg-type]

    def __call__(self, client: Any, keys: Sequence[Any] = (), args: Iterable[Any] = ()) -> Any:
        return self._script(keys=keys, args=args, client=client)
