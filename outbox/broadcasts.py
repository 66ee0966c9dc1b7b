"""Broadcasts: accept, resolve the audience, report, cancel; and the latest alerts per country for USSD.

An audience is resolved inside Redis (a ``SUNIONSTORE`` of audience sets minus the opt-out set, per subscriber
language). That holds Redis for about a second per million members, so ``POST /broadcasts`` does it only for a
small audience (at most :data:`EXACT_LIMIT` members by the cheap ``SCARD`` sum of its sets), and answers an exact
``recipients``. A larger one is counted by that sum alone, an upper bound (a subscriber in several sets counts
once per set, opted-out numbers still count), answered with ``recipients_exact: false``; the fan-out job resolves
it (:func:`resolve_deferred`) and the exact figures then replace the bound in ``GET /broadcasts/<id>``. An audience
whose sets are all empty is refused either way (``empty_audience``). Cutting the audience into batches and
sending them happens in jobs (:mod:`outbox.jobs`); this module never calls the provider.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from identity.keyring import Keyring
from identity.phones import region_of
from redis_reply import Fields, fields, optional_text, scored, texts

from . import keys, queues, refs, signature, states, subscribers, voice
from .config import BROADCAST_TTL_S, OutboxConfig
from .errors import BroadcastError, Conflict, NotFound
from .estimate import fit_segments, fit_text, language_estimate, price_per_segment
from .ledger import Ledger, drain_resolved
from .scripts import Lua
from .states import TERMINAL, Status
from .subscribers import language_of, matching_sets

#: An explicit audience is for short lists; larger ones are subscribers (imported, then a filter).
MAX_PHONES = 10_000
#: Longest text per language: ten GSM-7 segments.
MAX_TEXT_CHARS = 1530
#: Latest broadcasts kept per country for the USSD screen.
COUNTRY_HISTORY = 20
#: A resolved audience lives this long until its broadcast is recorded (then as long as the record), so the
#: audience of a request that failed half-way does not linger.
RESOLVE_TTL_S = 3600
#: ``called`` and ``answered``: recipients reached by an alert call instead of an SMS (:mod:`outbox.voice`).
COUNT_FIELDS = ("recipients", "queued", "sent", "delivered", "failed", "opted_out", "called", "answered")
#: The largest audience (by the sum of its sets' sizes) resolved inside ``POST /broadcasts``: about 50 ms of
#: Redis. Anything larger is resolved by the fan-out job, and the request answers the upper bound.
EXACT_LIMIT = 100_000


#: Timestamps a broadcast accepts (UTC years): anything else is a typo, and years near 1 or 9999 overflow when
#: converted to UTC or to an epoch and back.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def in_range(moment: datetime) -> bool:
    """Whether an aware ``moment`` lies within :data:`EARLIEST_YEAR`–:data:`LATEST_YEAR` in UTC."""
    try:
        return EARLIEST_YEAR <= moment.astimezone(UTC).year <= LATEST_YEAR
    except (OverflowError, ValueError):
        return False


@dataclass(frozen=True)
class SentAlert:
    sent_at: datetime
    texts: dict[str, str]


@dataclass(frozen=True)
class BroadcastRequest:
    """A validated broadcast. Built by :class:`outbox.schema.BroadcastBody` (the API, the console) or directly
    (CAP). Without ``phones`` it is a filter; a filter with no part given reaches nobody unless ``everyone``."""

    message: dict[str, str]
    priority: str = "normal"
    countries: tuple[str, ...] | None = None
    languages: tuple[str, ...] | None = None
    topics: tuple[str, ...] | None = None
    phones: tuple[str, ...] | None = None
    send_at: datetime | None = None
    expires_at: datetime | None = None
    lookalikes: bool = False
    everyone: bool = False
    source: str = "api"
    #: Cut each text (at a word, with "...") so that it and its footer take at most this many segments (CAP).
    max_segments: int | None = None
    #: When the audience matches nobody, record the broadcast anyway (done, 0 recipients, nothing sent) so it is
    #: listed on "latest alerts" of its countries: a CAP alert is public whoever subscribed (CONTRACT §3). The
    #: API's broadcasts keep the ``empty_audience`` refusal.
    listed_if_empty: bool = False

    @property
    def public(self) -> bool:
        """Only audience broadcasts (and CAP alerts) are public; a ``phones`` list is private by construction:
        whatever it says ("your shelter intake is at 14:00") is for those people alone, never a USSD screen."""
        return self.phones is None


def create(connection: Redis, agency: str, request: BroadcastRequest, config: OutboxConfig) -> dict[str, Any]:
    """Accept a broadcast: resolve its audience, record it, and queue its fan-out. Returns its view.

    A public request with ``listed_if_empty`` whose audience matches nobody is recorded as done with no
    recipients (``listed_only``): listed for its countries, queued nowhere.

    Raises:
        BroadcastError: ``expires_at`` past, or ``empty_audience`` when nobody is reached (nothing is kept then).
    """
    now = time.time()
    if request.expires_at is not None and request.expires_at.timestamp() <= now:
        raise BroadcastError("is already past", field="expires_at", code="expired")
    broadcast_id = secrets.token_hex(8)
    deferred = _deferred_bounds(connection, request)
    if deferred is not None:  # a large audience: counted by its sets' sizes, resolved by the fan-out job
        per_language, opted_out, countries = deferred, 0, list(request.countries or [])
        by_voice = min(sum(deferred.values()), int(connection.scard(keys.voice_subscribers())))
    else:
        per_language, opted_out, countries, by_voice = _resolve(connection, config, request, broadcast_id)
    recipients = sum(per_language.values())
    listed_only = not recipients and request.listed_if_empty and request.public
    if not recipients and not listed_only:
        raise BroadcastError("matches no subscriber who may receive it", field="audience", code="empty_audience")
    ref = refs.mint(connection)
    texts, estimate, cost = _quote(request, per_language, countries, config, agency, ref)
    send_at = request.send_at.timestamp() if request.send_at else now
    # Kept BROADCAST_TTL_S after it is due; everything else of the broadcast follows the record's lifetime.
    ttl = BROADCAST_TTL_S + max(0, int(send_at - now))
    meta: Fields = {
        "id": broadcast_id, "ref": ref, "agency": agency, "priority": request.priority, "source": request.source,
        "status": Status.DONE if listed_only else Status.SCHEDULED if send_at > now else Status.SENDING,
        "created_at": repr(now),
        "send_at": repr(send_at),
        "expires_at": repr(request.expires_at.timestamp()) if request.expires_at else "",
        "langs": ",".join(per_language), "message": json.dumps(request.message, ensure_ascii=False),
        "estimate": json.dumps(estimate), "cost": json.dumps({"amount": cost, "currency": config.currency}),
        "recipients": recipients, "queued": recipients, "sent": 0, "delivered": 0, "failed": 0,
        "opted_out": opted_out, "nbatches": 0, "settled": 0, "fanout": "0", "public": "1" if request.public else "0",
        "topics": ",".join(request.topics or ()),
        "voice": json.dumps(_voice_estimate(by_voice, config)),
        "resolved": "0" if deferred is not None else "1",
        "price": repr(price_per_segment(config.prices, countries)),
        **({"audience": json.dumps({"countries": request.countries, "topics": request.topics})}
           if deferred is not None else {}),
        **({"listed_only": "1", "finished_at": repr(now)} if listed_only else {}),
        **{f"text:{lang}": text for lang, text in texts.items()},
    }
    pipe = connection.pipeline(transaction=True)
    pipe.hset(keys.broadcast(broadcast_id), mapping=meta)
    pipe.expire(keys.broadcast(broadcast_id), ttl)
    for lang in per_language:
        pipe.expire(keys.resolved(broadcast_id, lang), ttl)
    if not listed_only:
        pipe.zadd(keys.active_broadcasts(), {broadcast_id: send_at})
    pipe.execute()
    extend = connection.register_script(_EXTEND_TTL)
    pipe = connection.pipeline(transaction=False)
    pipe.zadd(keys.agency_broadcasts(agency), {broadcast_id: now})
    extend(keys=[keys.agency_broadcasts(agency)], args=[ttl], client=pipe)
    refs.remember(pipe, ref, agency=agency, sent_at=send_at, message=request.message, public=request.public)
    for index in _public_indexes(request):
        pipe.zadd(index, {broadcast_id: send_at})
        pipe.zremrangebyrank(index, 0, -COUNTRY_HISTORY - 1)
        extend(keys=[index], args=[ttl], client=pipe)
    pipe.execute()
    if not listed_only:
        queues.enqueue_fanout(connection, broadcast_id, request.priority, 0)
    return view(connection, broadcast_id, agency)


def _deferred_bounds(connection: Redis, request: BroadcastRequest) -> dict[str, int] | None:
    """For a filter audience larger than :data:`EXACT_LIMIT`: per subscriber language, the sum of its audience
    sets' sizes (an upper bound of its recipients; languages whose sets are empty are left out). None when the
    audience is small enough to resolve now, or is a ``phones`` list, or an empty filter (refused by ``_resolve``).
    One round trip of ``SCARD`` s, whatever the audience's size."""
    if request.phones is not None or not (request.countries or request.languages or request.topics
                                          or request.everyone):
        return None
    languages = request.languages
    if languages is None:
        languages = tuple(sorted(texts(connection.smembers(keys.known_languages()))))
    sets = {lang: matching_sets(connection, request.countries, [lang], request.topics) for lang in languages}
    pipe = connection.pipeline(transaction=False)
    for names in sets.values():
        for name in names:
            pipe.scard(name)
    sizes = iter(pipe.execute())
    bounds = {lang: sum(int(next(sizes)) for _ in names) for lang, names in sets.items()}
    if sum(bounds.values()) <= EXACT_LIMIT:
        return None
    return {lang: n for lang, n in bounds.items() if n}


