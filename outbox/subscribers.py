"""The subscriber store, shared by the agency API, inbound SMS keywords and the USSD alerts menu.

A subscription is a set of (country, topic) pairs: subscribing to Lebanon/Safety and then Jordan/Weather gives
exactly those two, never safety and weather for both. A subscriber is a hash ``{aud}:sub:<sealed number>``
(language, pairs, consent time, source) and a member of one audience set per (country, language, topic) it holds.
Opt-outs live in one set ``{aud}:optout``, the single truth for "do not send", which also covers numbers that
never subscribed (an explicit-phones broadcast skips them). An audience is then a ``SUNIONSTORE`` of a few sets
minus the opt-out set (:func:`matching_sets`): no scan of subscribers in Python, and a broadcast to countries ×
topics reaches a subscriber only through a pair they hold. Every change to one subscriber is one Lua script, so a
concurrent USSD and API change cannot leave a record and its index disagreeing.

Records written before pairs (fields ``c`` and ``t``, countries and topics) meant every country × every topic, and
their index holds exactly that cross product: they are read as those pairs and rewritten as pairs on their next
change, so existing data needs no migration.

Numbers are kept because an SMS must go to them, and only sealed (:meth:`identity.keyring.Keyring.seal`):
deterministic encryption, so the same number is the same member in every set and the opt-out set, and a copy of
Redis without ``GATEWAY_SECRET`` holds no number. Only a worker unseals, right before the provider call.

A record lives :data:`SUBSCRIBER_TTL_S` after the person's last subscription or confirmation; once it has
expired, :func:`prune_expired` (a daily job the sweeper enqueues) takes its token out of the audience sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from redis import Redis

from identity.codes import country_code, language_code
from identity.keyring import Keyring
from identity.phones import normalise, region_of
from menus.catalog import Catalog
from redis_reply import text, texts

from . import keys

TOPICS = ("safety", "health", "weather", "work")
#: How a subscriber takes broadcasts: a text, or a phone call that speaks it (:mod:`outbox.voice`).
CHANNELS = ("sms", "voice")
#: Sources that count as the person asking for alerts themselves: only these lift an earlier opt-out.
OPT_IN_SOURCES = frozenset({"ussd", "sms"})
#: Rows per pipeline round trip when importing.
IMPORT_CHUNK = 2000
#: A subscription not renewed (subscribed again, confirmed by JOIN/START) for this long lapses.
SUBSCRIBER_TTL_S = 400 * 24 * 3600
#: Members checked per round trip while pruning lapsed subscribers from the audience sets.
PRUNE_CHUNK = 1000

# The record's pairs as a Lua set {"KE:safety" = true}: field ``p``, or a record from before pairs (``c`` × ``t``).
_READ_PAIRS = """
local function read_pairs(rec)
  local old = redis.call('HMGET', rec, 'l', 'p', 'c', 't')
  local held = {}
  if old[2] then
    for p in string.gmatch(old[2], '[^,]+') do held[p] = true end
  elseif old[3] then
    for c in string.gmatch(old[3], '[^,]+') do
      for t in string.gmatch(old[4] or '', '[^,]+') do held[c .. ':' .. t] = true end end
  end
  return old[1], held
