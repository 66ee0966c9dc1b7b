"""The dashboard: who is subscribed, what is being sent right now, and how callers fare on USSD.

Broadcast progress is a fragment of its own (``dashboard/_progress.html``) that htmx polls every 2 s while any
listed broadcast is still moving; once all are finished the fragment comes back without its trigger, so the
polling stops by itself.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request
from flask_babel import get_locale

from outbox import broadcasts
from outbox.ledger import TERMINAL

from . import casework, stats, store
from .auth import permission_required

bp = Blueprint("dashboard", __name__)
RECENT = 8


def recent_broadcasts() -> tuple[list[dict[str, object]], bool]:
    """The agency's latest broadcasts, and whether any of them is still moving (so the page keeps polling)."""
    items, _ = broadcasts.list_for(store(), g.user.agency, limit=RECENT)
    return items, any(item["status"] not in TERMINAL for item in items)


@bp.get("/")
@permission_required("read")
def index() -> str:
    gateway = current_app.extensions["gateway"]
    items, live = recent_broadcasts()
    return render_template(
        "console/dashboard/index.html", broadcasts=items, live=live,
        breakdown=stats.subscriber_breakdown(store()),
        traffic=stats.ussd_traffic(store(), gateway.menus, gateway.catalog, str(get_locale())),
        voice=stats.voice_traffic(store(), gateway.menus, gateway.catalog, str(get_locale())),
        cases=casework.summary() if g.user.can("casework") else None,
    )


@bp.get("/progress")
@permission_required("read")
def progress() -> str:
    items, live = recent_broadcasts()
    template = "console/dashboard/_progress.html" if request.headers.get("HX-Request") else \
        "console/dashboard/progress.html"
    return render_template(template, broadcasts=items, live=live)
