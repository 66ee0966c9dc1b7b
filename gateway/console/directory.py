"""Help directory curation: the numbers callers get on the emergency screens, per country, with their source and
the date someone last checked them; edit an entry, or mark it checked today.

Edits are stored as the overlay of :mod:`handlers.curation` (the file stays the reviewed base) and checked by
the directory's own validation (:func:`handlers.directory.validate`) before they are saved; as a number is
typed, ``phonenumbers`` says how it reads it. Every edit is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from handlers import curation
from handlers.directory import load_directory

from . import audit, store
from .auth import permission_required
from .ui import country_name

bp = Blueprint("directory", __name__, url_prefix="/directory")
SECTION_ORDER = ("emergency", "offices", "missions", "home")
#: The sentences of :func:`handlers.curation.number_note` (the rule lives there), in the reader's language.
_NOTES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"No number: the entry will say it has none yet\.$"),
     lambda m: _("No number: the entry will say it has none yet.")),
    (re.compile(r"Not a phone number \((.*)\)\.$"), lambda m: _("Not a phone number (%(why)s).", why=m[1])),
    (re.compile(r"A valid number of (\w+): (\S+)\.$"),
     lambda m: _("A valid number of %(country)s: %(number)s.", country=country_name(m[1]), number=m[2])),
    (re.compile(r"A valid number, but of (\w+), not (\w+)\.$"),
     lambda m: _("A valid number, but of %(found)s, not %(country)s.", found=country_name(m[1]),
                 country=country_name(m[2]))),
    (re.compile(r"A short code known in (\w+); it works only inside \1\.$"),
     lambda m: _("A short code known in %(country)s; it works only inside %(country)s.",
                 country=country_name(m[1]))),
    (re.compile(r"phonenumbers does not know this number in (\w+): check it at the source before saving\.$"),
     lambda m: _("phonenumbers does not know this number in %(country)s: check it at the source before saving.",
                 country=country_name(m[1]))),
)


def number_note(phone: str, country: str) -> tuple[bool, str]:
    """:func:`handlers.curation.number_note` in the reader's language (its own words when a sentence is new)."""
    known, note = curation.number_note(phone, country)
    for pattern, say in _NOTES:
        match = pattern.match(note)
        if match:
            return known, say(match)
    return known, note


def countries() -> list[str]:
    d = load_directory()
    return sorted(set(d.emergency) | set(d.offices) | {host for _origin, host in d.missions} | set(d.home_lines))


@bp.get("/")
@permission_required("casework")
def index() -> str:
    country = (request.args.get("country") or "").upper()
    choices = countries()
    if country not in choices:
        country = choices[0] if choices else ""
    entries = sorted(curation.listing(store(), country), key=lambda e: SECTION_ORDER.index(e.section))
    return render_template("console/directory/index.html", country=country, countries=choices, entries=entries)


def _entry(entry_id: str) -> curation.Listed:
    listed = curation.find(store(), entry_id)
    if listed is None:
        abort(404)
    return listed


def _changes(form: dict[str, str], listed: curation.Listed) -> dict[str, object]:
    return {
        "phone": form.get("phone", "").strip() or None,
        "e164": form.get("e164", "").strip() or None,
        "source": form.get("source", "").strip(),
        "checked": form.get("checked", "").strip() or listed.contact.checked.isoformat(),
        "verified": form.get("verified") == "1",
        "checked_by": g.user.email if form.get("verified") == "1" else listed.contact.checked_by,
    }


@bp.route("/<entry_id>", methods=("GET", "POST"))
@permission_required("casework")
def edit(entry_id: str) -> str | tuple[str, int] | Response:
    listed = _entry(entry_id)
    if request.method == "GET":
        return render_template("console/directory/edit.html", entry=listed, errors=[], values=None,
                               note=number_note(listed.contact.phone or "", listed.contact.country))
    changes = _changes(request.form.to_dict(), listed)
    try:
        dt.date.fromisoformat(str(changes["checked"]))
        faults = curation.problems(listed, changes) if changes["source"] else [_("A source is required.")]
    except ValueError:
        faults = [_("The checked date must be a date (YYYY-MM-DD).")]
    if faults:
        return render_template("console/directory/edit.html", entry=listed, errors=faults, values=changes,
                               note=number_note(str(changes["phone"] or ""), listed.contact.country)), 422
    curation.save(store(), entry_id, changes)
    audit.record(store(), g.user.agency, g.user.email, "directory.edit",
                 f"{listed.contact.country} {listed.contact.kind} {listed.contact.name or ''}".strip(),
                 f"number {listed.contact.phone or '-'} → {changes['phone'] or '-'}")
    flash(_("Saved. Callers get it within a minute."))
    return redirect(url_for("console.directory.index", country=listed.contact.country))


@bp.post("/<entry_id>/checked")
@permission_required("casework")
def mark_checked(entry_id: str) -> Response:
    listed = _entry(entry_id)
    curation.save(store(), entry_id, {"checked": dt.date.today().isoformat(), "checked_by": g.user.email})
    audit.record(store(), g.user.agency, g.user.email, "directory.checked",
                 f"{listed.contact.country} {listed.contact.kind} {listed.contact.name or ''}".strip())
    flash(_("Marked as checked today."))
    return redirect(url_for("console.directory.index", country=listed.contact.country))


@bp.post("/check-number")
@permission_required("casework")
def check_number() -> str:
    """How ``phonenumbers`` reads the number as it is typed (htmx)."""
    known, note = number_note(request.form.get("phone", ""), (request.form.get("country") or "").upper())
    return render_template("console/directory/_number.html", note=(known, note))