# KEYS: the record, the language's resolved set, the opt-out set, the voice subscribers, a scratch key, then the
# audience sets. ARGV: language, lifetime in ms. Resolve one language of a deferred audience and note its figures
# in the record (``r:<lang>`` = kept:opted out:by voice), in one step and only while nothing is batched: a
# resolution that landed on a former primary during a switch is simply done again, never over batches already cut.
_RESOLVE_LANGUAGE = Lua(states.lua() + """
local meta, target, optout, voice, scratch = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local f = redis.call('HMGET', meta, 'resolved', 'nbatches', 'status', 'r:' .. ARGV[1])
if f[1] ~= '0' or tonumber(f[2] or '0') > 0 or TERMINAL[f[3]] or f[4] then return 0 end
local matched = 0
if #KEYS > 5 then matched = redis.call('SUNIONSTORE', target, unpack(KEYS, 6)) end
local kept = redis.call('SDIFFSTORE', target, target, optout)
redis.call('PEXPIRE', target, ARGV[2])
local voiced = redis.call('SINTERSTORE', scratch, target, voice)
redis.call('DEL', scratch)
redis.call('HSET', meta, 'r:' .. ARGV[1], kept .. ':' .. (matched - kept) .. ':' .. voiced)
return 1
""")

# KEYS: the record. ARGV: recipients, opted out, estimate JSON, cost JSON, voice estimate JSON. The exact figures
# of a deferred audience replace the bounds, once, unless the broadcast already stopped (then nothing is queued).
_RESOLVED = Lua(states.lua() + """
local f = redis.call('HMGET', KEYS[1], 'resolved', 'status')
if f[1] ~= '0' then return 0 end
if TERMINAL[f[2]] then
  redis.call('HSET', KEYS[1], 'resolved', '1', 'queued', 0)
  return -1
end
redis.call('HSET', KEYS[1], 'resolved', '1', 'recipients', ARGV[1], 'queued', ARGV[1], 'opted_out', ARGV[2],
  'estimate', ARGV[3], 'cost', ARGV[4], 'voice', ARGV[5])
return 1
""")


