"""The web phone: a handset on screen that dials this gateway's own USSD service.

The browser never speaks the AT protocol: it sends one input at a time to these views, which keep the call (the
session id, the SIM's number and network, the inputs so far) in the person's console session and hand the
gateway exactly what Africa's Talking would post to ``/ussd``: ``sessionId, serviceCode, phoneNumber,
networkCode`` and the ``*``-joined ``text``. The request goes to the same :class:`gateway.ussd.UssdService` that
answers ``POST /ussd``, inside this process, so the callback token never reaches the browser.

The SIM's number is ``phonenumbers``' example mobile number of the chosen country: a number of the right shape
that belongs to no one, so trying the service here never queues an SMS to a real person.
"""

from __future__ import annotations

import secrets
import textwrap
from dataclasses import dataclass
from functools import cache

import mobile_codes
import phonenumbers
from flask import Blueprint, current_app, render_template, request, session
from flask_babel import gettext as _

from handlers.directory import load_directory

from .auth import permission_required
from .ui import country_name

bp = Blueprint("phone", __name__, url_prefix="/phone")
SERVICE_CODE = "*384*55#"
#: Characters per line of the handset's display (a common feature phone).
DISPLAY_WIDTH = 20
MAX_INPUT = 40
#: A call whose inputs have grown this long is ended, as an operator would.
MAX_TEXT = 300


@dataclass(frozen=True)
class Network:
    code: str  # MCC + MNC, AT's networkCode
    country: str
    name: str


@cache
def countries() -> tuple[str, ...]:
    """Countries a SIM can come from or be in: those of the help directory, which the services know."""
    directory = load_directory()
    origins = {origin for origin, _host in directory.missions} | set(directory.home_lines)
    return tuple(sorted(set(directory.hosts) | origins))


@cache
def networks(country: str) -> tuple[Network, ...]:
    try:
        mcc = mobile_codes.alpha2(country).mcc
    except KeyError:
        return ()
    codes = [mcc] if isinstance(mcc, str) else list(mcc or [])
    found = [Network(op.mcc + op.mnc, country, op.brand or op.operator or op.mnc)
             for code in codes for op in mobile_codes.operators(code)]
    return tuple(sorted({n.code: n for n in found}.values(), key=lambda n: n.code))


def sim_number(country: str) -> str | None:
    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164) if example else None


def display(screen: str) -> list[str]:
    """The screen as the handset shows it: lines wrapped at :data:`DISPLAY_WIDTH` characters."""
    lines: list[str] = []
    for line in screen.split("\n"):
        lines.extend(textwrap.wrap(line, DISPLAY_WIDTH, break_long_words=True, replace_whitespace=False) or [""])
    return lines


def _call(inputs: list[str]) -> tuple[str, bool]:
    call = session["phone_call"]
    form = {"sessionId": call["session_id"], "serviceCode": SERVICE_CODE, "phoneNumber": call["phone"],
            "networkCode": call["network"], "text": "*".join(inputs)}
    body = current_app.extensions["gateway"].ussd.answer(form)
    ended = not body.startswith("CON ")
    return body[4:], ended


def _page(**context: object) -> str:
    template = "console/phone/_handset.html" if request.headers.get("HX-Request") else "console/phone/index.html"
    call = session.get("phone_call")
    sim = request.values.get("sim") or (call or {}).get("sim") or "KE"
    where = request.values.get("where") or (call or {}).get("where") or sim
    country_list = [(c, country_name(c)) for c in countries()]
    return render_template(template, call=call, countries=country_list, sim=sim, where=where,
                           networks=networks(where), display=display, **context)


@bp.get("/")
@permission_required("read")
def index() -> str:
    return _page(screen=None)


@bp.post("/dial")
@permission_required("read")
def dial() -> str:
    sim, where = request.form.get("sim", ""), request.form.get("where", "")
    network = request.form.get("network", "")
    phone = sim_number(sim) if sim in countries() else None
    if phone is None or where not in countries() or network not in {n.code for n in networks(where)}:
        return _page(screen=None, error=_("Choose the SIM's country, where the phone is, and a network there."))
    session["phone_call"] = {"session_id": "console-" + secrets.token_hex(12), "phone": phone, "network": network,
                             "sim": sim, "where": where, "inputs": [], "ended": False}
    screen, ended = _call([])
    session["phone_call"] = {**session["phone_call"], "ended": ended, "screen": screen}
    return _page(screen=screen)


@bp.post("/send")
@permission_required("read")
def send() -> str:
    call = session.get("phone_call")
    value = (request.form.get("input") or "").strip()[:MAX_INPUT]
    if not call or call.get("ended"):
        return _page(screen=None, error=_("The call has ended. Dial again."))
    inputs = [*call["inputs"], value]
    if len("*".join(inputs)) > MAX_TEXT:
        session["phone_call"] = {**call, "ended": True}
        return _page(screen=_("The network ended this call."))
    screen, ended = _call(inputs)
    session["phone_call"] = {**call, "inputs": inputs, "ended": ended, "screen": screen}
    return _page(screen=screen)


@bp.post("/hangup")
@permission_required("read")
def hangup() -> str:
    session.pop("phone_call", None)
    return _page(screen=None)
