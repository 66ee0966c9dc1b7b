"""Reporting abuse, unpaid wages or trafficking: category, optional free text, a reference, an SMS only if asked.

Discretion rules this module keeps:

* the free text reaches :func:`write` as ``call.input`` and goes straight into the case store, encrypted
  (:mod:`handlers.casework`); it never enters the session (``call.vars``), a screen, an effect or a log;
* the category is not kept in ``call.vars`` either: vars follow the caller into whatever menu comes next and
  from there into its resume point, which anyone redialling on that phone is offered. It is kept under the
  session id for the session's lifetime (``casework.SESSION_TTL``) instead;
* a report is anonymous by default: it keeps the number masked, and a confirmation SMS is sent only when the
  caller picks it on a screen that says why we ask (an SMS stays in an inbox others may read); the SMS names the
  reference only;
* reports expire after ``REPORT_RETENTION_DAYS`` and are read only through the agency API's ``reports`` scope.
"""

from __future__ import annotations

from identity.phones import mask
from menus.engine import Call, Effect, Reply
from outbox.sms import claim
from redis_reply import optional_text

from . import casework
from .context import host_of, origin_of, services
from .keys import report_category_key

CATEGORIES = ("abuse", "wages", "trafficking", "other")


def _save(call: Call, **fields: str) -> str:
    svc = services(call)
    category = optional_text(svc.redis.get(report_category_key(call.caller.session_id))) or "other"
    base = {"category": category if category in CATEGORIES else "other", "language": call.caller.lang,
            "host_country": host_of(call) or "", "home_country": origin_of(call) or "",
            "phone_masked": mask(call.caller.phone)}
    return casework.upsert(svc.redis, casework.REPORT, call.caller.session_id, {**base, **fields},
                           ttl=svc.settings.report_retention_days * 86400, keyring=svc.keyring)


def category(call: Call) -> Reply:
    """``report.category`` (``params: {category}``): remember the category (a fixed word, not free text) for
    this session only, outside the session vars (see the module's discretion rules)."""
    chosen = call.params.get("category", "other")
    services(call).redis.set(report_category_key(call.caller.session_id), chosen if chosen in CATEGORIES else "other",
                             ex=casework.SESSION_TTL)
    return Reply(goto="report.details")


def write(call: Call) -> Reply:
    """``report.write``: the free text goes into the report and nowhere else. On a voice call the caller records
    a message instead: the case keeps the recording's URL (at AT) for the agency's caseworkers, not the audio."""
    if call.caller.recording_url:
        _save(call, recording_url=call.caller.recording_url[:1024])
    else:
        _save(call, text=(call.input or "").strip()[: casework.MAX_TEXT])
    return Reply(goto="report.sms")


def submit(call: Call) -> Reply:
    """``report.submit`` (``params: {sms: yes|no}``): file the report and show its reference."""
    wants_sms = call.params.get("sms") == "yes"
    svc = services(call)
    # Within the caps every single SMS shares (outbox.sms): a script filing reports cannot pump SMS.
    capped = wants_sms and not claim(svc.redis, svc.outbox, call.caller.phone)
    # The category key is left to expire with the session: a re-run of this step must not turn it into "other".
    ref = _save(call, sms_confirmation="capped" if capped else "yes" if wants_sms else "no")
    if capped:
        return Reply(text=call.t("report.done.capped", ref=ref), end=True)  # one END page, however tight
    effects = []
    if wants_sms:
        effects.append(Effect("sms", {"text": call.t("report.sms.text", ref=ref), "priority": "normal",
                                      "claimed": True, "dedupe": f"report-{call.caller.session_id}"}))
    return Reply(text=call.t("report.done", ref=ref), end=True, effects=effects)