def resolve_deferred(connection: Redis, broadcast_id: str, config: OutboxConfig) -> bool:
    """Resolve the audience of a broadcast that :func:`create` left to its fan-out job, and put the exact counts
    in its record. Safe to re-run (a language already resolved is not resolved again); a no-op once done. Returns
    False when the broadcast stopped first (its resolved audience is dropped).

    Raises:
        RuntimeError: a language could not be resolved on this Redis (the job fails; the sweeper re-runs it).
    """
    meta_key = keys.broadcast(broadcast_id)
    meta = fields(connection.hgetall(meta_key))
    if meta.get("resolved", "1") != "0":
        return True
    audience = json.loads(meta.get("audience") or "{}")
    countries, topics = audience.get("countries"), audience.get("topics")
    langs = [lang for lang in meta.get("langs", "").split(",") if lang]
    ttl_ms = max(1000, int(connection.pttl(meta_key)))
    for lang in langs:
        if f"r:{lang}" not in meta:
            sets = matching_sets(connection, countries, [lang], topics)
            _RESOLVE_LANGUAGE(connection, [meta_key, keys.resolved(broadcast_id, lang), keys.optout_set(),
                                           keys.voice_subscribers(), keys.scratch(), *sets], [lang, ttl_ms])
    meta = fields(connection.hgetall(meta_key))
    parts = {lang: meta.get(f"r:{lang}") for lang in langs}
    if meta.get("status") not in TERMINAL and not all(parts.values()):
        raise RuntimeError(f"Broadcast {broadcast_id}: audience not resolved on this Redis.")
    figures = {lang: [int(x) for x in part.split(":")] for lang, part in parts.items() if part}
    per_language = {lang: kept for lang, (kept, _, _) in figures.items()}
    estimate = json.loads(meta["estimate"])
    for lang, part in estimate.items():
        part["recipients"] = per_language.get(lang, 0)
    price = float(meta.get("price") or 0)
    cost = json.loads(meta["cost"])
    cost["amount"] = round(sum(e["recipients"] * e["segments"] * price for e in estimate.values()), 4)
    outcome = int(_RESOLVED(connection, [meta_key], [
        sum(per_language.values()), sum(opted for _, opted, _ in figures.values()), json.dumps(estimate),
        json.dumps(cost), json.dumps(_voice_estimate(sum(v for _, _, v in figures.values()), config))]))
    if outcome < 0:
        connection.delete(*[keys.resolved(broadcast_id, lang) for lang in langs])
        return False
    return True


