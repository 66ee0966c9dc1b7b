"""Broadcasts in the console: compose with live counts, review with the audience's size and cost, send, watch
and cancel.

Every rule is the outbox's: the form is turned into the same JSON body the API takes and validated by the same
model (:class:`outbox.schema.BroadcastBody`), the size and cost come from :func:`outbox.broadcasts.estimate`
(``POST /broadcasts/estimate``), the per-language count from the same arithmetic as that estimate, and sending
is :func:`outbox.broadcasts.create`. What the console adds is the second look a person needs before reaching
thousands of phones: a review page, and an explicit confirmation for ``emergency`` and for audiences of
``CONSOLE_CONFIRM_THRESHOLD`` or more.

Without JavaScript the form posts to the review page; with htmx the counts and the audience size update as the
person types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from menus.gsm import is_gsm7, to_gsm_lookalikes
from outbox import broadcasts, keys, signature, subscribers
from outbox.errors import BroadcastError, Conflict, NotFound
from outbox.estimate import fit_text, language_estimate
from outbox.ledger import TERMINAL
from outbox.schema import BroadcastBody, problems
from redis_reply import fields, texts

from . import audit, store
from .auth import permission_required

bp = Blueprint("broadcasts", __name__, url_prefix="/broadcasts")
PAGE = 20


def languages() -> tuple[str, ...]:
    """The languages a message can be written in: those the USSD service speaks (its catalogs)."""
    return tuple(current_app.extensions["gateway"].catalog.languages)


@dataclass
class Draft:
    """A broadcast as the form holds it, before validation."""

    texts: dict[str, str] = field(default_factory=dict)
    fallback: str = "en"
    priority: str = "normal"
    everyone: bool = False
    countries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    send_at: str = ""
    expires_at: str = ""
    lookalikes: bool = False

    @classmethod
    def from_form(cls, form: MultiDict[str, str]) -> Draft:
        texts_by_lang = {lang: form.get(f"text_{lang}", "") for lang in languages()}
        return cls(
            texts={lang: text for lang, text in texts_by_lang.items() if text.strip()},
            fallback=form.get("fallback", "en"), priority=form.get("priority", "normal"),
            everyone=form.get("audience_kind") == "all", countries=form.getlist("countries"),
            languages=form.getlist("languages"), topics=form.getlist("topics"),
            send_at=form.get("send_at", "").strip(), expires_at=form.get("expires_at", "").strip(),
            lookalikes=form.get("replace_lookalikes") == "1",
        )

    def body(self) -> dict[str, Any]:
        """The API's ``POST /broadcasts`` body: the fallback language's text first (CONTRACT §3)."""
        ordered = sorted(self.texts.items(), key=lambda kv: kv[0] != self.fallback)
        audience: dict[str, Any] = {"all": True} if self.everyone else {
            name: values for name, values in
            (("countries", self.countries), ("languages", self.languages), ("topics", self.topics)) if values}
        body: dict[str, Any] = {"message": dict(ordered), "audience": audience, "priority": self.priority,
                                "replace_lookalikes": self.lookalikes}
        for name, value in (("send_at", self.send_at), ("expires_at", self.expires_at)):
            if value:  # a datetime-local value: the form says it is UTC
                body[name] = value + (":00" if len(value) == 16 else "") + "+00:00"
        return body


def validate(draft: Draft) -> tuple[BroadcastBody | None, dict[str, str]]:
    """The draft through the API's model: the body, or the problems by field (the API's own wording)."""
    try:
        return BroadcastBody.model_validate(draft.body()), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for name, _code, message in problems(exc):
            errors.setdefault(form_field(name), message)
        if "audience" in errors and not (draft.everyone or draft.countries or draft.languages or draft.topics):
            errors["audience"] = _("Choose at least one country, language or topic, or every subscriber.")
        return None, errors


def form_field(api_field: str) -> str:
    """An API field name (``message.en``, ``audience.countries[0]``) as the form's (``text_en``, ``audience``)."""
    if api_field.startswith("message."):
        return "text_" + api_field.split(".", 1)[1]
    if api_field.startswith("audience"):
        return "audience"
    return api_field.split(".")[0] or "message"


