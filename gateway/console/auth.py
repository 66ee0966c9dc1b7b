"""Logging in and out, and who the person behind a request is (the Flask tutorial's ``auth`` shape).

``load_logged_in_user`` runs before every console request and reads the account from Redis each time, so a
role changed or an account removed by an admin takes effect on the person's next click, not at their next login.
Views say what they need with ``@permission_required("send")``; the roles are in :mod:`.users`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from . import audit, store, users
from .i18n import LANGUAGES

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=users.MAX_PASSWORD)])


def load_logged_in_user() -> None:
    email = session.get("email")
    g.user = users.get(store(), email) if email else None
    if email and g.user is None:
        session.clear()


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            return redirect(url_for("console.auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def permission_required(permission: str) -> Callable[[F], F]:
    """Log in first; then 403 for a person whose role lacks ``permission``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return redirect(url_for("console.auth.login", next=request.full_path.rstrip("?")))
            if not g.user.can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never an open redirect to another site."""
    if target and target.startswith("/console/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.dashboard.index")


@bp.route("/login", methods=("GET", "POST"))
def login() -> str | Response:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        result = users.authenticate(store(), form.email.data or "", form.password.data or "")
        if result.user is not None:
            lang = session.get("lang")
            session.clear()
            session.regenerate()  # type: ignore[attr-defined]
            session["email"] = result.user.email
            if lang:
                session["lang"] = lang
            audit.record(store(), result.user.agency, result.user.email, "login")
            return redirect(_safe_next(request.args.get("next")))
        if result.locked_until is not None:
            minutes = max(1, round((result.locked_until - time.time()) / 60))
            error = _("Too many wrong passwords: this account is locked for %(minutes)d more minutes.",
                      minutes=minutes)
        else:
            error = _("Wrong email or password.")
    elif request.method == "POST":
        error = _("Enter your email and password.")
    status = 401 if error else 200
    return render_template("console/auth/login.html", form=form, error=error), status  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    session.regenerate()  # type: ignore[attr-defined]
    flash(_("You are logged out."))
    return redirect(url_for("console.auth.login"))


@bp.post("/language")
def language() -> Response:
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
