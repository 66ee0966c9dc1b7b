"""The agency console (CONTRACT §4): server-rendered pages under ``/console/`` for the people of an agency.

It is another face of the gateway, beside the agency API, and calls the same service functions the API calls
(``outbox.broadcasts``, ``outbox.subscribers``, ``handlers.casework``, ...): no business rule lives in a view or
a template. One blueprint per area, nested under the ``console`` blueprint; templates under
``templates/console/<area>/``; fragments that htmx polls are templates of their own, included by the full page.

Security: sessions live in Redis behind an opaque cookie (:mod:`.sessions`); every unsafe request under
``/console`` must carry a CSRF token (Flask-WTF), checked in this blueprint's ``before_request`` rather than
app-wide, because the AT callbacks and the bearer-key API must never ask for one. Pages send a strict Content
Security Policy: scripts only from the console's own vendored files.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from redis import Redis
from werkzeug.wrappers import Response

from gateway.api import EXTENSION as API_EXTENSION
from gateway.api import store as api_store

from . import i18n
from .sessions import RedisSessionInterface

log = logging.getLogger(__name__)
csrf = CSRFProtect()
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static")

#: Content Security Policy of every console page: no inline script, nothing from elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


def store() -> Redis:
    """The console's Redis client: the API's, whose socket timeout suits counting a large audience."""
    return api_store()


@bp.before_request
def _before() -> Response | None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    load_logged_in_user()
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "console.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _csrf_refused(exc: CSRFError) -> tuple[str, int]:
    return render_template("console/error.html", status=400, message=exc.description), 400


@bp.errorhandler(403)
@bp.errorhandler(404)
def _error_page(exc: Exception) -> tuple[str, int]:
    """A console view's 403 or 404 as a page (unknown URLs keep the app's own answer)."""
    status = getattr(exc, "code", 500) or 500
    return render_template("console/error.html", status=status, message=None), status


def init_app(app: Flask) -> None:
    """Configure sessions, CSRF and languages, and register the console (after the API: it uses its client)."""
    settings = app.config["SETTINGS"]
    app.config.update(
        # Signs CSRF tokens; derived from GATEWAY_SECRET (never stored), the same in every process.
        SECRET_KEY=app.extensions["gateway"].keyring.key("console csrf"),
        SESSION_COOKIE_NAME="gw_console",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not settings.dev,
        # Checked in this blueprint only (see module doc); a compose page may stay open for a shift.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    csrf.init_app(app)
    i18n.init_app(app)
    app.session_interface = RedisSessionInterface(app.extensions[API_EXTENSION])
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_blueprint(bp)


from . import auth, broadcasts, casework, dashboard, directory, people, phone, subscribers, ui  # noqa: E402,F401  (areas register on bp)
from .auth import load_logged_in_user  # noqa: E402

for _area in (auth, dashboard, broadcasts, subscribers, casework, directory, phone, people):
    bp.register_blueprint(_area.bp)
