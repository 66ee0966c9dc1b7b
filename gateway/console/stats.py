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
from gateway.voice.service import stats_keys as voice_stats_keys
from menus.catalog import Catalog
from menus.model import MenuSet
from outbox import keys, subscribers
from redis_reply import fields, texts

CACHE_S = 60
CACHE_KEY = "console:stats:subscribers"
STATUSES = ("Success", "Incomplete", "Failed", "Other")
#: AT's final voice ``status`` (documented without its values; ``Success`` and ``Failed`` are what it sends); any
#: other value counts as Other.
VOICE_STATUSES = ("Success", "Failed", "Other")
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
    #: Voice only: the total seconds and the number of calls that reported a duration.
    seconds: tuple[int, int] = (0, 0)

    @property
    def total(self) -> int:
        return sum(sum(v) for v in self.by_status.values())

    @property
    def unfinished(self) -> int:
        """USSD sessions AT reported as ``Incomplete`` or ``Failed``: the caller left before an answer. For
        voice calls (whose status says whether the call connected, not whether the menu ended): the calls
        that ended on a menu screen."""
        if "Incomplete" in self.by_status:
            return sum(self.by_status["Incomplete"]) + sum(self.by_status["Failed"])
        return sum(n for _screen, _title, n in self.dropoff)

    @property
    def average_seconds(self) -> int:
        total, count = self.seconds
        return round(total / count) if count else 0


def _days(days: int, today: datetime | None) -> list[str]:
    today = today or datetime.now(UTC)
    return [(today - timedelta(days=d)).strftime("%Y-%m-%d") for d in range(days - 1, -1, -1)]


def _read(connection: Redis, keys_per_day: list[tuple[str, ...]], statuses: tuple[str, ...], menus: MenuSet,
          catalog: Catalog, lang: str) -> Traffic:
    """Per-day hashes (status counts, drop-off by screen, and for voice the seconds) in one round trip."""
    names = [k[0] for k in keys_per_day]
    pipe = connection.pipeline(transaction=False)
    for _day, *day_keys in keys_per_day:
        for key in day_keys:
            pipe.hgetall(key)
    raw = pipe.execute()
    width = len(keys_per_day[0]) - 1 if keys_per_day else 0
    by_status = {s: [0] * len(names) for s in statuses}
    dropoff: dict[str, int] = {}
    seconds = [0, 0]
    for i in range(len(names)):
        for name, n in fields(raw[width * i]).items():
            by_status[name if name in by_status else "Other"][i] += int(n)
        for screen, n in fields(raw[width * i + 1]).items():
            dropoff[screen] = dropoff.get(screen, 0) + int(n)
        if width > 2:
            spent = fields(raw[width * i + 2])
            seconds[0] += int(spent.get("sum", 0))
            seconds[1] += int(spent.get("count", 0))
    ranked = sorted(dropoff.items(), key=lambda kv: (-kv[1], kv[0]))
    return Traffic(names, by_status, [(s, screen_title(menus, catalog, s, lang), n) for s, n in ranked],
                   (seconds[0], seconds[1]))


def ussd_traffic(connection: Redis, menus: MenuSet, catalog: Catalog, lang: str, *, days: int = 14,
                 today: datetime | None = None) -> Traffic:
    """USSD sessions per day by AT's final status, and the screens unfinished sessions ended on."""
    return _read(connection, [(day, *stats_keys(day)) for day in _days(days, today)], STATUSES, menus, catalog,
                 lang)


def voice_traffic(connection: Redis, menus: MenuSet, catalog: Catalog, lang: str, *, days: int = 14,
                  today: datetime | None = None) -> Traffic:
    """Voice calls per day by AT's final status, the screens callers hung up on, and the call seconds (the
    statistics :mod:`gateway.voice.service` keeps at each call's end)."""
    return _read(connection, [(day, *voice_stats_keys(day)) for day in _days(days, today)], VOICE_STATUSES,
                 menus, catalog, lang)


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
