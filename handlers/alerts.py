"""Alerts by SMS: subscribe for the country the caller is in (or another from a short list) by topic, in the
caller's language; list and cancel; read the latest alerts sent to that country.

The subscriber store is the outbox's (:mod:`outbox.subscribers`): the one broadcasts are sent to, so a USSD
subscription and an SMS ``JOIN`` are one record.
"""

from __future__ import annotations

from menus.engine import Call, Choice, Reply
from menus.model import Target
from outbox import subscribers
from outbox.subscribers import TOPICS

from .context import country_name, host_of, origin_of, screen_text, services

#: Countries offered under "another country", after the caller's own two: where most callers work or come from.
SHORT_LIST = ("AE", "SA", "QA", "KW", "OM", "LB", "JO", "KE", "PH", "BD")
_COUNTRY_VAR = "alert_country"
_LIST_LEN = 8


def pick_here(call: Call) -> Reply:
    """``alerts.here``: alerts for the country the caller is in."""
    call.vars[_COUNTRY_VAR] = host_of(call) or origin_of(call) or ""
    return Reply(goto="alerts.topics")


def countries(call: Call) -> Reply:
    """``alerts.countries``: a short list of countries, the caller's own two first."""
    return _country_page(call, 0)


def more_countries(call: Call) -> Reply:
    """``alerts.more_countries`` (``params: {from}``): the next countries of the list, after "More countries" (an
    option, not "98": every option of a menu stays on its first page, CONTRACT §2)."""
    try:
        start = max(0, int(call.params.get("from", "0")))
    except ValueError:
        start = 0
    return _country_page(call, start)


def _country_codes(call: Call) -> list[str]:
    seen: list[str] = []
    for code in (host_of(call), origin_of(call), *SHORT_LIST):
        if code and code not in seen:
            seen.append(code)
    return seen[:_LIST_LEN]


def _country_page(call: Call, start: int) -> Reply:
    """As many countries from ``start`` as fit the first page; when some are left, "More countries" as the last
    option leads to them (at budget 120 an Arabic page of 60 units held six of the eight and dropped the rest)."""
    choices = _countries_that_fit(call, _country_codes(call), start, "alerts.pick", "alerts.more_countries")
    return Reply(text=call.t("alerts.countries.title"), choices=choices)


def _countries_that_fit(call: Call, codes: list[str], start: int, action: str, more_action: str,
                        tail: tuple[Choice, ...] = ()) -> list[Choice]:
    """From ``codes[start:]``, one choice per country (``action`` with ``{country}``) as many as fit the first page
    beside ``tail``; then ``tail``, and "More countries" (``more_action`` from the first left out) when some are
    left (CONTRACT §2: every option on the first page)."""
    lang, more_label = call.caller.lang, call.t("alerts.countries.more")
    choices: list[Choice] = []
    index = min(start, len(codes))
    while index < len(codes):
        choice = Choice(country_name(codes[index], lang), Target(action=action, params={"country": codes[index]}))
        rest = [c.label for c in tail] + ([more_label] if index < len(codes) - 1 else [])
        if choices and not call.fits([*(c.label for c in choices), choice.label, *rest]):
            break
        choices.append(choice)
        index += 1
    choices.extend(tail)
    if index < len(codes):
        choices.append(Choice(more_label, Target(action=more_action, params={"from": str(index)})))
    return choices


def pick(call: Call) -> Reply:
    """``alerts.pick`` (``params: {country}``)."""
    call.vars[_COUNTRY_VAR] = call.params.get("country", "")
    return Reply(goto="alerts.topics")


def topics(call: Call) -> Reply:
    """``alerts.topics``: which topic, for the country picked."""
    country = call.vars.get(_COUNTRY_VAR) or host_of(call) or ""
    choices = [Choice(call.t(f"alerts.topic.{t}"), Target(action="alerts.subscribe", params={"topic": t}))
               for t in TOPICS]
    choices.append(Choice(call.t("alerts.topic.all"), Target(action="alerts.subscribe", params={"topic": "all"})))
    return Reply(text=call.t("alerts.topics.title", country=country_name(country, call.caller.lang)),
                 choices=choices)


def subscribe(call: Call) -> Reply:
    """``alerts.subscribe`` (``params: {topic}``)."""
    country = call.vars.get(_COUNTRY_VAR) or host_of(call)
    if not country:
        return Reply(text=call.t("alerts.no_country"), end=True)
    topic = call.params.get("topic", "all")
    chosen = frozenset(TOPICS) if topic == "all" else frozenset({topic} & set(TOPICS)) or frozenset(TOPICS)
    svc = services(call)
    # Someone who subscribes on a phone call takes alerts as calls (they may not read); "Your alerts" changes it.
    by_call = call.caller.channel == "voice" and subscribers.get(svc.redis, svc.keyring, call.caller.phone) is None
    subscribers.subscribe(svc.redis, svc.keyring, call.caller.phone, country=country, language=call.caller.lang,
                          topics=chosen, source="ussd", channel="voice" if by_call else None)
    call.vars.pop(_COUNTRY_VAR, None)
    label = call.t(f"alerts.topic.{topic}") if topic in (*TOPICS, "all") else call.t("alerts.topic.all")
    done = "alerts.by_call.subscribed" if by_call else "alerts.subscribed"
    return Reply(text=call.t(done, topic=label, country=country_name(country, call.caller.lang)), end=True)


