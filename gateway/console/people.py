"""People, API keys and the audit trail of one agency, for its admins.

An admin adds a person (email, role, a first password of at least 12 characters that they hand over), changes a
role, or removes someone; removing or re-roling takes effect on that person's next click (their sessions end on
removal). An admin also creates the agency's API keys (shown once; only a hash is kept) and reads the audit
trail. Nothing here can reach another agency's people or keys: every lookup is checked against the admin's
agency.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from outbox.apikeys import SCOPES, ApiKey, create_key, list_keys, revoke

from . import audit, store, users
from .auth import permission_required
from .sessions import revoke_all
from .ui import ACTION_NAMES

bp = Blueprint("people", __name__, url_prefix="/people")


def _page(status: int = 200, **context: object) -> tuple[str, int]:
    context.setdefault("errors", {})
    context.setdefault("new_key", None)
    return render_template("console/people/index.html", people=users.list_for(store(), g.user.agency),
                           roles=users.ROLES, scopes=SCOPES, keys=_keys(),
                           entries=audit.recent(store(), g.user.agency, limit=10), **context), status


def _keys() -> list[ApiKey]:
    """The agency's keys (never the keys themselves, which are not kept)."""
    return list_keys(store(), g.user.agency)


def _member(email: str) -> users.User:
    person = users.get(store(), email)
    if person is None or person.agency != g.user.agency:
        abort(404)
    return person


@bp.get("/")
@permission_required("manage")
def index() -> tuple[str, int]:
    return _page()


@bp.get("/audit")
@permission_required("manage")
def audit_trail() -> str:
    """The agency's audit trail, newest first, narrowed to one kind of action or one person if asked."""
    action = request.args.get("action", "")
    actor = request.args.get("actor", "").strip().lower()
    entries = audit.recent(store(), g.user.agency, limit=500, action=action if action in ACTION_NAMES else None)
    if actor:
        entries = [e for e in entries if e.actor == actor]
    return render_template("console/people/audit.html", entries=entries, action=action, actor=actor,
                           people=users.list_for(store(), g.user.agency))


@bp.post("/add")
@permission_required("manage")
def add() -> tuple[str, int] | Response:
    email, role = request.form.get("email", ""), request.form.get("role", "viewer")
    try:
        person = users.create(store(), email, agency=g.user.agency, role=role,
                              password=request.form.get("password", ""))
    except users.UserError as exc:
        field, _sep, message = str(exc).partition(": ")
        return _page(422, errors={field: message}, form=request.form)
    audit.record(store(), g.user.agency, g.user.email, "person.add", person.email, person.role)
    flash(_("%(email)s can now log in as %(role)s.", email=person.email, role=person.role))
    return redirect(url_for("console.people.index"))


@bp.post("/<path:email>/role")
@permission_required("manage")
def change_role(email: str) -> Response:
    person = _member(email)
    role = request.form.get("role", "")
    if person.email == g.user.email and role != "admin":
        flash(_("You cannot take away your own admin role; ask another admin."), "error")
        return redirect(url_for("console.people.index"))
    try:
        users.set_role(store(), person, role)
    except users.UserError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.people.index"))
    audit.record(store(), g.user.agency, g.user.email, "person.role", person.email, f"{person.role} → {role}")
    flash(_("%(email)s is now %(role)s.", email=person.email, role=role))
    return redirect(url_for("console.people.index"))


@bp.post("/<path:email>/remove")
@permission_required("manage")
def remove(email: str) -> Response:
    person = _member(email)
    if person.email == g.user.email:
        flash(_("You cannot remove yourself; ask another admin."), "error")
        return redirect(url_for("console.people.index"))
    users.remove(store(), person)
    revoke_all(store(), person.email)
    audit.record(store(), g.user.agency, g.user.email, "person.remove", person.email)
    flash(_("%(email)s can no longer log in.", email=person.email))
    return redirect(url_for("console.people.index"))


@bp.post("/keys")
@permission_required("manage")
def new_key() -> tuple[str, int]:
    chosen = [s for s in request.form.getlist("scopes") if s in SCOPES]
    if not chosen:
        return _page(422, errors={"scopes": _("Choose at least one scope.")})
    countries = [c.strip() for c in request.form.get("countries", "").replace(" ", ",").split(",") if c.strip()]
    try:
        key, record = create_key(store(), g.user.agency, chosen, countries)
    except ValueError as exc:  # an unknown country code: the outbox's message names it
        return _page(422, errors={"countries": str(exc)}, form=request.form)
    casework_of = f"; casework of {', '.join(record.countries)}" if record.countries else ""
    audit.record(store(), g.user.agency, g.user.email, "apikey.create", record.id,
                 ", ".join(record.scopes) + casework_of)
    current_app.logger.info("API key created in the console for an agency")
    return _page(new_key=key)


@bp.post("/keys/<key_id>/revoke")
@permission_required("manage")
def revoke_key(key_id: str) -> Response:
    """Revoke one of the agency's keys at once (another agency's key id is 404, as if it did not exist)."""
    if not revoke(store(), key_id[:40], g.user.agency):
        abort(404)
    audit.record(store(), g.user.agency, g.user.email, "apikey.revoke", key_id[:40])
    flash(_("Key %(id)s is revoked: its next request is refused.", id=key_id[:40]))
    return redirect(url_for("console.people.index"))
