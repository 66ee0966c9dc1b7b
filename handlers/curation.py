"""Curated edits of the help directory: an overlay in Redis on top of ``handlers/data/helplines.yaml``.

The YAML file is the reviewed, versioned directory; agencies' caseworkers correct it between releases from the
console (a changed number, a source, the date they checked it). Their edits live in one Redis hash, one field
per entry (keyed by :func:`entry_id`, a digest of what identifies the entry in the file), plus a version counter
bumped by every edit.

The help screens read the directory from :class:`LiveDirectory` (the gateway keeps one in its services): the
file parsed once, with the overlay applied, rebuilt only when the version changed. A process looks at the
version at most every :data:`REFRESH_S` seconds, so the USSD hot path makes no Redis call for it but once in
that interval, and an edit reaches every caller within it. An edit whose entry has since changed in the file no
longer matches any entry and is simply not applied (the console lists it as stale).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers
from redis import Redis
from redis.exceptions import RedisError

from redis_reply import fields, optional_text

from . import directory as helplines
from .directory import Contact, Directory

OVERLAY_KEY = "directory:overlay"
VERSION_KEY = "directory:overlay:version"
#: Longest an edit takes to reach callers served by a process that has the previous version.
REFRESH_S = 30.0
#: Fields a curator may change. The kind, country and name identify the entry and stay as the file has them.
EDITABLE = ("phone", "e164", "source", "checked", "checked_by", "verified", "note")


@dataclass(frozen=True)
class Listed:
    """One entry of the directory as the console lists it."""

    id: str
    section: str  # emergency, offices, missions, home
    contact: Contact
    edited: Mapping[str, Any] | None


def entry_id(section: str, contact: Contact, original_phone: str | None = None) -> str:
    """A stable name for an entry of the file: its section, countries, kind, name and number as the file has
    them (``original_phone``: the file's number, when ``contact`` is already edited)."""
    phone = contact.phone if original_phone is None else original_phone
    raw = "|".join([section, contact.country, contact.origin or "", contact.kind, contact.name or "", phone or ""])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _sections(d: Directory) -> Iterator[tuple[str, Contact]]:
    for section, group in (("emergency", d.emergency), ("offices", d.offices), ("missions", d.missions),
                           ("home", d.home_lines)):
        for contacts in group.values():
            for contact in contacts:
                yield section, contact


def load_overlay(connection: Redis) -> dict[str, dict[str, Any]]:
    return {k: json.loads(v) for k, v in fields(connection.hgetall(OVERLAY_KEY)).items()}


def apply(base: Directory, overlay: Mapping[str, Mapping[str, Any]]) -> Directory:
    """``base`` with every matching edit applied (a new Directory; ``base`` is untouched)."""
    if not overlay:
        return base

    def edited(section: str, contacts: tuple[Contact, ...]) -> tuple[Contact, ...]:
        out = []
        for contact in contacts:
            edit = overlay.get(entry_id(section, contact))
            out.append(_with(contact, edit) if edit else contact)
        return tuple(out)

    return dataclasses.replace(
        base,
        emergency={k: edited("emergency", v) for k, v in base.emergency.items()},
        offices={k: edited("offices", v) for k, v in base.offices.items()},
        missions={k: edited("missions", v) for k, v in base.missions.items()},
        home_lines={k: edited("home", v) for k, v in base.home_lines.items()},
    )


def _with(contact: Contact, edit: Mapping[str, Any]) -> Contact:
    changes = {k: edit[k] for k in EDITABLE if k in edit}
    if "checked" in changes:
        changes["checked"] = dt.date.fromisoformat(str(changes["checked"]))
    return dataclasses.replace(contact, **changes)


def listing(connection: Redis, country: str) -> list[Listed]:
    """Every entry for callers in ``country`` (its emergency lines, offices and foreign missions) and the home
    lines of ``country``'s own citizens abroad, with the curated values shown."""
    base = helplines.load_directory()
    overlay = load_overlay(connection)
    out = []
    for section, contact in _sections(base):
        if contact.country != country and not (section == "home" and contact.origin == country):
            continue
        key = entry_id(section, contact)
        edit = overlay.get(key)
        out.append(Listed(key, section, _with(contact, edit) if edit else contact, edit))
    return out


def find(connection: Redis, key: str) -> Listed | None:
    base = helplines.load_directory()
    for section, contact in _sections(base):
        if entry_id(section, contact) == key:
            edit = load_overlay(connection).get(key)
            return Listed(key, section, _with(contact, edit) if edit else contact, edit)
    return None


def problems(listed: Listed, changes: Mapping[str, Any]) -> list[str]:
    """What the directory's own validation says of the entry once changed (an empty list: it may be saved)."""
    contact = _with(listed.contact, changes)
    single = Directory(path=Path("console"), emergency={contact.country: (contact,)}, offices={}, missions={},
                       home_lines={})
    return [fault.split(": ", 1)[-1] for fault in helplines.validate(single)]


def number_note(phone: str, country: str) -> tuple[bool, str]:
    """How ``phonenumbers`` reads a number typed for ``country``: (known, a sentence for the curator)."""
    phone = (phone or "").strip()
    if not phone:
        return False, "No number: the entry will say it has none yet."
    try:
        parsed = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException as exc:
        return False, f"Not a phone number ({exc})."
    if phonenumbers.is_valid_number(parsed):
        region = phonenumbers.region_code_for_number(parsed)
        international = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        return region == country, (f"A valid number of {region}: {international}." if region == country else
                                   f"A valid number, but of {region}, not {country}.")
    if phonenumbers.is_valid_short_number_for_region(parsed, country):
        return True, f"A short code known in {country}; it works only inside {country}."
    return False, f"phonenumbers does not know this number in {country}: check it at the source before saving."


def save(connection: Redis, key: str, changes: Mapping[str, Any]) -> None:
    """Store an entry's curated values (merged with earlier ones) and bump the version."""
    current = load_overlay(connection).get(key, {})
    pipe = connection.pipeline(transaction=True)
    pipe.hset(OVERLAY_KEY, key, json.dumps({**current, **changes}, default=str))
    pipe.incr(VERSION_KEY)
    pipe.execute()


class LiveDirectory:
    """The directory the help screens read: the file, plus the overlay as of its latest version (see module doc).

    One per process (``gateway.services.Services.directory``). A Redis failure keeps the last directory: a caller
    in trouble still gets numbers, if not the very latest edit.
    """

    def __init__(self, connection: Redis, refresh_s: float = REFRESH_S) -> None:
        self._connection = connection
        #: Seconds between looks at the overlay's version (a test sets 0: every lookup looks).
        self.refresh_s = refresh_s
        self._directory = helplines.load_directory()
        self._version: str | None = None
        self._next_check = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> Directory:
        now = time.monotonic()
        if now >= self._next_check and self._lock.acquire(blocking=False):
            try:
                self._next_check = now + self.refresh_s
                version = optional_text(self._connection.get(VERSION_KEY))
                if version != self._version:
                    self._directory = apply(helplines.load_directory(), load_overlay(self._connection))
                    self._version = version
            except RedisError:
                pass
            finally:
                self._lock.release()
        return self._directory