def sms_count(text: str, lookalikes: bool, lang: str, priority: str = "normal") -> dict[str, Any]:
    """What one subscriber's phone receives: characters, encoding and segments (the estimate's arithmetic, the
    agency's footer included), and the characters that force UCS-2, with whether replacing look-alikes would keep
    the text GSM-7."""
    config = current_app.extensions["outbox"]
    sent = fit_text(text, lookalikes=lookalikes)
    tail = signature.footer(lang, agency=g.user.agency, ref=signature.PLACEHOLDER_REF, priority=priority,
                            stop_to=config.stop_to, catalog=config.catalog)
    count = language_estimate(sent + tail, 0)
    culprits = sorted({c for c in sent if not is_gsm7(c)})
    return {**count, "culprits": culprits, "fixable": bool(culprits) and not lookalikes
            and is_gsm7(to_gsm_lookalikes(text)), "text": sent, "footer": tail}


def audience_choices() -> dict[str, list[str]]:
    connection = store()
    return {"countries": sorted(texts(connection.smembers(keys.known_countries()))),
            "languages": sorted(texts(connection.smembers(keys.known_languages()))),
            "topics": list(subscribers.TOPICS)}


def needs_confirmation(draft: Draft, recipients: int) -> list[str]:
    """The confirmations this broadcast needs before it goes (``emergency``, ``large``)."""
    needed = []
    if draft.priority == "emergency":
        needed.append("emergency")
    if recipients >= current_app.extensions["gateway"].settings.console_confirm_threshold:
        needed.append("large")
    return needed