def _public_indexes(request: BroadcastRequest) -> list[str]:
    """The "latest alerts" indexes a broadcast is listed in: one per target country; a public broadcast without
    a country filter goes to the one index of such broadcasts, which :func:`latest_for_country` shows only to the
    callers it reached. A private (``phones``) broadcast is in none."""
    if not request.public:
        return []
    if request.countries:
        return [keys.country_alerts(country) for country in request.countries]
    return [keys.unfiltered_alerts()]


# KEYS: an index (a sorted set of broadcast ids). ARGV: seconds. Keep it at least that long (never shorten it):
# an index outlives the newest record it lists, and an idle one goes away.
_EXTEND_TTL = """
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
"""


def estimate(connection: Redis, agency: str, request: BroadcastRequest, config: OutboxConfig) -> dict[str, Any]:
    """What :func:`create` would answer about recipients and cost, storing and sending nothing: for an audience
    above :data:`EXACT_LIMIT`, the same upper bound (``recipients_exact: false``), so a preview costs Redis no
    more than the request would."""
    deferred = _deferred_bounds(connection, request)
    if deferred is not None:
        per_language, countries = deferred, list(request.countries or [])
        by_voice = min(sum(deferred.values()), int(connection.scard(keys.voice_subscribers())))
    else:
        per_language, _, countries, by_voice = _resolve(connection, config, request, None)
    _, per_text, cost = _quote(request, per_language, countries, config, agency, signature.PLACEHOLDER_REF)
    return {"recipients": sum(per_language.values()), "recipients_exact": deferred is None, "estimate": per_text,
            "cost": {"amount": cost, "currency": config.currency}, "voice": _voice_estimate(by_voice, config)}


