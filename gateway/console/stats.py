"""Figures for the dashboard: subscribers by country, language and topic; USSD sessions and where they drop.

Subscriber counts use :func:`outbox.subscribers.count` (the API's ``GET /subscribers/count``), one audience union
per country, language and topic. With a million subscribers each union takes a noticeable moment, so the
breakdown is kept :data:`CACHE_S` seconds in Redis, shared by every console user and process.

USSD figures are the end-of-session statistics :mod:`gateway.ussd_events` keeps per day (sessions by final
status, and the last screen of sessions that did not finish).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis import Redis

from gateway.ussd_events import stats_keys
from menus.catalog import Catalog
from menus.model import MenuSet
from outbox import keys, subscribers
from redis_reply import fields, texts

CACHE_S = 60
CACHE_KEY = "console:stats:subscribers"
STATUSES = ("Success", "Incomplete", "Failed", "Other")
#: A screen's title is cut to this on a chart's axis.
TITLE_CHARS = 28


@dataclass(frozen=True)
class Breakdown:
    total: int
    countries: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    topics: list[tuple[str, int]]


def subscriber_breakdown(connection: Redis, *, fresh: bool = False) -> Breakdown:
    cached = None if fresh else connection.get(CACHE_KEY)
    if cached:
        data = json.loads(cached)
    else:
        countries = sorted(texts(connection.smembers(keys.known_countries())))
        languages = sorted(texts(connection.smembers(keys.known_languages())))
        data = {
            "total": subscribers.count(connection),
            "countries": [(c, subscribers.count(connection, country=c)) for c in countries],
            "languages": [(lang, subscribers.count(connection, language=lang)) for lang in languages],
            "topics": [(t, subscribers.count(connection, topic=t)) for t in subscribers.TOPICS],
        }
        connection.set(CACHE_KEY, json.dumps(data), ex=CACHE_S)

    def ranked(pairs: list[list[object]] | list[tuple[str, int]]) -> list[tuple[str, int]]:
        return sorted(((str(k), int(str(n))) for k, n in pairs), key=lambda kv: (-kv[1], kv[0]))

    return Breakdown(int(data["total"]), ranked(data["countries"]), ranked(data["languages"]),
                     [(str(k), int(n)) for k, n in data["topics"]])


def forget_breakdown(connection: Redis) -> None:
    """After an import or a removal, so the person who made it sees its effect."""
    connection.delete(CACHE_KEY)


@dataclass(frozen=True)
class Traffic:
    days: list[str]
    by_status: dict[str, list[int]]
    dropoff: list[tuple[str, str, int]]  # (screen id, its title, sessions that ended there unfinished)

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.by_status.values())

    @property
    def unfinished(self) -> int:
        """Sessions AT reported as ``Incomplete`` or ``Failed``: the caller left before an answer."""
        return sum(self.by_status["Incomplete"]) + sum(self.by_status["Failed"])


def ussd_traffic(connection: Redis, menus: MenuSet, catalog: Catalog, lang: str, *, days: int = 14,
                 today: datetime | None = None) -> Traffic:
    today = today or datetime.now(UTC)
    names = [(today - timedelta(days=d)).strftime("%Y-%m-%d") for d in range(days - 1, -1, -1)]
    pipe = connection.pipeline(transaction=False)
    for day in names:
        status_key, dropoff_key = stats_keys(day)
        pipe.hgetall(status_key)
        pipe.hgetall(dropoff_key)
    raw = pipe.execute()
    by_status = {s: [0] * days for s in STATUSES}
    dropoff: dict[str, int] = {}
    for i in range(days):
        for name, n in fields(raw[2 * i]).items():
            by_status[name if name in by_status else "Other"][i] += int(n)
        for screen, n in fields(raw[2 * i + 1]).items():
            dropoff[screen] = dropoff.get(screen, 0) + int(n)
    ranked = sorted(dropoff.items(), key=lambda kv: (-kv[1], kv[0]))
    return Traffic(names, by_status, [(s, screen_title(menus, catalog, s, lang), n) for s, n in ranked])


def screen_title(menus: MenuSet, catalog: Catalog, screen_id: str, lang: str) -> str:
    """The first line of a screen's text as a caller reads it (English when the console's language has none)."""
    screen = menus.screens.get(screen_id)
    if screen is None or not screen.text:
        return screen_id
    text_lang = lang if catalog.supports(lang) else "en"
    try:
        text = catalog.text(text_lang, screen.text)
    except (KeyError, ValueError):
        return screen_id
    line = text.split("\n", 1)[0]
    return line if len(line) <= TITLE_CHARS else line[:TITLE_CHARS - 1].rstrip() + "…"
