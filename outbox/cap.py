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
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from redis import Redis

from identity import codes
from identity.codes import language_code
from menus.gsm import sms_segments, to_gsm_lookalikes

from . import broadcasts, keys
from .config import OutboxConfig
from .errors import CapError, NotFound

NS = "urn:oasis:names:tc:emergency:cap:1.2"
#: Largest alert accepted; real alerts are a few kilobytes, polygons included.
MAX_CAP_BYTES = 512 * 1024
MAX_SEGMENTS = 3
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


def _text(parent: Element, name: str, *, required: bool = False, where: str = "alert") -> str:
    element = _find(parent, name)
    value = " ".join((element.text or "").split()) if element is not None else ""
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


def parse(body: bytes) -> Alert:
    """Parse and validate one CAP 1.2 alert. Raises CapError with what is wrong."""
    if len(body) > MAX_CAP_BYTES:
        raise CapError(f"The alert is larger than {MAX_CAP_BYTES // 1024} KB.")
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise CapError(f"The body is not acceptable XML: {type(exc).__name__}.") from None
    if root.tag != f"{{{NS}}}alert":
        raise CapError(f"The root element must be <alert> in the {NS} namespace.")
    references = tuple(_references(_text(root, "references")))
    alert = Alert(
        identifier=_text(root, "identifier", required=True), sender=_text(root, "sender", required=True),
        sent=_time(_text(root, "sent", required=True), "sent"), status=_enum(root, "status", STATUSES, "alert"),
        msg_type=_enum(root, "msgType", MSG_TYPES, "alert"), scope=_enum(root, "scope", SCOPES, "alert"),
        references=references,
        infos=tuple(_info(element) for element in root.findall(f"{{{NS}}}info")),
    )
    if alert.msg_type in ("Update", "Cancel") and not references:
        raise CapError(f"An alert of msgType {alert.msg_type} needs <references>.")
    return alert


def _references(value: str) -> list[tuple[str, str]]:
    refs = []
    for item in value.split():
        parts = item.split(",")
        if len(parts) != 3:
            raise CapError(f"<references> entry {item[:60]!r} is not sender,identifier,sent.")
        refs.append((parts[0], parts[1]))
    return refs


def _info(element: Element) -> Info:
    categories = [" ".join((c.text or "").split()) for c in element.findall(f"{{{NS}}}category")]
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
    return Info(language=language, text=fit(headline, detail), urgency=urgency, severity=severity,
                topics=frozenset(CATEGORY_TOPICS.get(c, DEFAULT_TOPIC) for c in categories),
                expires=_time(expires, "expires") if expires else None, countries=tuple(_countries(element)))


def _countries(info: Element) -> list[str]:
    found = []
    for area in info.findall(f"{{{NS}}}area"):
        for geocode in area.findall(f"{{{NS}}}geocode"):
            name, value = _text(geocode, "valueName"), _text(geocode, "value").upper()
            if name.upper() in ("ISO3166-1", "ISO 3166-1") and value:
                found.append(country_code(value))
    return found


def country_code(value: str) -> str:
    """ISO 3166-1 alpha-2 or alpha-3 → alpha-2; CapError for anything else."""
    country = codes.country_code(value)
    if country is None:
        raise CapError(f"{value.strip().upper()[:10]!r} is not an ISO 3166-1 country code.")
    return country


def fit(headline: str, detail: str, max_segments: int = MAX_SEGMENTS) -> str:
    """``headline. detail`` in at most ``max_segments`` SMS segments, cut at a word with ``...`` if needed."""
    headline = headline.rstrip(" .")
    text = to_gsm_lookalikes(f"{headline}. {detail}" if detail else headline)
    if sms_segments(text).segments <= max_segments:
        return text
    words = text.split(" ")
    low, high = 1, len(words)
    while low < high:  # the longest prefix of words that fits with the ellipsis
        mid = (low + high + 1) // 2
        if sms_segments(" ".join(words[:mid]) + "...").segments <= max_segments:
            low = mid
        else:
            high = mid - 1
    cut = " ".join(words[:low]) + "..."
    while sms_segments(cut).segments > max_segments:  # one giant word
        cut = cut[:-4] + "..."
    return cut


def alert_key(sender: str, identifier: str) -> str:
    return keys.cap_alert(hashlib.sha256(f"{sender}\n{identifier}".encode()).hexdigest()[:32])


def _remember(connection: Redis, alert: Alert, agency: str, broadcast_ids: list[str],
              countries: Sequence[str], topics: Sequence[str]) -> None:
    connection.set(alert_key(alert.sender, alert.identifier), json.dumps(
        {"agency": agency, "broadcasts": broadcast_ids, "countries": list(countries), "topics": list(topics)}),
        ex=ALERT_TTL_S)


def _recall(connection: Redis, agency: str, sender: str, identifier: str) -> dict[str, Any] | None:
    raw = connection.get(alert_key(sender, identifier))
    record = json.loads(raw) if raw else None
    return record if record and record.get("agency") == agency else None


def submit(connection: Redis, agency: str, alert: Alert, countries: Sequence[str] | None,
           config: OutboxConfig) -> list[str]:
    """Act on an alert; returns the broadcasts it made (or, for a Cancel, the ones it cancelled).

    Only ``status`` Actual with ``scope`` Public reaches subscribers (a Restricted or Private alert is meant for
    named users, not the public). A Cancel, of any scope, cancels the broadcasts of the alerts it references. An
    Update goes to the audience of the alert it references (unless it names its own countries) and cancels what
    that alert has not sent yet, as it supersedes it; an Update of an unknown alert is sent as a new one. An
    alert sent twice (same sender and identifier) is answered with its first broadcasts. A referenced broadcast
    that has expired meanwhile is skipped.
    """
    if alert.status != "Actual" or alert.msg_type in ("Ack", "Error"):
        return []
    referenced = [r for ref in alert.references if (r := _recall(connection, agency, *ref)) is not None]
    if alert.msg_type == "Cancel":
        return _cancel_all(connection, agency, referenced)
    if alert.scope != "Public":
        return []
    earlier = _recall(connection, agency, alert.sender, alert.identifier)
    if earlier is not None:
        return list(earlier["broadcasts"])
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
    if expires is not None and expires <= datetime.now(UTC):
        return []
    _cancel_all(connection, agency, referenced)
    request = broadcasts.BroadcastRequest(
        message=alert.texts(), priority="emergency" if alert.emergency else "normal", countries=tuple(targets),
        topics=tuple(topics), expires_at=expires, source="cap")
    view = broadcasts.create(connection, agency, request, config)
    _remember(connection, alert, agency, [view["id"]], targets, topics)
    return [view["id"]]


def _cancel_all(connection: Redis, agency: str, referenced: Sequence[dict[str, Any]]) -> list[str]:
    """Cancel the broadcasts of the referenced alerts; those whose record has expired are skipped, not a 404 after
    half of them were cancelled."""
    cancelled = []
    for record in referenced:
        for broadcast_id in record["broadcasts"]:
            try:
                broadcasts.cancel(connection, broadcast_id, agency)
            except NotFound:
                continue
            cancelled.append(broadcast_id)
    return cancelled
