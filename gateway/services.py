"""What handlers get to work with, and the registry that plugs them into the menus by name.

The gateway builds :class:`Services` once per process. Handlers receive it through ``Caller.services``; effects
they return are dispatched here after the session is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from redis import Redis

from menus.catalog import Catalog
from menus.engine import Caller, Effect, Handler

from .config import Settings

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    redis: Redis
    catalog: Catalog


#: Every handler a menu may name as ``handler`` or ``action``. Handlers are plain functions of a
#: :class:`menus.engine.Call`; they reach Redis and the outbox through ``call.caller.services``.
HANDLERS: dict[str, Handler] = {}


def dispatch_effects(services: Services, effects: Sequence[Effect], caller: Caller) -> None:
    """Hand effects to the outbox. Never raises: the caller already has their answer."""
    for effect in effects:
        log.warning("No dispatcher for effect %r; dropped.", effect.kind)
