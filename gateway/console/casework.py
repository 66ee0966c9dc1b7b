"""Casework for caseworkers: the reports and call-back requests of the agency's countries, their status
workflow and notes, and a caller's full number shown only on an explicit, audited action.

Every rule is :mod:`handlers.casework`'s, the same the agency API applies: :func:`~handlers.casework.list_for`
and :func:`~handlers.casework.get_for` take the agency's countries, so a case of another country is "not found"
(404) here exactly as in ``GET /api/v1/reports/<ref>``; :func:`~handlers.casework.update` judges each status
change against the workflow and keeps who made it in the case's history.

The agency's countries are those its API keys name (``gateway apikey create NAME --countries KE,UG``, or a key an
admin makes on the People page): one list per agency, whether a person or a program reads the cases.

Lists and the case page show a call-back's number masked. The full number (kept sealed only for
``CALLBACK_CONTACT_TTL``) appears after the caseworker presses "Show the full number": a POST (never a link a
browser could prefetch), audited, and answered with a page that is never cached.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from werkzeug.wrappers import Response

from handlers import casework
from identity.keyring import Keyring
from outbox.apikeys import list_keys

from . import audit, store
from .auth import permission_required

bp = Blueprint("casework", __name__, url_prefix="/casework")
#: URL segment → the kind of case in :mod:`handlers.casework`.
KINDS = {"reports": casework.REPORT, "callbacks": casework.CALLBACK}
SEGMENT = {kind: segment for segment, kind in KINDS.items()}
LIMIT = 100
CASE_STATUS_NAMES = {"open": lazy_gettext("Open"), "in_progress": lazy_gettext("In progress"),
                     "closed": lazy_gettext("Closed")}
#: Report categories (handlers.reports) and call-back topics (handlers.help); wording per TERMS.md.
SUBJECT_NAMES = {"abuse": lazy_gettext("Abuse"), "wages": lazy_gettext("Unpaid wages"),
                 "trafficking": lazy_gettext("Trafficking in persons"), "other": lazy_gettext("Other"),
                 "danger": lazy_gettext("In danger"), "work": lazy_gettext("Work"),
                 "documents": lazy_gettext("Documents"), "health": lazy_gettext("Health"),
                 "flag": lazy_gettext("Number flagged as fake")}


def agency_countries() -> list[str]:
    """The countries whose casework the person's agency handles: those its API keys name."""
    return sorted({c for key in list_keys(store(), g.user.agency) for c in key.countries})


def _kind(segment: str) -> str:
    kind = KINDS.get(segment)
    if kind is None:
        abort(404)
    return kind


def _retention() -> int:
    return int(current_app.extensions["gateway"].settings.report_retention_days) * 86400


def _keyring() -> Keyring:
    keyring: Keyring = current_app.extensions["gateway"].keyring
    return keyring


def _case(kind: str, ref: str) -> casework.Case:
    try:
        return casework.get_for(store(), kind, ref.upper(), agency_countries(),
                                keyring=_keyring())
    except casework.CaseNotFound:
        abort(404)


def summary() -> dict[str, dict[str, int]]:
    """Per kind of case (URL segment), how many of the newest :data:`LIMIT` are open and in progress: the
    dashboard's casework line."""
    countries = agency_countries()
    out: dict[str, dict[str, int]] = {}
    for segment, kind in KINDS.items():
        cases = casework.list_for(store(), kind, countries, keyring=_keyring(), limit=LIMIT,
                                  retention=_retention()) if countries else []
        out[segment] = {s: sum(1 for c in cases if c.status == s) for s in ("open", "in_progress")}
    return out


@bp.get("/")
@permission_required("casework")
def index() -> str:
    segment = request.args.get("kind", "reports")
    kind = KINDS.get(segment, casework.REPORT)
    status = request.args.get("status", "")
    before = request.args.get("before", type=float)
    countries = agency_countries()
    cases = casework.list_for(store(), kind, countries, keyring=_keyring(), limit=LIMIT, before=before,
                              retention=_retention()) if countries else []
    # The page's last case, as the index's score: the case keeps its time to the millisecond, the index exactly.
    older = round(cases[-1].created_at.timestamp() - 0.0005, 4) if len(cases) >= LIMIT else None
    counts = {s: sum(1 for c in cases if c.status == s) for s in casework.STATUSES}
    if status in casework.STATUSES:
        cases = [c for c in cases if c.status == status]
    return render_template("console/casework/index.html", cases=cases, kind=kind, segment=SEGMENT[kind],
                           status=status, counts=counts, countries=countries, limit=LIMIT, older=older,
                           before=before)


