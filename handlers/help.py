"""Emergency help: the numbers of the country the caller is in (from the MCC), their own country's missions there
(from the number), international organisations' offices, the numbers by SMS, and a call-back request.

Every list comes from the cached directory (:mod:`handlers.directory`): a screen costs dict lookups. Entries
not yet verified at their source carry a ``*`` and the screen says what it means; a mission with no known
number is shown with its city and "number not known yet", never as if it could be dialled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from identity.phones import mask
from menus.engine import Call, Effect, Reply
from outbox.sms import claim

from . import casework
from .context import country_name, host_of, origin_of, pseudonym, services
from .directory import Contact, emergency_contacts, home_contacts, international_offices
from .keys import help_sms_count_key

#: Call-back topics offered on the screen (``help.callback.<topic>`` keys).
CALLBACK_TOPICS = ("danger", "work", "documents", "health", "other")
_MARK = "*"


def _shown(contacts: Iterable[Contact], host: str) -> list[Contact]:
    """The contacts a caller in ``host`` can use: numbers they can dial from there, and missions or offices with
    no number yet (shown with their city, never as if dialable). A home short code is left out abroad."""
    return [c for c in contacts if c.phone is None or c.reachable_from(host)]


def _number(number: str) -> str:
    """A number as a screen shows it: digit groups joined by hyphens, not spaces, so that it is one word (a page
    break never falls inside it) and one left-to-right run inside Arabic text (spaced groups may be reordered)."""
    return number.replace(" ", "-")


def _line(call: Call, contact: Contact, host: str, *, with_city: bool = False) -> str:
    kind = call.t(f"help.kind.{contact.kind}")
    dialled = contact.number_from(host)
    number = _number(dialled) if dialled else call.t("help.no_number")
    if contact.phone and not contact.verified:
        # On a call the mark is said in words: speech would read "*" as "star" and no one sees a footnote.
        voice = call.caller.channel == "voice"
        number = call.t("help.unchecked.voice", number=number) if voice else number + _MARK
    if with_city and contact.city:  # the language's own comma and colon (Arabic: ،), not a Latin one in RTL text
        return call.t("help.line.city", kind=kind, city=contact.city, number=number)
    return call.t("help.line", kind=kind, number=number)


def _lines(call: Call, contacts: Iterable[Contact], *, with_city: bool = False) -> list[str]:
    """One line per contact; when any number carries the mark, its one-line explanation rides on the last line
    (one block, so a page break never leaves the explanation alone on a page of its own)."""
    host = host_of(call) or ""
    out = [_line(call, c, host, with_city=with_city) for c in _shown(contacts, host)]
    if out and any(line.endswith(_MARK) for line in out):
        out[-1] = f"{out[-1]}\n{call.t('help.unverified')}"
    return out


def _contact_screen(call: Call, contacts: list[Contact], country: str | None, title: str, none: str, *,
                    with_city: bool = False) -> Reply:
    name = country_name(country, call.caller.lang)
    if not _shown(contacts, host_of(call) or ""):
        return Reply(text=call.t(none, country=name))
    return Reply(text=call.t(title, country=name), lines=_lines(call, contacts, with_city=with_city))


def emergency(call: Call) -> Reply:
    """``help.emergency``: police, ambulance, fire and hotlines of the country the caller is in."""
    host = host_of(call)
    contacts = emergency_contacts(host, services(call).directory()) if host else []
    return _contact_screen(call, contacts, host, "help.emergency.title", "help.none")


def embassy(call: Call) -> Reply:
    """``help.embassy``: the caller's own country's embassy or consulate here, and its helplines at home.

    At home (host == origin) no embassy applies: the screen says so and lists instead the lines the home country
    runs for its workers abroad and their families (the Philippines' 1348), which a caller at home can dial."""
    host, origin = host_of(call), origin_of(call)
    contacts = home_contacts(origin, host, services(call).directory()) if origin and host else []
    if origin and origin == host:
        return _contact_screen(call, contacts, origin, "help.home.title", "help.home.none")
    return _contact_screen(call, contacts, origin, "help.embassy.title", "help.embassy.none", with_city=True)


def offices(call: Call) -> Reply:
    """``help.offices``: international organisations' offices (IOM...) in the country the caller is in."""
    host = host_of(call)
    contacts = international_offices(host, services(call).directory()) if host else []
    return _contact_screen(call, contacts, host, "help.offices.title", "help.offices.none", with_city=True)


def sms_text(call: Call) -> str:
    """The SMS "send me these numbers": dialable entries only, international form where known."""
    host, origin = host_of(call), origin_of(call)
    parts = [call.t("help.sms.title", country=country_name(host, call.caller.lang))]
    directory = services(call).directory()
    contacts = [*(emergency_contacts(host, directory) if host else []),
                *(home_contacts(origin, host, directory) if origin and host else [])]
    marked = False
    for contact in contacts:
        if host and contact.reachable_from(host):
            mark = "" if contact.verified else _MARK
            marked = marked or bool(mark)
            parts.append(f"{call.t(f'help.kind.{contact.kind}')} {_number(contact.e164 or contact.phone or '')}{mark}")
    if marked:  # the same one-sentence key as the screens' last line: the mark means the same everywhere
        parts.append(call.t("help.unverified"))
    return "\n".join(parts)


def send_sms(call: Call) -> Reply:
    """``help.sms``: queue the numbers as one SMS, at most ``HELP_SMS_PER_DAY`` a day per number."""
    svc = services(call)
    day = datetime.now(tz=UTC).strftime("%Y%m%d")
    key = help_sms_count_key(pseudonym(call), day)
    pipe = svc.redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, 2 * 24 * 3600)
    count, _ = pipe.execute()
    if count > svc.settings.help_sms_per_day:
        return Reply(text=call.t("help.sms.limit"), end=True)
    if not claim(svc.redis, svc.outbox, call.caller.phone):  # the caps every single SMS shares (outbox.sms)
        return Reply(text=call.t("sms.capped"), end=True)
    effect = Effect("sms", {"text": sms_text(call), "priority": "emergency", "claimed": True,
                            "dedupe": f"help-{call.caller.session_id}"})
    return Reply(text=call.t("help.sms.queued"), end=True, effects=[effect])


def callback(call: Call) -> Reply:
    """``help.callback`` (``params: {topic}``): a ticket in the agency queue; the caller gets its reference."""
    topic = call.params.get("topic", "other")
    if topic not in CALLBACK_TOPICS:
        topic = "other"
    svc = services(call)
    ref = casework.upsert(
        svc.redis, casework.CALLBACK, call.caller.session_id,
        {"topic": topic, "language": call.caller.lang, "host_country": host_of(call) or "",
         "home_country": origin_of(call) or "", "phone_masked": mask(call.caller.phone)},
        ttl=svc.settings.report_retention_days * 86400, keyring=svc.keyring,
        contact=call.caller.phone, contact_ttl=svc.settings.callback_contact_ttl,
    )
    days = max(1, svc.settings.callback_contact_ttl // 86400)  # the number is kept that long: no call comes later
    return Reply(text=call.tn("help.callback.done", days, ref=ref, days=days), end=True)
