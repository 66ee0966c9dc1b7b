"""Subscribers in the console: counts, a CSV import with a per-row rejection report, and finding one number to
remove it.

The import goes through the API's path: each CSV row becomes the API's row (validated by
:class:`outbox.schema.SubscriberRow`) and :func:`outbox.subscribers.import_many` decides, row by row, what it
accepts, in chunks of the API's own limit. The rejection report names the CSV line, the value given and the
reason; it is kept one hour for download, encrypted with the keyring (it holds numbers as typed), and only the
agency that uploaded it can fetch it. Numbers are masked on every page.
"""

from __future__ import annotations

import csv
import io
import json
import secrets

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.wrappers import Response

from identity.phones import InvalidNumber, mask, normalise
from outbox import subscribers
from outbox.schema import MAX_IMPORT, SubscriberRow

from . import audit, stats, store
from .auth import permission_required

bp = Blueprint("subscribers", __name__, url_prefix="/subscribers")
REPORT_TTL_S = 3600
COLUMNS = ("phone", "country", "language", "topics")


def _report_key(agency: str, report_id: str) -> str:
    return f"console:import:{{{agency}}}:{report_id}"


def parse_csv(data: bytes) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """CSV rows as API rows (``topics`` split on ``;``, ``|`` or spaces), and rows refused before the import
    (a line that is not a row at all). Each row remembers its CSV line number."""
    text = data.decode("utf-8-sig", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "phone" not in header:
        raise ValueError(_("The first line must name the columns: phone, country, language, topics."))
    reader.fieldnames = header
    rows, refused = [], []
    for row in reader:
        line = reader.line_num
        values = {k: (v or "").strip() for k, v in row.items() if k in COLUMNS and isinstance(v, str)}
        api_row: dict[str, object] = {k: v for k, v in values.items() if v and k != "topics"}
        if values.get("topics"):
            api_row["topics"] = [t for t in values["topics"].replace("|", " ").replace(";", " ").split() if t]
        try:
            SubscriberRow.model_validate(api_row)
        except ValidationError as exc:
            refused.append({"line": line, "phone": values.get("phone", ""), "reason": str(exc.errors()[0]["msg"])})
            continue
        rows.append({"line": line, "row": api_row})
    return rows, refused


@bp.get("/")
@permission_required("read")
def index() -> str:
    return render_template("console/subscribers/index.html", breakdown=stats.subscriber_breakdown(store()),
                           found=None, query="")


@bp.post("/import")
@permission_required("send")
def upload() -> str | Response:
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a CSV file to import."), "error")
        return redirect(url_for("console.subscribers.index"))
    try:
        rows, rejected = parse_csv(file.read())
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("console.subscribers.index"))
    imported = 0
    keyring = current_app.extensions["gateway"].keyring
    for start in range(0, len(rows), MAX_IMPORT):
        chunk = rows[start:start + MAX_IMPORT]
        result = subscribers.import_many(store(), keyring, [r["row"] for r in chunk], source="console")
        imported += result.imported
        for refusal in result.rejected:
            row = chunk[int(refusal["index"])]
            api_row = row["row"]
            phone = api_row.get("phone", "") if isinstance(api_row, dict) else ""
            rejected.append({"line": row["line"], "phone": phone, "reason": refusal["reason"]})
    rejected.sort(key=lambda r: int(str(r["line"])))
    report_id = secrets.token_urlsafe(12)
    store().set(_report_key(g.user.agency, report_id), keyring.encrypt(json.dumps(rejected), context="import"),
                ex=REPORT_TTL_S)
    stats.forget_breakdown(store())
    audit.record(store(), g.user.agency, g.user.email, "subscribers.import", file.filename[:100],
                 f"{imported} imported, {len(rejected)} rejected")
    shown = [{**r, "phone": mask(str(r["phone"])) if r["phone"] else ""} for r in rejected[:200]]
    return render_template("console/subscribers/imported.html", imported=imported, rejected=shown,
                           total_rejected=len(rejected), report_id=report_id, filename=file.filename)


@bp.get("/import/<report_id>.csv")
@permission_required("send")
def report(report_id: str) -> Response:
    raw = store().get(_report_key(g.user.agency, report_id))
    if raw is None:
        abort(404)
    keyring = current_app.extensions["gateway"].keyring
    rejected = json.loads(keyring.decrypt(raw.decode() if isinstance(raw, bytes) else raw, context="import"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "phone", "reason"])
    for r in rejected:
        writer.writerow([r["line"], r["phone"], r["reason"]])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="rejected-{report_id}.csv"'})


@bp.get("/find")
@permission_required("read")
def find() -> str:
    query = (request.args.get("phone") or "").strip()
    found, error = None, None
    try:
        phone = normalise(query)
        found = subscribers.get(store(), current_app.extensions["gateway"].keyring, phone)
        if found is None:
            error = _("No subscriber has this number.")
    except InvalidNumber as exc:
        error = str(exc)
    return render_template("console/subscribers/index.html", breakdown=stats.subscriber_breakdown(store()),
                           found=found, masked=mask(found.phone) if found else "", query=query, error=error)


@bp.post("/remove")
@permission_required("send")
def remove() -> Response:
    try:
        phone = normalise(request.form.get("phone", ""))
    except InvalidNumber:
        abort(404)
    if subscribers.get(store(), current_app.extensions["gateway"].keyring, phone) is None:
        abort(404)
    subscribers.unsubscribe(store(), current_app.extensions["gateway"].keyring, phone)
    stats.forget_breakdown(store())
    audit.record(store(), g.user.agency, g.user.email, "subscriber.remove", mask(phone))
    flash(_("%(phone)s no longer receives alerts.", phone=mask(phone)))
    return redirect(url_for("console.subscribers.index"))