def _voice_estimate(subscribers: int, config: OutboxConfig) -> dict[str, Any]:
    return voice.voice_estimate(subscribers, enabled=config.voice_calls, cap=config.voice_calls_per_broadcast)


def _quote(request: BroadcastRequest, per_language: Mapping[str, int], countries: Sequence[str],
           config: OutboxConfig, agency: str, ref: str) -> tuple[dict[str, str], dict[str, dict[str, object]], float]:
    """The text each recipient language gets (its message, or the first one, and the footer in that language),
    its estimate (for every message language and every recipient language), and the cost: the segments counted
    are those of exactly what the phones receive."""
    first = next(iter(request.message))

    def sent(lang: str) -> str:
        body = fit_text(request.message.get(lang) or request.message[first], lookalikes=request.lookalikes)
        tail = signature.footer(lang, agency=agency, ref=ref, priority=request.priority, stop_to=config.stop_to,
                                  catalog=config.catalog)
        if request.max_segments:
            body = fit_segments(body, request.max_segments, tail)
        return body + tail

    texts = {lang: sent(lang) for lang in dict.fromkeys([*request.message, *per_language])}
    per_text = {lang: language_estimate(text, per_language.get(lang, 0)) for lang, text in texts.items()}
    price = price_per_segment(config.prices, countries)
    cost = round(sum(e["recipients"] * e["segments"] * price for e in per_text.values()), 4)  # type: ignore[operator]
    return {lang: texts[lang] for lang in per_language}, per_text, cost


def _resolve(connection: Redis, config: OutboxConfig, request: BroadcastRequest,
             broadcast_id: str | None) -> tuple[dict[str, int], int, list[str], int]:
    """Recipients per subscriber language, opted-out numbers the audience matched, the countries it reaches
    (for the price), and how many recipients take alerts by call. With a ``broadcast_id`` the recipients are kept
    as its resolved audience; without one they are only counted (an estimate)."""
    if request.phones is not None:
        return _resolve_phones(connection, config.keyring, broadcast_id, request.phones,
                               next(iter(request.message)))
    if not (request.countries or request.languages or request.topics or request.everyone):
        raise BroadcastError('is empty: name countries, languages or topics, or say "all": true', field="audience")
    per_language, opted_out, by_voice = _resolve_filter(connection, broadcast_id, request)
    return per_language, opted_out, list(request.countries or []), by_voice


def _resolve_filter(connection: Redis, broadcast_id: str | None,
                    request: BroadcastRequest) -> tuple[dict[str, int], int, int]:
    languages = request.languages
    if languages is None:
        languages = tuple(sorted(texts(connection.smembers(keys.known_languages()))))
    per_language: dict[str, int] = {}
    opted_out = by_voice = 0
    for lang in languages:
        sets = matching_sets(connection, request.countries, [lang], request.topics)
        if not sets:
            continue
        target = keys.resolved(broadcast_id, lang) if broadcast_id else keys.scratch()
        pipe = connection.pipeline(transaction=True)
        pipe.sunionstore(target, sets)
        pipe.sdiffstore(target, [target, keys.optout_set()])
        voiced_scratch = keys.scratch()  # SINTERCARD would do, but the embedded Redis may predate 7.0
        pipe.sinterstore(voiced_scratch, [target, keys.voice_subscribers()])
        pipe.delete(voiced_scratch)
        if broadcast_id:
            pipe.expire(target, RESOLVE_TTL_S)
        else:
            pipe.delete(target)
        matched, kept, voiced, _, _ = pipe.execute()
        opted_out += int(matched) - int(kept)
        by_voice += int(voiced)
        if kept:
            per_language[lang] = int(kept)
    return per_language, opted_out, by_voice