end
local function sorted_keys(set)
  local out = {} for k in pairs(set) do out[#out + 1] = k end table.sort(out) return out
end
local function split_pair(p) return string.match(p, '^([^:]+):(.+)$') end
"""

# Merge pairs into the record and the index. KEYS: record, known countries, known languages, opt-out set, voice
# set. ARGV: sealed phone, language, pairs csv (``KE:safety``), consent time, source, clear opt-out (0/1),
# audience-set format (:func:`outbox.keys.audience_set_format`), record lifetime, channel ('sms', 'voice', or ''
# to keep the record's). Pairs are a union with those held; a new language moves every membership to the new
# language's sets. The voice set follows the record's channel.
_SUBSCRIBE = _READ_PAIRS + """
local rec = KEYS[1]
local phone, lang, aset = ARGV[1], ARGV[2], ARGV[7]
local old_lang, held = read_pairs(rec)
local ch = ARGV[9]
if ch == '' then ch = redis.call('HGET', rec, 'ch') or 'sms' end
if ch == 'voice' then redis.call('SADD', KEYS[5], phone) else redis.call('SREM', KEYS[5], phone) end
if old_lang and old_lang ~= lang then
  for p in pairs(held) do local c, t = split_pair(p)
    redis.call('SREM', string.format(aset, c, old_lang, t), phone) end
end
for p in string.gmatch(ARGV[3], '[^,]+') do held[p] = true end
local list = sorted_keys(held)
for _, p in ipairs(list) do local c, t = split_pair(p)
  redis.call('SADD', KEYS[2], c)
  redis.call('SADD', string.format(aset, c, lang, t), phone)
end
redis.call('SADD', KEYS[3], lang)
redis.call('HSET', rec, 'l', lang, 'p', table.concat(list, ','), 'at', ARGV[4], 's', ARGV[5], 'ch', ch)
redis.call('HDEL', rec, 'c', 't')
redis.call('EXPIRE', rec, ARGV[8])
if ARGV[6] == '1' then redis.call('SREM', KEYS[4], phone) end
return 1
"""

# Remove pairs. KEYS: record, voice set. ARGV: phone, country or '', topic or '', audience-set format. Every pair
# matching both filters ('' = any) leaves the record and the index; a record left with none is deleted (returns 2)
# and leaves the voice set.
_UNSUBSCRIBE = _READ_PAIRS + """
local rec = KEYS[1]
local phone, only_c, only_t, aset = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lang, held = read_pairs(rec)
if not lang then return 0 end
for _, p in ipairs(sorted_keys(held)) do local c, t = split_pair(p)
  if (only_c == '' or only_c == c) and (only_t == '' or only_t == t) then
    redis.call('SREM', string.format(aset, c, lang, t), phone)
    held[p] = nil
  end
end
local list = sorted_keys(held)
if #list == 0 then
  redis.call('DEL', rec)
  redis.call('SREM', KEYS[2], phone)
  return 2
end
redis.call('HSET', rec, 'p', table.concat(list, ','))
redis.call('HDEL', rec, 'c', 't')
return 1
"""


# Set how an existing subscriber takes broadcasts. KEYS: record, voice set. ARGV: sealed phone, channel.
_CHANNEL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'ch', ARGV[2])
if ARGV[2] == 'voice' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
"""


@dataclass(frozen=True)
class Subscriber:
    phone: str
    language: str
    #: What will arrive: (country, topic) pairs.
    pairs: frozenset[tuple[str, str]]
    opted_out: bool
    consent_at: datetime
    #: How broadcasts reach them: ``sms`` or ``voice`` (a phone call that speaks the alert).
    channel: str = "sms"

    @property
    def countries(self) -> frozenset[str]:
        """Every country of a pair held."""
        return frozenset(c for c, _ in self.pairs)

    @property
    def topics(self) -> frozenset[str]:
        """Every topic of a pair held (of any country)."""
        return frozenset(t for _, t in self.pairs)

    def topics_for(self, country: str) -> frozenset[str]:
        return frozenset(t for c, t in self.pairs if c == country)


@dataclass(frozen=True)
class ImportResult:
    imported: int
    rejected: list[dict[str, Any]]


@lru_cache(maxsize=1)
def supported_languages() -> tuple[str, ...]:
    """The languages the gateway sends in: the catalogs' (``menus/locale``). A subscriber or a broadcast text in
    any other (``zz``) would be a language nobody is ever reached in, so the agency hears of it at once."""
    return Catalog.load().languages


def _supported(language: str) -> str:
    if language not in supported_languages():
        raise ValueError(f"language {language[:10]!r} is not one we send in ({', '.join(supported_languages())}).")
    return language


def _check(country: str, language: str, topics: Iterable[str]) -> tuple[str, str, list[str]]:
    checked_country, checked_language = country_code(country, alpha3=False), language_code(language)
    if checked_country is None:
        raise ValueError("country must be an ISO 3166-1 alpha-2 code such as 'KE'.")
    if checked_language is None:
        raise ValueError("language must be a 2- or 3-letter code such as 'sw'.")
    chosen = sorted(set(topics))
    unknown = [t for t in chosen if t not in TOPICS]
    if unknown or not chosen:
        raise ValueError(f"topics must be a non-empty list from {', '.join(TOPICS)}.")
    return checked_country, checked_language, chosen


def subscribe(connection: Redis, keyring: Keyring, phone: str, *, country: str, language: str,
              topics: Iterable[str], source: str, channel: str | None = None) -> Subscriber:
    """Add the pairs ``country`` × ``topics`` to the subscriber's (a new one is created), in ``language``; the
    pairs already held stay as they are.

    The consent time becomes now and the record's lifetime starts again. An earlier opt-out is lifted only when
    ``source`` is the person's own request (:data:`OPT_IN_SOURCES`): an agency importing a list cannot override a
    STOP. ``channel`` (``sms`` or ``voice``) sets how broadcasts reach them; None keeps what it was (SMS for a new
    subscriber).
    """
    country, language, chosen = _check(country, language, topics)
    _check_channel(channel)
    token = keyring.seal(phone)
    _script(connection, _SUBSCRIBE)(keys=_subscribe_keys(token), args=_subscribe_args(
        token, language, country, chosen, datetime.now(UTC).isoformat(), source, channel))
    found = get(connection, keyring, phone)
    assert found is not None  # just written
    return found


def unsubscribe(connection: Redis, keyring: Keyring, phone: str, *, country: str | None = None,
                topic: str | None = None) -> Subscriber | None:
    """Remove the pairs of one country, of one topic, one pair, or (both None) every pair; None when none is
    left."""
    token = keyring.seal(phone)
    _script(connection, _UNSUBSCRIBE)(keys=[keys.subscriber(token), keys.voice_subscribers()], args=[
        token, (country or "").upper(), topic or "", keys.audience_set_format(),
    ])
    return get(connection, keyring, phone)


def set_channel(connection: Redis, keyring: Keyring, phone: str, channel: str) -> bool:
    """Take broadcasts by ``channel`` (``sms`` or ``voice``) from now on; False when ``phone`` subscribes to
    nothing. Raises ValueError for another channel."""
    _check_channel(channel)
    token = keyring.seal(phone)
    return bool(_script(connection, _CHANNEL)(keys=[keys.subscriber(token), keys.voice_subscribers()],
                                              args=[token, channel]))


def get(connection: Redis, keyring: Keyring, phone: str) -> Subscriber | None:
    token = keyring.seal(phone)
    pipe = connection.pipeline(transaction=False)
    pipe.hgetall(keys.subscriber(token))
    pipe.sismember(keys.optout_set(), token)
    raw, opted = pipe.execute()
    if not raw:
        return None
    f = {k.decode(): v.decode() for k, v in raw.items()}
    return Subscriber(phone=phone, language=f["l"], pairs=_pairs(f), opted_out=bool(opted),
                      consent_at=datetime.fromisoformat(f["at"]), channel=f.get("ch") or "sms")


def _pairs(record: dict[str, str]) -> frozenset[tuple[str, str]]:
    """The record's pairs (``p``: ``KE:safety,JO:weather``); a record from before pairs held countries × topics."""
    if "p" in record:
        return frozenset((c, t) for c, _, t in (p.partition(":") for p in record["p"].split(",")) if c and t)
    countries = filter(None, record.get("c", "").split(","))
    topics = [t for t in record.get("t", "").split(",") if t]
    return frozenset((c, t) for c in countries for t in topics)


def language_of(connection: Redis, tokens: Sequence[str]) -> list[str | None]:
    """Each sealed number's subscriber language (None for numbers that are not subscribers), in one round trip."""
    pipe = connection.pipeline(transaction=False)
    for token in tokens:
        pipe.hget(keys.subscriber(token), "l")
    return [v.decode() if v else None for v in pipe.execute()]


def opt_out(connection: Redis, keyring: Keyring, phone: str) -> None:
    """No broadcast reaches ``phone`` until :func:`opt_in` (subscribed or not)."""
    connection.sadd(keys.optout_set(), keyring.seal(phone))


def opt_in(connection: Redis, keyring: Keyring, phone: str) -> None:
    connection.srem(keys.optout_set(), keyring.seal(phone))


def is_opted_out(connection: Redis, keyring: Keyring, phone: str) -> bool:
    return bool(connection.sismember(keys.optout_set(), keyring.seal(phone)))


def import_many(connection: Redis, keyring: Keyring, rows: Sequence[Any], *, source: str = "api") -> ImportResult:
    """Import agency rows ``{"phone", "country", "language", "topics"}``; bad rows are rejected, not fatal.

    A row without ``topics`` subscribes to every topic, one without ``country`` to its number's country, one
    without ``channel`` keeps the subscriber's (SMS for a new one; ``voice``: broadcasts call them). Phones
    in national format are read with the row's country. Rows go to Redis in pipelines of :data:`IMPORT_CHUNK`.
    """
    rejected: list[dict[str, Any]] = []
    script = _script(connection, _SUBSCRIBE)
    now = datetime.now(UTC).isoformat()
    pipe = connection.pipeline(transaction=False)
    imported = pending = 0
    for index, row in enumerate(rows):
        try:
            if not isinstance(row, dict):
                raise ValueError("each subscriber must be an object")
            # The number and its country first: they are what an agency most needs to hear about.
            raw_country = str(row.get("country") or "").strip()
            given = country_code(raw_country, alpha3=False) if raw_country else None
            if raw_country and given is None:
                raise ValueError(f"country {raw_country[:10]!r} is not an ISO 3166-1 alpha-2 code such as 'KE'.")
            phone = normalise(str(row.get("phone") or ""), given)
            topics = row.get("topics")
            if topics is None:
                topics = list(TOPICS)
            if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
                raise ValueError("topics must be a list of strings")
            country, language, chosen = _check(given or region_of(phone) or "", str(row.get("language") or ""),
                                               topics)
            _supported(language)
            channel = row.get("channel")
            _check_channel(channel)
        except ValueError as exc:
            rejected.append({"index": index, "reason": str(exc)})
            continue
        token = keyring.seal(phone)
        script(keys=_subscribe_keys(token),
               args=_subscribe_args(token, language, country, chosen, now, source, channel), client=pipe)
        imported += 1
        pending += 1
        if pending >= IMPORT_CHUNK:
            pipe.execute()
            pending = 0
    if pending:
        pipe.execute()
    return ImportResult(imported, rejected)


def prune_expired(connection: Redis) -> int:
    """Take the sealed numbers whose record has lapsed out of every audience set; returns how many memberships
    went. SSCAN in chunks, so a million-member set never blocks Redis. A record is only ever missing once it has
    lapsed or was deleted with its memberships, and a person who subscribes again is added back by that script."""
    removed = 0
    for audience in [*matching_sets(connection, None, None, None), keys.voice_subscribers()]:
        cursor = 0
        while True:
            cursor, members = connection.sscan(audience, cursor, count=PRUNE_CHUNK)
            if members:
                pipe = connection.pipeline(transaction=False)
                for member in members:
                    pipe.exists(keys.subscriber(text(member)))
                lapsed = [m for m, alive in zip(members, pipe.execute(), strict=True) if not alive]
                if lapsed:
                    removed += int(connection.srem(audience, *lapsed))
            if cursor == 0:
                break
    return removed


def count(connection: Redis, *, country: str | None = None, language: str | None = None,
          topic: str | None = None) -> int:
    """Subscribers matching the filters (each None = any), opted-out ones excluded."""
    sets = matching_sets(connection, [country] if country else None, [language] if language else None,
                         [topic] if topic else None)
    if not sets:
        return 0
    scratch = keys.scratch()
    pipe = connection.pipeline(transaction=True)
    pipe.sunionstore(scratch, sets)
    pipe.sdiffstore(scratch, [scratch, keys.optout_set()])
    pipe.delete(scratch)
    return int(pipe.execute()[1])


def matching_sets(connection: Redis, countries: Sequence[str] | None, languages: Sequence[str] | None,
                  topics: Sequence[str] | None) -> list[str]:
    """The audience sets whose union is everyone matching (None = any country, language or topic)."""
    if countries is None:
        countries = sorted(texts(connection.smembers(keys.known_countries())))
    if languages is None:
        languages = sorted(texts(connection.smembers(keys.known_languages())))
    return [keys.audience_set(c, lang, t) for c in countries for lang in languages for t in (topics or TOPICS)]


def _check_channel(channel: object) -> None:
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}.")


def _subscribe_keys(token: str) -> list[str]:
    return [keys.subscriber(token), keys.known_countries(), keys.known_languages(), keys.optout_set(),
            keys.voice_subscribers()]


def _subscribe_args(token: str, language: str, country: str, topics: Sequence[str], now: str,
                    source: str, channel: str | None = None) -> list[Any]:
    return [token, language, ",".join(f"{country}:{topic}" for topic in topics), now, source,
            "1" if source in OPT_IN_SOURCES else "0", keys.audience_set_format(), SUBSCRIBER_TTL_S, channel or ""]


def _script(connection: Redis, source: str) -> Any:
    return connection.register_script(source)