@bp.get("/find")
@permission_required("casework")
def find() -> Response:
    """A reference read out over the phone (``R-…`` a report, ``C-…`` a call-back) straight to its case."""
    ref = (request.args.get("ref") or "").strip().upper()[:20]
    kind = casework.CALLBACK if ref.startswith("C-") else casework.REPORT
    countries = agency_countries()
    try:
        casework.get_for(store(), kind, ref, countries, keyring=_keyring())
    except casework.CaseNotFound:
        flash(_("No case of your agency's countries has the reference %(ref)s.", ref=ref or "—"), "error")
        return redirect(url_for("console.casework.index", kind=SEGMENT[kind]))
    return redirect(url_for("console.casework.show", segment=SEGMENT[kind], ref=ref))


def _page(kind: str, case: casework.Case, *, revealed: str | None = None, errors: dict[str, str] | None = None,
          status: int = 200) -> tuple[str, int]:
    return render_template(
        "console/casework/show.html", case=case, kind=kind, segment=SEGMENT[kind],
        history=casework.history(store(), kind, case.ref, _keyring()),
        next_statuses=casework.TRANSITIONS[case.status], revealed=revealed, errors=errors or {},
        max_note=casework.MAX_NOTE), status


@bp.get("/<segment>/<ref>")
@permission_required("casework")
def show(segment: str, ref: str) -> tuple[str, int]:
    kind = _kind(segment)
    return _page(kind, _case(kind, ref))


@bp.post("/<segment>/<ref>")
@permission_required("casework")
def update(segment: str, ref: str) -> tuple[str, int] | Response:
    kind = _kind(segment)
    case = _case(kind, ref)
    status = request.form.get("status") or None
    if status == case.status:
        status = None
    note = (request.form.get("note") or "").strip() or None
    try:
        after = casework.update(store(), kind, case.ref, agency_countries(), by=g.user.email,
                                keyring=_keyring(), status=status, note=note)
    except casework.CaseNotFound:
        abort(404)
    except casework.TransitionRefused as exc:
        return _page(kind, case, errors={"status": str(exc)}, status=409)
    except ValueError as exc:
        field = "note" if note else "status"
        return _page(kind, case, errors={field: _("Choose a new status or write a note.") if not note and not status
                                         else str(exc)}, status=422)
    # The audit names the change, never the note (admins read the audit; the note stays with the case).
    if after.status != case.status:
        audit.record(store(), g.user.agency, g.user.email, "case.status", after.ref,
                     f"{case.status} → {after.status}" + (" + note" if note else ""))
        flash(_("%(ref)s is now %(status)s.", ref=after.ref, status=CASE_STATUS_NAMES[after.status]))
    else:
        audit.record(store(), g.user.agency, g.user.email, "case.note", after.ref)
        flash(_("Note added to %(ref)s.", ref=after.ref))
    return redirect(url_for("console.casework.show", segment=segment, ref=after.ref))


@bp.post("/<segment>/<ref>/reveal")
@permission_required("casework")
def reveal(segment: str, ref: str) -> tuple[str, int]:
    """The caller's full number, for a call-back: shown on this answer only, and audited."""
    kind = _kind(segment)
    case = _case(kind, ref)
    phone = case.fields.get("phone")
    if not phone:
        return _page(kind, case, errors={"reveal": _("The number is no longer kept for this case.")}, status=410)
    audit.record(store(), g.user.agency, g.user.email, "case.reveal", case.ref, case.fields.get("phone_masked", ""))
    return _page(kind, case, revealed=phone)


@bp.app_context_processor
def _names() -> dict[str, object]:
    return {"case_status_names": CASE_STATUS_NAMES, "case_subject_names": SUBJECT_NAMES}