def _resolve_phones(connection: Redis, keyring: Keyring, broadcast_id: str | None, phones: Sequence[str],
                    first: str) -> tuple[dict[str, int], int, list[str], int]:
    """An explicit list, sealed before it touches Redis (the resolved audience and the batches hold tokens)."""
    tokens = [keyring.seal(phone) for phone in phones]
    opted = connection.smismember(keys.optout_set(), tokens)
    kept = [(p, t) for p, t, o in zip(phones, tokens, opted, strict=True) if not o]
    groups: dict[str, list[str]] = {}
    for (_, token), lang in zip(kept, language_of(connection, [t for _, t in kept]), strict=True):
        groups.setdefault(lang or first, []).append(token)
    if broadcast_id:
        pipe = connection.pipeline(transaction=True)
        for lang, members in groups.items():
            pipe.sadd(keys.resolved(broadcast_id, lang), *members)
            pipe.expire(keys.resolved(broadcast_id, lang), RESOLVE_TTL_S)
        pipe.execute()
    countries = sorted({c for c in (region_of(p) for p, _ in kept) if c})
    by_voice = sum(connection.smismember(keys.voice_subscribers(), [t for _, t in kept])) if kept else 0
    return {lang: len(m) for lang, m in groups.items()}, len(phones) - len(kept), countries, by_voice


def _iso(epoch: str) -> str | None:
    """An epoch as ISO-8601; None when empty or unusable (a record written before timestamps were range-checked
    must not make the agency's whole list fail)."""
    try:
        return datetime.fromtimestamp(float(epoch), UTC).isoformat() if epoch else None
    except (ValueError, OverflowError, OSError):
        return None


def view(connection: Redis, broadcast_id: str, agency: str | None = None) -> dict[str, Any]:
    """The broadcast as the API shows it. Another agency's broadcast is :class:`NotFound`, like a missing one."""
    if not re.fullmatch(r"[0-9a-f]{16}", broadcast_id or ""):
        raise NotFound()
    meta = fields(connection.hgetall(keys.broadcast(broadcast_id)))
    if not meta or (agency is not None and meta.get("agency") != agency):
        raise NotFound()
    now = time.time()
    status = meta["status"]
    if status not in TERMINAL and meta.get("expires_at") and now >= float(meta["expires_at"]):
        status = Ledger(connection, broadcast_id).stop(Status.EXPIRED, now)
        drain_resolved(connection, broadcast_id, meta["langs"].split(",") if meta["langs"] else [])
        meta = fields(connection.hgetall(keys.broadcast(broadcast_id)))
    if status == Status.SCHEDULED and now >= float(meta["send_at"]):
        status = Status.SENDING
    counts = {name: max(0, int(meta.get(name, 0))) for name in COUNT_FIELDS}
    rv: dict[str, Any] = {
        "id": broadcast_id, "ref": meta.get("ref"), "status": status, "priority": meta["priority"],
        "recipients": counts["recipients"], "recipients_exact": meta.get("resolved", "1") == "1",
        "counts": counts, "estimate": json.loads(meta["estimate"]), "cost": json.loads(meta["cost"]),
        "created_at": _iso(meta["created_at"]), "send_at": _iso(meta["send_at"]),
        "expires_at": _iso(meta.get("expires_at", "")), "message": json.loads(meta["message"]),
    }
    if meta.get("reason"):
        rv["reason"] = meta["reason"]
    if meta.get("finished_at"):
        rv["finished_at"] = _iso(meta["finished_at"])
    if meta.get("voice"):
        rv["voice"] = json.loads(meta["voice"])
    return rv


def list_for(connection: Redis, agency: str, *, offset: int = 0, limit: int = 20) -> tuple[list[dict[str, Any]], int]:
    """An agency's broadcasts, newest first, and how many it has in all."""
    ids = texts(connection.zrevrange(keys.agency_broadcasts(agency), offset, offset + limit - 1))
    items = []
    for broadcast_id in ids:
        try:
            items.append(view(connection, broadcast_id, agency))
        except NotFound:  # expired record: drop it from the index
            connection.zrem(keys.agency_broadcasts(agency), broadcast_id)
    return items, int(connection.zcard(keys.agency_broadcasts(agency)))