def mine(call: Call) -> Reply:
    """``alerts.mine``: exactly what will arrive, one line per country with its own topics (a subscription is
    (country, topic) pairs), and "Stop <country> alerts" for each, and "Stop all alerts". When that does not fit
    one page (many countries, an Arabic page of 80 units), a menu instead: "See your alerts" (:func:`pairs`, a
    data screen that may run onto more pages) and "Stop alerts" (:func:`stop`), so no option is ever behind "98".
    An opted-out number receives nothing, and is told so."""
    svc = services(call)
    record = subscribers.get(svc.redis, svc.keyring, call.caller.phone)
    if record is None or record.opted_out or not record.pairs:
        return Reply(text=call.t("alerts.mine.none"))
    lang = call.caller.lang
    header, lines = call.t("alerts.mine.pairs"), _pair_lines(call, record)
    choices = [Choice(call.t("alerts.cancel.country", country=country_name(code, lang)),
                      Target(action="alerts.cancel", params={"country": code})) for code in sorted(record.countries)]
    choices.append(Choice(call.t("alerts.cancel.all"), Target(action="alerts.cancel", params={"country": "*"})))
    other = "sms" if record.channel == "voice" else "voice"  # alerts by phone call (outbox/voice.py), or back
    switch = Choice(call.t("alerts.by_call" if other == "voice" else "alerts.by_sms"),
                    Target(action="alerts.channel", params={"channel": other}))
    choices.append(switch)
    # As options (each numbered), with "home" as one more, the page is at least as long as the real one.
    if call.fits([header, *lines, *(c.label for c in choices), call.t("common.home")]):
        return Reply(text=header, lines=lines, choices=choices)
    return Reply(text=header, choices=[Choice(call.t("alerts.mine.list"), Target(goto="alerts.list")),
                                       Choice(call.t("alerts.mine.stop"), Target(goto="alerts.stop")), switch])


def pairs(call: Call) -> Reply:
    """``alerts.list``: every (country, topics) line of the caller's alerts, a data screen."""
    svc = services(call)
    record = subscribers.get(svc.redis, svc.keyring, call.caller.phone)
    if record is None or record.opted_out or not record.pairs:
        return Reply(text=call.t("alerts.mine.none"))
    return Reply(text=call.t("alerts.mine.pairs"), lines=_pair_lines(call, record))


def _pair_lines(call: Call, record: subscribers.Subscriber) -> list[str]:
    return [call.t("alerts.mine.pair", country=country_name(c, call.caller.lang), topics=_topic_names(call, record, c))
            for c in sorted(record.countries)]


def stop(call: Call) -> Reply:
    """``alerts.stop``: the caller's countries (names only, as many as fit one page), each stoppable, and every
    alert at once; nothing to stop says so."""
    return _stop_page(call, 0)


def more_stops(call: Call) -> Reply:
    """``alerts.more_stops`` (``params: {from}``): the caller's next countries, after "More countries" on the stop
    screen (as :func:`more_countries`: an option, not "98"); 0 goes back."""
    try:
        start = max(0, int(call.params.get("from", "0")))
    except ValueError:
        start = 0
    return _stop_page(call, start)


def _stop_page(call: Call, start: int) -> Reply:
    """As many of the caller's countries from ``start`` as fit beside "Stop all"; when some are left, "More
    countries" as the last option leads to them (at budget 120 in Arabic a caller with eight countries could stop
    some only through "Stop all")."""
    svc = services(call)
    record = subscribers.get(svc.redis, svc.keyring, call.caller.phone)
    if record is None or not record.pairs:
        return Reply(text=call.t("alerts.mine.none"))
    every = Choice(call.t("alerts.cancel.all"), Target(action="alerts.cancel", params={"country": "*"}))
    choices = _countries_that_fit(call, sorted(record.countries), start, "alerts.cancel", "alerts.more_stops",
                                  tail=(every,))
    return Reply(text=call.t("alerts.stop.title"), choices=choices)


def _topic_names(call: Call, record: subscribers.Subscriber, country: str) -> str:
    held = record.topics_for(country)
    if held >= set(TOPICS):
        return call.t("alerts.topic.all")
    return ", ".join(call.t(f"alerts.topic.{t}") for t in TOPICS if t in held)


def channel(call: Call) -> Reply:
    """``alerts.channel`` (``params: {channel}``): take alerts by phone call (``voice``) or by SMS."""
    chosen = call.params.get("channel", "sms")
    chosen = chosen if chosen in subscribers.CHANNELS else "sms"
    svc = services(call)
    if not subscribers.set_channel(svc.redis, svc.keyring, call.caller.phone, chosen):
        return Reply(text=call.t("alerts.mine.none"), end=True)
    return Reply(text=call.t("alerts.by_call.done" if chosen == "voice" else "alerts.by_sms.done"), end=True)


def cancel(call: Call) -> Reply:
    """``alerts.cancel`` (``params: {country}``, ``*`` for all)."""
    country = call.params.get("country", "*")
    svc = services(call)
    subscribers.unsubscribe(svc.redis, svc.keyring, call.caller.phone, country=None if country == "*" else country)
    return Reply(text=call.t("alerts.cancelled"), end=True)


def latest(call: Call) -> Reply:
    """``alerts.latest``: the latest alerts sent to the country the caller is in (their home country when the
    network does not say), and the public broadcasts without a country filter that reached them, newest first."""
    from outbox.broadcasts import latest_for_country

    country = host_of(call) or origin_of(call) or ""
    lang = call.caller.lang
    svc = services(call)
    record = subscribers.get(svc.redis, svc.keyring, call.caller.phone) if country else None
    sent = latest_for_country(svc.redis, country, limit=5, subscriber=record) if country else []
    name = country_name(country, lang)
    if not sent:
        return Reply(text=call.t("alerts.latest.none", country=name))
    lines = []
    for alert in sent:
        text = alert.texts.get(lang) or next(iter(alert.texts.values()), "")
        lines.append(f"{alert.sent_at:%d/%m} {screen_text(text)}")
    return Reply(text=call.t("alerts.latest.title", country=name), lines=lines)
