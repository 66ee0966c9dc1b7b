"""CAP 1.2 alerts (OASIS Common Alerting Protocol) into broadcasts.

Parsing goes through ``defusedxml`` (no DTDs, no entity expansion, no external references) after a size check.
The structure is validated against what CAP 1.2 requires of ``<alert>`` and ``<info>``; elements of other
namespaces (an XML signature) are ignored. All ``<info>`` blocks of one alert make one broadcast with one text per
language: the headline (or event) and the instruction (or description), folded to GSM-7 look-alikes where that
helps and cut at a word to at most :data:`MAX_SEGMENTS` segments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from redis import Redis

from identity import codes
from identity.codes import language_code
from menus.gsm import to_gsm_lookalikes

from . import broadcasts, keys
from .config import OutboxConfig
from .errors import BroadcastError, CapError, Conflict, NotFound

NS = "urn:oasis:names:tc:emergency:cap:1.2"
#: Largest alert accepted; real alerts are a few kilobytes, polygons included.
MAX_CAP_BYTES = 512 * 1024
#: ``<info>`` blocks read from one alert (each is one language's text; real alerts carry a few).
MAX_INFOS = 50
#: Segments an alert's SMS may take, its footer included.
MAX_SEGMENTS = 3
#: An alert sent longer ago than this is history, not a warning: it reaches nobody (the OASIS samples of 2003
#: once went out as emergencies).
MAX_AGE_S = 24 * 3600
STATUSES = ("Actual", "Exercise", "System", "Test", "Draft")
MSG_TYPES = ("Alert", "Update", "Cancel", "Ack", "Error")
SCOPES = ("Public", "Restricted", "Private")
URGENCIES = ("Immediate", "Expected", "Future", "Past", "Unknown")
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
CERTAINTIES = ("Observed", "Likely", "Possible", "Unlikely", "Unknown", "Very Likely")
#: CAP categories → subscriber topics.
CATEGORY_TOPICS = {"Met": "weather", "Health": "health"}
DEFAULT_TOPIC = "safety"
#: Alerts by sender and identifier are remembered this long, for Updates and Cancels that reference them.
ALERT_TTL_S = 90 * 24 * 3600


@dataclass(frozen=True)
class Info:
    language: str
    text: str
    urgency: str
    severity: str
    topics: frozenset[str]
    expires: datetime | None
    countries: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[tuple[str, str], ...]
    infos: tuple[Info, ...] = field(default=())

    @property
    def emergency(self) -> bool:
        return any(i.severity in ("Extreme", "Severe") and i.urgency in ("Immediate", "Expected") for i in self.infos)

    def texts(self) -> dict[str, str]:
        """One text per language, in the order the infos give them (the first is the fallback)."""
        out: dict[str, str] = {}
        for info in self.infos:
            out.setdefault(info.language, info.text)
        return out


def _find(parent: Element, name: str) -> Element | None:
    return parent.find(f"{{{NS}}}{name}")


def _raw(parent: Element, name: str) -> str:
    element = _find(parent, name)
    return (element.text or "") if element is not None else ""


def _text(parent: Element, name: str, *, required: bool = False, where: str = "alert") -> str:
    value = " ".join(_raw(parent, name).split())
    if required and not value:
        raise CapError(f"<{where}> lacks the required <{name}>.")
    return value


def _enum(parent: Element, name: str, allowed: Sequence[str], where: str) -> str:
    value = _text(parent, name, required=True, where=where)
    if value not in allowed:
        raise CapError(f"<{name}> is {value[:30]!r}; CAP 1.2 allows {', '.join(allowed)}.")
    return value


def _time(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CapError(f"<{name}> {value[:40]!r} is not a CAP date-time.") from None
    if parsed.tzinfo is None:
        raise CapError(f"<{name}> {value[:40]!r} lacks its time-zone offset.")
    if not broadcasts.in_range(parsed):
        raise CapError(f"<{name}> {value[:40]!r} is outside the years {broadcasts.EARLIEST_YEAR}-"
                       f"{broadcasts.LATEST_YEAR}.")
    return parsed


def _xml(body: bytes) -> Element:
    """The document's root, refusing any DTD (the only place entities, expansion bombs and external references
    can be declared).

    An ASCII-compatible document (UTF-8, Latin-1: no NUL byte) that holds no ``<!DOCTYPE`` has no DTD, so the
    standard library's C parser reads it as safely as defusedxml and several times faster (defusedxml's handlers
    run in Python: a 512 KB alert of small elements took most of a second). Anything else (UTF-16, a DTD) goes
    through defusedxml, which refuses the DTD.
    """
    try:
        if b"\x00" not in body and b"<!DOCTYPE" not in body:
            return ElementTree.fromstring(body)
        return fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CapError(f"The body is not acceptable XML: {type(exc).__name__}.") from None


def parse(body: bytes) -> Alert:
    """Parse and validate one CAP 1.2 alert. Raises CapError with what is wrong."""
    if len(body) > MAX_CAP_BYTES:
        raise CapError(f"The alert is larger than {MAX_CAP_BYTES // 1024} KB.")
    root = _xml(body)
    if root.tag != f"{{{NS}}}alert":
        raise CapError(f"The root element must be <alert> in the {NS} namespace.")
    references = tuple(_references(_text(root, "references")))
    alert = Alert(
        identifier=_text(root, "identifier", required=True), sender=_text(root, "sender", required=True),
        sent=_time(_text(root, "sent", required=True), "sent"), status=_enum(root, "status", STATUSES, "alert"),
        msg_type=_enum(root, "msgType", MSG_TYPES, "alert"), scope=_enum(root, "scope", SCOPES, "alert"),
        references=references,
        infos=tuple(_info(element) for element in _infos(root)),
    )
    if alert.msg_type in ("Update", "Cancel") and not references:
        raise CapError(f"An alert of msgType {alert.msg_type} needs <references>.")
    return alert


def _infos(root: Element) -> list[Element]:
    """The alert's ``<info>`` blocks: one per language, so a handful; more than :data:`MAX_INFOS` is not an alert
    for people but a way to make the gateway work."""
    infos = root.findall(f"{{{NS}}}info")
    if len(infos) > MAX_INFOS:
        raise CapError(f"The alert has {len(infos)} <info> blocks; at most {MAX_INFOS} (one per language) are read.")
    return infos


def _references(value: str) -> list[tuple[str, str]]:
    refs = []
    for item in value.split():
        parts = item.split(",")
        if len(parts) != 3:
            raise CapError(f"<references> entry {item[:60]!r} is not sender,identifier,sent.")
        refs.append((parts[0], parts[1]))
    return refs


def _info(element: Element) -> Info:
    # Normalised once per distinct text: an alert may repeat one category thousands of times.
    categories = {" ".join((raw or "").split()) for raw in {c.text for c in element.iterfind(f"{{{NS}}}category")}}
    if not categories:
        raise CapError("<info> lacks the required <category>.")
    event = _text(element, "event", required=True, where="info")
    urgency = _enum(element, "urgency", URGENCIES, "info")
    severity = _enum(element, "severity", SEVERITIES, "info")
    _enum(element, "certainty", CERTAINTIES, "info")
    language = language_code((_text(element, "language") or "en-US").split("-")[0]) or ""
    if not language:
        raise CapError(f"<language> {language[:10]!r} is not an RFC 3066 language tag.")
    expires = _text(element, "expires")
    headline = _text(element, "headline") or event
    detail = _text(element, "instruction") or _text(element, "description")
    return Info(language=language, text=text_of(headline, detail), urgency=urgency, severity=severity,
                topics=frozenset(CATEGORY_TOPICS.get(c, DEFAULT_TOPIC) for c in categories),
                expires=_time(expires, "expires") if expires else None, countries=tuple(_countries(element)))


def _countries(info: Element) -> list[str]:
    """The ``ISO3166-1`` geocodes of an info's areas as alpha-2 codes, each looked up once (an alert may repeat
    one country in thousands of areas)."""
    raw = {(_raw(geocode, "valueName"), _raw(geocode, "value"))
           for area in info.iterfind(f"{{{NS}}}area") for geocode in area.iterfind(f"{{{NS}}}geocode")}
    found: dict[str, None] = {}
    for name, value in raw:
        name, value = " ".join(name.split()).upper(), " ".join(value.split()).upper()
        if name in ("ISO3166-1", "ISO 3166-1") and value:
            found[value] = None
    return [country_code(value) for value in found]


def country_code(value: str) -> str:
    """ISO 3166-1 alpha-2 or alpha-3 → alpha-2; CapError for anything else."""
    country = codes.country_code(value)
    if country is None:
        raise CapError(f"{value.strip().upper()[:10]!r} is not an ISO 3166-1 country code.")
    return country


def text_of(headline: str, detail: str) -> str:
    """``headline. detail``, folded to GSM-7 look-alikes where that helps, no longer than a broadcast may be
    (the cut to :data:`MAX_SEGMENTS` segments, footer included, is made when the broadcast is created)."""
    headline = headline.rstrip(" .")
    full = f"{headline}. {detail}" if detail else headline
    return to_gsm_lookalikes(full[:broadcasts.MAX_TEXT_CHARS])


@dataclass(frozen=True)
class Outcome:
    """What an alert did: the broadcasts it made (for a Cancel, those it cancelled), and why it sent nothing to
    the public when it did not."""

    broadcasts: list[str]
    skipped: str | None = None


def alert_key(agency: str, sender: str, identifier: str) -> str:
    """An alert's identity is (agency, sender, identifier): another agency posting the same sender and identifier
    (by mistake, or to cancel someone else's alert) reaches only its own alerts."""
    return keys.cap_alert(hashlib.sha256(f"{agency}\n{sender}\n{identifier}".encode()).hexdigest()[:32])


def _remember(connection: Redis, alert: Alert, agency: str, broadcast_ids: list[str],
              countries: Sequence[str], topics: Sequence[str]) -> None:
    connection.set(alert_key(agency, alert.sender, alert.identifier), json.dumps(
        {"broadcasts": broadcast_ids, "countries": list(countries), "topics": list(topics)}), ex=ALERT_TTL_S)


def _recall(connection: Redis, agency: str, refs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """The agency's alerts among ``refs`` (sender, identifier), in one round trip however many there are."""
    unique = list(dict.fromkeys(refs))
    if not unique:
        return []
    return [json.loads(raw) for raw in connection.mget([alert_key(agency, *ref) for ref in unique]) if raw]


def submit(connection: Redis, agency: str, alert: Alert, countries: Sequence[str] | None,
           config: OutboxConfig) -> Outcome:
    """Act on an alert for ``agency``.

    Only an ``Actual`` alert acts at all. A Cancel cancels the broadcasts of the agency's alerts it references
    (:class:`NotFound` when it references none of them). Anything else reaches subscribers only when its
    ``scope`` is Public, it was sent within :data:`MAX_AGE_S` and has not expired; otherwise ``skipped`` says
    why. An Update goes to the audience of the alert it references (unless it names its own countries) and
    cancels what that alert has not sent yet, as it supersedes it; an Update of an unknown alert is sent as a new
    one. An alert posted again (same agency, sender and identifier) is answered with its first broadcasts.

    Raises:
        NotFound: a Cancel that matches none of this agency's alerts.
        CapError: no target country, or no ``<info>``.
    """
    if alert.status != "Actual":
        return Outcome([], f"status is {alert.status}: only Actual alerts reach the public")
    if alert.msg_type in ("Ack", "Error"):
        return Outcome([], f"msgType {alert.msg_type} is not a message for the public")
    referenced = _recall(connection, agency, alert.references)
    if alert.msg_type == "Cancel":
        if not referenced:
            raise NotFound("No alert of this agency matches the Cancel's <references>.")
        cancelled = _cancel_all(connection, agency, referenced)
        return Outcome(cancelled, None if cancelled else "the referenced alerts had already finished")
    if alert.scope != "Public":
        return Outcome([], f"scope is {alert.scope}: only Public alerts reach the public")
    now = datetime.now(UTC)
    if (now - alert.sent).total_seconds() > MAX_AGE_S:
        return Outcome([], f"sent more than {MAX_AGE_S // 3600} h ago ({alert.sent.isoformat()})")
    earlier = _recall(connection, agency, [(alert.sender, alert.identifier)])
    if earlier:
        return Outcome(list(earlier[0]["broadcasts"]))
    if not alert.infos:
        raise CapError(f"An alert of msgType {alert.msg_type} needs at least one <info>.")
    targets = list(dict.fromkeys(countries or [c for i in alert.infos for c in i.countries]))
    topics = sorted({t for i in alert.infos for t in i.topics})
    if not targets and referenced:
        targets = list(dict.fromkeys(c for r in referenced for c in r["countries"]))
        topics = sorted(set(topics) | {t for r in referenced for t in r.get("topics", [])})
    if not targets:
        raise CapError("No target country: give ?countries=KE,UG or <geocode> entries named ISO3166-1.")
    expiries = [i.expires for i in alert.infos]
    expires = None if any(e is None for e in expiries) else max(e for e in expiries if e is not None)
    if expires is not None and expires <= now:
        return Outcome([], f"expired at {expires.isoformat()}")
    request = broadcasts.BroadcastRequest(
        message=alert.texts(), priority="emergency" if alert.emergency else "normal", countries=tuple(targets),
        topics=tuple(topics), expires_at=expires, source="cap", max_segments=MAX_SEGMENTS, listed_if_empty=True)
    # With no subscriber in its countries and topics the alert is still recorded (done, nothing sent), so it is
    # public on "latest alerts" of those countries (CONTRACT §3) and a later Cancel or Update finds it.
    view = broadcasts.create(connection, agency, request, config)
    # Where the alert came from, on the broadcast's record, for the console's broadcast pages.
    connection.hset(keys.broadcast(view["id"]), mapping={
        "cap_sender": alert.sender[:200], "cap_identifier": alert.identifier[:200], "cap_sent": alert.sent.isoformat(),
        "cap_msg_type": alert.msg_type})
    _cancel_all(connection, agency, referenced)
    _remember(connection, alert, agency, [view["id"]], targets, topics)
    if not view["recipients"]:
        return Outcome([view["id"]], "no subscriber in the target countries and topics")
    return Outcome([view["id"]])


def _cancel_all(connection: Redis, agency: str, referenced: Sequence[dict[str, Any]]) -> list[str]:
    """Cancel the broadcasts of the referenced alerts; those already finished or gone are skipped, not an error
    after half of them were cancelled. One that was only listed (no subscriber, nothing sent) is withdrawn from
    "latest alerts" and counts as cancelled."""
    cancelled = []
    for record in referenced:
        for broadcast_id in record["broadcasts"]:
            try:
                broadcasts.cancel(connection, broadcast_id, agency)
            except Conflict:  # already finished: only a listed-only alert can still be withdrawn
                try:
                    if not broadcasts.withdraw(connection, broadcast_id, agency):
                        continue
                except BroadcastError:
                    continue
            except BroadcastError:  # NotFound (expired record)
                continue
            cancelled.append(broadcast_id)
    return cancelled