def _compose(draft: Draft, errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    counts = {lang: sms_count(text, draft.lookalikes, lang, draft.priority) for lang, text in draft.texts.items()}
    return render_template("console/broadcasts/compose.html", draft=draft, errors=errors or {}, counts=counts,
                           languages=languages(), choices=audience_choices()), status


def _review(draft: Draft, body: BroadcastBody, errors: dict[str, str] | None = None,
            status: int = 200) -> tuple[str, int]:
    quote = broadcasts.estimate(store(), g.user.agency, body.request(), current_app.extensions["outbox"])
    counts = {lang: sms_count(text, draft.lookalikes, lang, draft.priority) for lang, text in body.message.items()}
    threshold = current_app.extensions["gateway"].settings.console_confirm_threshold
    return render_template("console/broadcasts/review.html", draft=draft, quote=quote, counts=counts,
                           confirmations=needs_confirmation(draft, int(quote["recipients"])), threshold=threshold,
                           placeholder=signature.PLACEHOLDER_REF,
                           errors=errors or {}, languages=languages()), status


@bp.route("/new", methods=("GET", "POST"))
@permission_required("send")
def compose() -> tuple[str, int] | Response:
    if request.method == "GET":
        return _compose(Draft())
    draft = Draft.from_form(request.form)
    if request.form.get("action") == "edit":
        return _compose(draft)
    body, errors = validate(draft)
    if body is None:
        return _compose(draft, errors, 422)
    if request.form.get("action") != "send":
        return _review(draft, body)
    quote = broadcasts.estimate(store(), g.user.agency, body.request(), current_app.extensions["outbox"])
    needed = needs_confirmation(draft, int(quote["recipients"]))
    missing = [c for c in needed if request.form.get(f"confirm_{c}") != "1"]
    if missing:
        return _review(draft, body, {f"confirm_{c}": _("Tick this box to confirm.") for c in missing}, 422)
    try:
        view = broadcasts.create(store(), g.user.agency, body.request(), current_app.extensions["outbox"])
    except BroadcastError as exc:
        return _compose(draft, {form_field(exc.field or "audience"): str(exc)}, 422)
    audit.record(store(), g.user.agency, g.user.email, "broadcast.send", view["id"],
                 f"{view['priority']}, {view['recipients']} recipients")
    flash(_("Broadcast accepted: %(n)d recipients.", n=view["recipients"]))
    return redirect(url_for("console.broadcasts.show", broadcast_id=view["id"]))


@bp.post("/count")
@permission_required("send")
def count() -> str:
    """The live count of one language's text (htmx, as the person types)."""
    lang = request.form.get("lang", "")
    if lang not in languages():
        abort(404)
    text = request.form.get(f"text_{lang}", "")
    return render_template("console/broadcasts/_count.html", lang=lang,
                           count=sms_count(text, request.form.get("replace_lookalikes") == "1", lang,
                                           request.form.get("priority", "normal")) if text else None)


@bp.post("/audience")
@permission_required("send")
def audience() -> str:
    """The audience's size and the cost, before sending (htmx, as the person picks)."""
    draft = Draft.from_form(request.form)
    if not (draft.everyone or draft.countries or draft.languages or draft.topics):  # nothing picked yet
        return render_template("console/broadcasts/_audience.html", quote=None, error=None)
    if not draft.texts:
        draft.texts = {draft.fallback: "."}  # the size does not depend on the words
    body, errors = validate(draft)
    quote = (broadcasts.estimate(store(), g.user.agency, body.request(), current_app.extensions["outbox"])
             if body else None)
    return render_template("console/broadcasts/_audience.html", quote=quote, error=errors.get("audience"))


ORIGIN_FIELDS = ("source", "cap_sender", "cap_identifier", "cap_sent", "cap_msg_type")


def with_origin(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each broadcast with where it came from: ``source`` (``cap``, ``sms``, or the API and console) and, for a
    CAP alert, ``cap`` = its sender, identifier, sent time and message type (kept on the record by
    :mod:`outbox.cap`). One round trip for a page of broadcasts."""
    pipe = store().pipeline(transaction=False)
    for item in items:
        pipe.hmget(keys.broadcast(item["id"]), *ORIGIN_FIELDS)
    for item, raw in zip(items, pipe.execute(), strict=True):
        found = dict(zip(ORIGIN_FIELDS, (v.decode() if isinstance(v, bytes) else v for v in raw), strict=True))
        item["source"] = found["source"] or ""
        if found["cap_sender"] or item["source"] == "cap":
            item["cap"] = {"sender": found["cap_sender"] or "", "identifier": found["cap_identifier"] or "",
                           "sent": found["cap_sent"] or "", "msg_type": found["cap_msg_type"] or ""}
    return items


@bp.get("/")
@permission_required("read")
def index() -> str:
    page = max(1, request.args.get("page", 1, type=int) or 1)
    items, total = broadcasts.list_for(store(), g.user.agency, offset=(page - 1) * PAGE, limit=PAGE)
    with_origin(items)
    live = any(item["status"] not in TERMINAL for item in items)
    return render_template("console/broadcasts/index.html", broadcasts=items, total=total, page=page,
                           pages=max(1, -(-total // PAGE)), live=live)


def _view(broadcast_id: str) -> dict[str, Any]:
    try:
        return broadcasts.view(store(), broadcast_id, g.user.agency)
    except NotFound:
        abort(404)


def failure_reasons(broadcast_id: str) -> list[tuple[str, int]]:
    """Why recipients failed (the provider's reasons, counted; no numbers are kept with them)."""
    raw = fields(store().hgetall(keys.reasons(broadcast_id)))
    return sorted(((reason, int(n)) for reason, n in raw.items()), key=lambda kv: -kv[1])


def sent_texts(broadcast_id: str) -> dict[str, str]:
    """What the phones receive, per subscriber language: the message with the footer and the public reference
    (the record's ``text:<lang>``, written by :func:`outbox.broadcasts.create`)."""
    raw = fields(store().hgetall(keys.broadcast(broadcast_id)))
    return {name.split(":", 1)[1]: value for name, value in sorted(raw.items()) if name.startswith("text:")}


@bp.get("/<broadcast_id>")
@permission_required("read")
def show(broadcast_id: str) -> str:
    view = _view(broadcast_id)
    live = view["status"] not in TERMINAL
    if request.headers.get("HX-Request"):  # the polled status fragment
        return render_template("console/broadcasts/_status.html", b=view, reasons=failure_reasons(broadcast_id),
                               live=live)
    return render_template("console/broadcasts/show.html", b=with_origin([view])[0], live=live,
                           reasons=failure_reasons(broadcast_id), sent_texts=sent_texts(broadcast_id))


@bp.post("/<broadcast_id>/cancel")
@permission_required("send")
def cancel(broadcast_id: str) -> Response:
    before = _view(broadcast_id)
    try:
        after = broadcasts.cancel(store(), broadcast_id, g.user.agency)
    except NotFound:
        abort(404)
    except Conflict:
        flash(_("This broadcast is already %(status)s: there is nothing left to cancel.", status=before["status"]),
              "error")
        return redirect(url_for("console.broadcasts.show", broadcast_id=broadcast_id))
    counts = after["counts"]
    stopped = max(0, counts["recipients"] - counts["sent"] - counts["failed"])
    audit.record(store(), g.user.agency, g.user.email, "broadcast.cancel", broadcast_id,
                 f"status {after['status']}, {after['counts']['sent']} already sent")
    flash(_("Cancelled. %(sent)d messages had already gone to the network; about %(stopped)d will not be sent.",
            sent=after["counts"]["sent"], stopped=stopped))
    return redirect(url_for("console.broadcasts.show", broadcast_id=broadcast_id))