def cancel(connection: Redis, broadcast_id: str, agency: str | None) -> dict[str, Any]:
    """Stop what is not yet handed to the provider; batches in flight finish.

    Raises:
        NotFound: no such broadcast, or another agency's.
        Conflict: it is already done, cancelled, expired or failed: there is nothing left to stop, and saying
            so tells a caller whose cancel came too late that the message went out.
    """
    current = view(connection, broadcast_id, agency)
    if current["status"] in TERMINAL:
        raise Conflict(f"The broadcast is already {current['status']}; nothing is left to cancel.")
    meta_langs = optional_text(connection.hget(keys.broadcast(broadcast_id), "langs")) or ""
    status = Ledger(connection, broadcast_id).stop(Status.CANCELLED, time.time())
    if status != Status.CANCELLED:  # it finished between the look and the stop
        raise Conflict(f"The broadcast is already {status}; nothing is left to cancel.")
    drain_resolved(connection, broadcast_id, [lang for lang in meta_langs.split(",") if lang])
    return view(connection, broadcast_id, agency)


# KEYS: the record. ARGV: now. Cancel a listed-only record (nothing was ever sent): 1 when it was one and done.
_WITHDRAW = Lua(states.lua() + """
local f = redis.call('HMGET', KEYS[1], 'listed_only', 'status')
if f[1] ~= '1' or f[2] ~= ST_DONE then return 0 end
redis.call('HSET', KEYS[1], 'status', ST_CANCELLED, 'finished_at', ARGV[1])
return 1
""")


def withdraw(connection: Redis, broadcast_id: str, agency: str) -> bool:
    """Take a listed-only broadcast (recorded by :func:`create` with ``listed_if_empty``, sent to nobody) off the
    "latest alerts" screens by cancelling it: a CAP Cancel or Update of an alert nobody subscribed to must still
    withdraw it. False for any other broadcast (those are stopped by :func:`cancel`)."""
    view(connection, broadcast_id, agency)  # NotFound for another agency's
    return bool(int(_WITHDRAW(connection, [keys.broadcast(broadcast_id)], [repr(time.time())])))


def latest_for_country(connection: Redis, country: str, limit: int = 5, *,
                       subscriber: subscribers.Subscriber | None = None) -> list[SentAlert]:
    """The latest public broadcasts that went (or are going) to ``country``, newest first.

    With the caller's ``subscriber`` record, also the public broadcasts without a country filter (``all``, or
    languages and topics only) that reached that caller: a subscriber (to any country, not opted out) whose
    language was among the broadcast's audience languages and who holds one of its topics. Broadcasts to a
    ``phones`` list are never listed: they are in no index.
    """
    now = time.time()
    def newest(key: str) -> list[tuple[str, float]]:
        return scored(connection.zrevrangebyscore(key, now, "-inf", start=0, num=limit * 3, withscores=True))

    candidates = [(score, broadcast_id, False) for broadcast_id, score in newest(keys.country_alerts(country.upper()))]
    if subscriber is not None and subscriber.countries and not subscriber.opted_out:
        candidates += [(score, broadcast_id, True) for broadcast_id, score in newest(keys.unfiltered_alerts())]
        candidates.sort(key=lambda item: -item[0])
    alerts = []
    for _, broadcast_id, unfiltered in candidates:
        values = connection.hmget(keys.broadcast(broadcast_id), "status", "send_at", "message", "langs", "topics")
        status, send_at, message, langs, topics = (optional_text(value) or "" for value in values)
        if status not in (Status.SENDING, Status.DONE, Status.SCHEDULED) or not send_at or not message:
            continue
        if unfiltered and subscriber is not None and not (
                subscriber.language in langs.split(",")
                and (not topics or subscriber.topics.intersection(topics.split(",")))):
            continue
        alerts.append(SentAlert(datetime.fromtimestamp(float(send_at), UTC), json.loads(message)))
        if len(alerts) >= limit:
            break
    return alerts
