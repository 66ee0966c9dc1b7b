"""Helpline directory: emergency numbers, hotlines, home-country missions and international offices.

The data lives in ``handlers/data/helplines.yaml`` (schema in that file's header and in ``handlers/data/README.md``).
This module turns it into frozen dataclasses indexed by country, so that a USSD screen costs a dict lookup:
the YAML is parsed once, by :func:`load_directory`, which the gateway calls at start-up and keeps in its services
(``call.services.directory``); every lookup takes that :class:`Directory`.

Screen text is translated elsewhere: a :class:`Contact` carries a translation-independent ``kind`` (``police``,
``labour``, ``embassy``...) and the menus turn kinds into words. Names of embassies stay in English.

Pure: no Redis, no Flask. ``phonenumbers`` is used only by :func:`validate`, never on the lookup path.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import yaml
from phonenumbers import shortnumberinfo

__all__ = [
    "DEFAULT_PATH",
    "EMERGENCY_KINDS",
    "HOME_KINDS",
    "HOTLINE_KINDS",
    "KINDS",
    "OFFICE_KINDS",
    "Contact",
    "Directory",
    "DirectoryError",
    "emergency_contacts",
    "home_contacts",
    "international_offices",
    "load_directory",
    "parse_directory",
    "validate",
]

# libyaml's loader parses the file several times faster than the pure-Python one (start-up budget: 2 s in all).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DEFAULT_PATH = Path(__file__).with_name("data") / "helplines.yaml"

# Order matters: emergency_contacts() lists kinds in this order, most urgent first.
EMERGENCY_KINDS: tuple[str, ...] = ("emergency", "police", "ambulance", "fire", "coast_guard")
HOTLINE_KINDS: tuple[str, ...] = ("trafficking", "labour", "migrant_support", "women", "child")
HOME_KINDS: tuple[str, ...] = ("embassy", "consulate", "labour_attache", "consular")
OFFICE_KINDS: tuple[str, ...] = ("iom", "unhcr", "ilo")
KINDS: frozenset[str] = frozenset(EMERGENCY_KINDS + HOTLINE_KINDS + HOME_KINDS + OFFICE_KINDS)

CHANNELS: frozenset[str] = frozenset({"voice", "sms", "whatsapp"})
_FIELDS = frozenset(
    {"kind", "name", "phone", "e164", "city", "channel", "hours", "note", "source", "checked", "checked_by",
     "verified", "abroad", "short_code", "abroad_only"}
)

# What a person dials: digits, optionally a leading +, single spaces or hyphens between groups.
_DIALABLE = re.compile(r"^\+?[0-9]+(?:[ -][0-9]+)*$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ALPHA2 = re.compile(r"^[A-Z]{2}$")

_EMERGENCY_ORDER = {kind: i for i, kind in enumerate(EMERGENCY_KINDS + HOTLINE_KINDS)}
_HOME_ORDER = {kind: i for i, kind in enumerate(HOME_KINDS)}


@dataclass(frozen=True, slots=True)
class Contact:
    """One dialable (or, for missions and offices, at least locatable) point of help.

    ``phone`` is the string a person dials inside ``country`` ("999", "04 397 1222"); ``e164`` is the
    international form, given for numbers of 10+ digits where known, so an SMS can carry a tappable number.
    ``phone`` is ``None`` only for a mission or office whose number is not yet known; such a contact is never
    ``verified``. ``origin`` is set on home-country contacts (embassies: the origin they serve).

    Curation: ``source`` (a URL or a document) says where the number comes from, ``checked`` when a person last
    compared it with that source, ``checked_by`` who did (required once ``verified``). ``abroad`` says whether the
    number can be dialled from outside ``country``: a short code (``1348``) or a domestic toll-free number never
    can, whatever its ``e164``; see :meth:`reachable_from`. The file states ``abroad`` for every number.
    ``short_code`` marks a national short code that libphonenumber's metadata does not list (the Philippines'
    1348): its source is then the only authority for it. ``abroad_only`` marks the published international form
    of such a code, listed as an entry of its own (+63 2 1348, from abroad only) so that its source and check are
    its own and a caller at home is shown the short code alone.
    """

    kind: str
    country: str
    source: str
    checked: dt.date
    verified: bool
    name: str | None = None
    phone: str | None = None
    e164: str | None = None
    city: str | None = None
    origin: str | None = None
    channel: str = "voice"
    hours: str | None = None
    note: str | None = None
    checked_by: str | None = None
    abroad: bool = True
    short_code: bool = False
    abroad_only: bool = False

    @property
    def dialable(self) -> bool:
        """True when the contact has a number to call or text (missions may have only a city so far)."""
        return self.phone is not None

    def reachable_from(self, where: str) -> bool:
        """Whether a caller in ``where`` can dial this number: always inside its own country; from elsewhere only
        with an international form (``e164``) that the entry does not mark ``abroad: false``. A Filipino in the UAE
        is never shown the Philippine short code 1348, which only answers inside the Philippines."""
        if self.phone is None:
            return False
        if where == self.country:
            return not self.abroad_only
        return self.e164 is not None and self.abroad

    def number_from(self, where: str) -> str | None:
        """The string to dial from ``where``: the local form at home, the international form from abroad."""
        if not self.reachable_from(where):
            return None
        return self.phone if where == self.country else self.e164


@dataclass(frozen=True, slots=True)
class Directory:
    """The parsed directory, indexed for O(1) lookups by country and by (origin, host) pair."""

    path: Path
    emergency: Mapping[str, tuple[Contact, ...]]
    offices: Mapping[str, tuple[Contact, ...]]
    missions: Mapping[tuple[str, str], tuple[Contact, ...]]
    home_lines: Mapping[str, tuple[Contact, ...]]
    host_names: Mapping[str, str] = field(default_factory=dict)
    faults: tuple[str, ...] = ()

    @property
    def hosts(self) -> frozenset[str]:
        """Every country that has host-side entries (emergency numbers or hotlines)."""
        return frozenset(self.emergency)

    def all_contacts(self) -> Iterable[Contact]:
        """Every contact once, in file order per section (used by validation and coverage reports)."""
        for group in (self.emergency, self.offices, self.missions, self.home_lines):
            for contacts in group.values():
                yield from contacts


class DirectoryError(ValueError):
    """The helplines file cannot be read as a directory at all (not YAML, or not the top-level shape)."""


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _contact(raw: Any, where: str, country: str, faults: list[str], origin: str | None = None) -> Contact | None:
    """Build one Contact from a YAML mapping, recording a readable fault for whatever is wrong with it.

    Structural faults (not a mapping, no kind, no date) drop the entry: a half-built contact must never reach a
    screen. Softer faults (a malformed number) are recorded but the entry is kept, so validate() reports them all.
    """
    if not isinstance(raw, Mapping):
        faults.append(f"{where}: entry is not a mapping: {raw!r}")
        return None
    kind = raw.get("kind")
    if kind not in KINDS:
        faults.append(f"{where}: unknown kind {kind!r} (known: {', '.join(sorted(KINDS))})")
        return None
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        faults.append(f"{where} ({kind}): missing source")
        return None
    checked = _as_date(raw.get("checked"))
    if checked is None:
        faults.append(f"{where} ({kind}): missing or malformed checked date {raw.get('checked')!r} (want YYYY-MM-DD)")
        return None
    verified = raw.get("verified")
    if not isinstance(verified, bool):
        faults.append(f"{where} ({kind}): verified must be true or false, got {verified!r}")
        return None
    unknown = set(raw) - _FIELDS
    if unknown:
        faults.append(f"{where} ({kind}): unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    phone = raw.get("phone")
    if phone is not None:
        phone = str(phone)
    e164 = raw.get("e164")
    if e164 is not None:
        e164 = str(e164)
    checked_by = raw.get("checked_by")
    if checked_by is not None and (not isinstance(checked_by, str) or not checked_by.strip()):
        faults.append(f"{where} ({kind}): checked_by must name who checked the entry")
        checked_by = None
    # Every number in the file says whether it can be dialled from abroad. An entry with no number yet defaults to
    # true, so that a curator who adds a number with its international form (console) makes it usable abroad.
    abroad = raw.get("abroad", phone is None)
    if not isinstance(abroad, bool):
        faults.append(f"{where} ({kind}): abroad must be true or false, got {abroad!r}")
        abroad = False
    elif phone is not None and "abroad" not in raw:
        faults.append(f"{where} ({kind}): say whether {phone!r} can be dialled from abroad (abroad: true or false)")
    elif phone is not None and abroad and e164 is None:
        faults.append(f"{where} ({kind}): abroad: true but no e164: from abroad {phone!r} needs its international form")
    short_code = raw.get("short_code", False)
    if not isinstance(short_code, bool):
        faults.append(f"{where} ({kind}): short_code must be true or false, got {short_code!r}")
        short_code = False
    abroad_only = raw.get("abroad_only", False)
    if not isinstance(abroad_only, bool):
        faults.append(f"{where} ({kind}): abroad_only must be true or false, got {abroad_only!r}")
        abroad_only = False
    elif abroad_only and not (abroad and e164):
        faults.append(f"{where} ({kind}): abroad_only needs abroad: true and an e164")
    channel = raw.get("channel", "voice")
    if channel not in CHANNELS:
        faults.append(f"{where} ({kind}): unknown channel {channel!r}")
        channel = "voice"
    return Contact(
        kind=kind,
        country=country,
        source=source.strip(),
        checked=checked,
        verified=verified,
        name=raw.get("name"),
        phone=phone,
        e164=e164,
        city=raw.get("city"),
        origin=origin,
        channel=channel,
        hours=raw.get("hours"),
        note=raw.get("note"),
        checked_by=checked_by.strip() if checked_by else None,
        abroad=abroad,
        short_code=short_code,
        abroad_only=abroad_only,
    )


def _contacts(raw: Any, where: str, country: str, faults: list[str], origin: str | None = None) -> list[Contact]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        faults.append(f"{where}: expected a list of entries")
        return []
    built = (_contact(item, f"{where}[{i}]", country, faults, origin) for i, item in enumerate(raw))
    return [c for c in built if c is not None]


def _check_country(code: Any, where: str, faults: list[str]) -> bool:
    if isinstance(code, str) and _ALPHA2.match(code):
        return True
    faults.append(f"{where}: {code!r} is not an ISO 3166-1 alpha-2 code")
    return False


def parse_directory(data: Any, path: Path) -> Directory:
    """Build a :class:`Directory` from already-parsed YAML; faults are collected on ``Directory.faults``."""
    if not isinstance(data, Mapping) or not isinstance(data.get("hosts"), Mapping):
        raise DirectoryError(f"{path}: expected a mapping with a 'hosts' mapping at the top level")
    faults: list[str] = []
    emergency: dict[str, tuple[Contact, ...]] = {}
    offices: dict[str, tuple[Contact, ...]] = {}
    missions: dict[tuple[str, str], tuple[Contact, ...]] = {}
    names: dict[str, str] = {}
    for host, section in data["hosts"].items():
        where = f"hosts.{host}"
        if not _check_country(host, where, faults) or not isinstance(section, Mapping):
            if isinstance(host, str) and _ALPHA2.match(host):
                faults.append(f"{where}: expected a mapping")
            continue
        if isinstance(section.get("name"), str):
            names[host] = section["name"]
        local = _contacts(section.get("emergency"), f"{where}.emergency", host, faults)
        for c in local:
            if c.kind not in _EMERGENCY_ORDER:
                faults.append(f"{where}.emergency: kind {c.kind!r} belongs in another section")
        emergency[host] = tuple(sorted(local, key=lambda c: _EMERGENCY_ORDER.get(c.kind, 99)))
        intl = _contacts(section.get("international"), f"{where}.international", host, faults)
        for c in intl:
            if c.kind not in OFFICE_KINDS:
                faults.append(f"{where}.international: kind {c.kind!r} is not an international office kind")
        offices[host] = tuple(intl)
        raw_missions = section.get("missions") or {}
        if not isinstance(raw_missions, Mapping):
            faults.append(f"{where}.missions: expected a mapping of origin -> entries")
            continue
        for origin, entries in raw_missions.items():
            mwhere = f"{where}.missions.{origin}"
            if not _check_country(origin, mwhere, faults):
                continue
            found = _contacts(entries, mwhere, host, faults, origin=origin)
            for c in found:
                if c.kind not in HOME_KINDS:
                    faults.append(f"{mwhere}: kind {c.kind!r} is not a home-country kind")
            missions[(origin, host)] = tuple(sorted(found, key=lambda c: _HOME_ORDER.get(c.kind, 99)))
    home_lines: dict[str, tuple[Contact, ...]] = {}
    for origin, section in (data.get("origins") or {}).items():
        where = f"origins.{origin}"
        if not _check_country(origin, where, faults) or not isinstance(section, Mapping):
            continue
        home_lines[origin] = tuple(_contacts(section.get("home"), f"{where}.home", origin, faults, origin=origin))
    return Directory(
        path=path,
        emergency=emergency,
        offices=offices,
        missions=missions,
        home_lines=home_lines,
        host_names=names,
        faults=tuple(faults),
    )


def load_directory(path: str | Path | None = None) -> Directory:
    """Parse the helplines file: at start-up (the gateway keeps the result in its services), never per request.

    Args:
        path: the YAML file; ``None`` means the bundled ``handlers/data/helplines.yaml``.

    Raises:
        DirectoryError: the file is not YAML of the expected top-level shape. Entry-level problems do not raise:
            they are collected and returned by :func:`validate`, and the faulty entries are left out.
    """
    resolved = Path(path) if path is not None else DEFAULT_PATH
    try:
        data = yaml.load(resolved.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise DirectoryError(f"{resolved}: not valid YAML ({exc})") from exc
    return parse_directory(data, resolved)


def emergency_contacts(host: str, directory: Directory) -> list[Contact]:
    """Emergency services and hotlines (labour, trafficking...) in ``host``, most urgent first.

    Emergency kinds come first in :data:`EMERGENCY_KINDS` order, then hotlines in :data:`HOTLINE_KINDS` order; an
    unknown host gives an empty list, and the menu says so rather than guessing another country's numbers.
    """
    d = directory
    return list(d.emergency.get(host, ()))


def home_contacts(origin: str, host: str, directory: Directory) -> list[Contact]:
    """The caller's own country's help while abroad: its missions in ``host``, then its home-side lines.

    Missions (embassy before consulate) are listed first because they can act locally; the origin's
    home-side lines (e.g. a ministry's diaspora hotline, kind ``consular``) follow, and are the only help when the
    origin has no mission in ``host``. A caller at home (``origin == host``) gets the home-side lines only.
    """
    d = directory
    missions = d.missions.get((origin, host), ()) if origin != host else ()
    return [*missions, *d.home_lines.get(origin, ())]


def international_offices(host: str, directory: Directory) -> list[Contact]:
    """International organisations' offices in ``host`` (IOM country office and the like)."""
    d = directory
    return list(d.offices.get(host, ()))


def validate(directory: Directory | None = None) -> list[str]:
    """Every fault in the directory as a readable sentence; an empty list means the file is sound.

    Checks: structure (collected while loading: missing source or checked date, unknown kind or field),
    malformed numbers (not dialable, bad E.164, E.164 not of the contact's country), verified entries without
    a number, and duplicates (the same number twice for the same kind in one country and section).
    """
    d = directory or load_directory()
    faults = list(d.faults)
    seen: set[tuple[str | None, str, str, str]] = set()
    for c in d.all_contacts():
        label = f"{c.country}{'/' + c.origin if c.origin else ''} {c.kind} {c.name or ''}".rstrip()
        if c.verified and not c.checked_by:
            faults.append(f"{label}: verified but checked_by does not say who checked it")
        if c.phone is None:
            if c.verified:
                faults.append(f"{label}: verified but has no phone")
            if c.kind not in HOME_KINDS + OFFICE_KINDS:
                faults.append(f"{label}: needs a phone (only missions and offices may be listed without one)")
        elif not _DIALABLE.match(c.phone):
            faults.append(f"{label}: malformed phone {c.phone!r} (digits, single spaces or hyphens, optional +)")
        else:
            faults.extend(f"{label}: {problem}" for problem in _phone_problems(c))
        if c.e164 is not None:
            faults.extend(f"{label}: {problem}" for problem in _e164_problems(c))
        if c.phone is not None:
            key = (c.origin, c.country, c.kind, _digits(c.phone))
            if key in seen:
                faults.append(f"{label}: duplicate number {c.phone!r}")
            seen.add(key)
    return faults


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _phone_problems(c: Contact) -> list[str]:
    """The local number as libphonenumber reads it for the entry's country, and what ``abroad`` claims of it.

    A number must be a valid number of its country, or a short code libphonenumber knows there, or be marked
    ``short_code`` (a national hotline its metadata lacks). A short code is dialable from abroad only where its
    source publishes an international form (``e164``, which must then be the same digits).
    """
    assert c.phone is not None
    try:
        parsed = phonenumbers.parse(c.phone, c.country)
    except phonenumbers.NumberParseException as exc:
        return [f"phone {c.phone!r} does not parse for {c.country} ({exc})"]
    problems = []
    full = phonenumbers.is_valid_number_for_region(parsed, c.country)
    short = not full and shortnumberinfo.is_valid_short_number_for_region(parsed, c.country)
    if c.short_code:
        if full or short:
            problems.append(f"phone {c.phone!r} is known to libphonenumber: drop short_code")
        if c.e164 and not c.abroad:
            problems.append(f"short code {c.phone!r} has an e164 but abroad: false")
        if len(str(parsed.national_number)) > 6:
            problems.append(f"short code {c.phone!r} has more than 6 digits")
    elif not (full or short):
        problems.append(f"phone {c.phone!r} is not a valid number of {c.country} for libphonenumber "
                        "(a national short code it lacks: short_code: true, with its source)")
    return problems


def _e164_problems(c: Contact) -> list[str]:
    """E.164 checks: shape, validity for its region, and agreement with the local ``phone`` string."""
    assert c.e164 is not None
    if not _E164.match(c.e164):
        return [f"malformed e164 {c.e164!r} (want + and 7-15 digits)"]
    try:
        parsed = phonenumbers.parse(c.e164, None)
    except phonenumbers.NumberParseException as exc:
        return [f"e164 {c.e164!r} does not parse ({exc})"]
    problems = []
    region = phonenumbers.region_code_for_number(parsed)
    if region is None and c.short_code and parsed.country_code:  # a short code abroad: country from its code
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
    # A home-side line (kind consular) lives in the origin country; everything else in the host country.
    if region != c.country and not phonenumbers.is_valid_number_for_region(parsed, c.country):
        problems.append(f"e164 {c.e164!r} belongs to {region}, not {c.country}")
    elif not c.short_code and not phonenumbers.is_valid_number(parsed):
        problems.append(f"e164 {c.e164!r} is not a valid number for libphonenumber")
    if c.phone is not None and c.phone.startswith("+") and _digits(c.phone) != _digits(c.e164):
        problems.append(f"e164 {c.e164!r} does not match phone {c.phone!r}")
    if c.phone is not None and not c.phone.startswith("+"):
        # Local forms may carry a trunk prefix: "0" (04 397 1222) or, in the NANP, "1" (1-888-373-7888).
        local = _digits(c.phone).lstrip("0")
        international = f"{parsed.country_code}{parsed.national_number}"
        if local and not international.endswith(local):
            problems.append(f"e164 {c.e164!r} does not match local number {c.phone!r}")
    return problems
