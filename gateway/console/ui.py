"""What templates need to show things in the reader's language: names of countries, languages, roles, statuses
and topics, and dates. Display only: the values themselves come from the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel import Locale
from flask import current_app
from flask_babel import format_date, format_datetime, get_locale, lazy_gettext

from . import bp

ROLE_NAMES = {"viewer": lazy_gettext("viewer"), "sender": lazy_gettext("sender"),
              "caseworker": lazy_gettext("caseworker"), "admin": lazy_gettext("admin")}
STATUS_NAMES = {"scheduled": lazy_gettext("scheduled"), "sending": lazy_gettext("sending"),
                "done": lazy_gettext("done"), "cancelled": lazy_gettext("cancelled"),
                "expired": lazy_gettext("expired"), "failed": lazy_gettext("failed")}
#: The audit trail's actions (:mod:`.audit`), as an admin reads them.
ACTION_NAMES = {
    "login": lazy_gettext("Logged in"), "broadcast.send": lazy_gettext("Sent a broadcast"),
    "broadcast.cancel": lazy_gettext("Cancelled a broadcast"),
    "subscribers.import": lazy_gettext("Imported subscribers"),
    "subscriber.remove": lazy_gettext("Removed a subscriber"), "case.status": lazy_gettext("Changed a case's status"),
    "case.note": lazy_gettext("Added a note to a case"), "case.reveal": lazy_gettext("Revealed a full number"),
    "directory.edit": lazy_gettext("Edited the help directory"),
    "directory.checked": lazy_gettext("Marked a help number checked"), "person.add": lazy_gettext("Added a person"),
    "person.role": lazy_gettext("Changed a role"), "person.remove": lazy_gettext("Removed a person"),
    "apikey.create": lazy_gettext("Created an API key"), "apikey.revoke": lazy_gettext("Revoked an API key"),
}
TOPIC_NAMES = {"safety": lazy_gettext("Safety"), "health": lazy_gettext("Health"),
               "weather": lazy_gettext("Weather"), "work": lazy_gettext("Work rights")}


def _locale() -> Locale:
    return Locale.parse(str(get_locale() or "en"))


@bp.app_template_filter("country_name")
def country_name(code: str) -> str:
    name = _locale().territories.get((code or "").upper())
    return f"{name} ({code})" if name else code


@bp.app_template_filter("language_name")
def language_name(code: str) -> str:
    name = _locale().languages.get((code or "").lower())
    return f"{name} ({code})" if name else code


@bp.app_template_filter("topic_name")
def topic_name(code: str) -> str:
    return str(TOPIC_NAMES.get(code, code))


@bp.app_template_filter("isodate")
def isodate(value: str | datetime | None) -> str:
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return str(format_datetime(moment, "medium"))


@bp.app_template_filter("ord")
def code_point(char: str) -> int:
    return ord(char[0]) if char else 0


@bp.app_template_filter("shortday")
def shortday(day: str) -> str:
    """``2026-11-29`` as the reader's short day (``29 Nov``)."""
    return str(format_date(datetime.fromisoformat(day).date(), "d MMM"))


@bp.app_context_processor
def _names() -> dict[str, Any]:
    return {"role_names": ROLE_NAMES, "status_names": STATUS_NAMES, "topic_names": TOPIC_NAMES,
            "action_names": ACTION_NAMES,
            "url_endpoints": current_app.view_functions}
