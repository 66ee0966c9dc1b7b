"""The USSD (and voice) screens of the check menu (``menus/data/check.yaml``).

Every check counts against the number's hourly limit before it looks anything up (:mod:`.limits`), the same
counter ``CHECK`` by SMS uses. A number typed in national format is read as a number of the country the caller is
in (where the calls they get come from), else of their own. Flagging a number takes three screens: the number
(kept sealed under the session, :func:`.keys.flag_draft`, never in the session's variables), how it reached the
caller and what it asked for; then the flag is filed for review (:mod:`.flags`).
"""

from __future__ import annotations

from identity.phones import mask
from menus.engine import Call, Reply
from redis_reply import optional_text

from .. import casework
from ..context import host_of, origin_of, services
from . import answers, flags, keys, limits


def _over_limit(call: Call) -> Reply | None:
    svc = services(call)
    if limits.take_check(svc.redis, call.caller.pseudonym) > svc.settings.check_per_number_per_hour:
        return Reply(text=call.t("check.answer.limit"), end=True)
    return None


def _answer(text: str) -> Reply:
    """An answer: a data screen (it may run onto a second page in Arabic), with ``0`` back to ask again."""
    return Reply(text=text)


def ref(call: Call) -> Reply:
    """``check.ref``: a broadcast's ref, typed as letters or keyed as digits (voice, or a keypad without letters)."""
    refused = _over_limit(call)
    if refused:
        return refused
    return _answer(answers.about_ref(services(call).redis, call.catalog, call.caller.lang, call.input or ""))


def licence(call: Call) -> Reply:
    """``check.licence``: a recruiter's licence number."""
    refused = _over_limit(call)
    if refused:
        return refused
    return _answer(answers.about_licence(services(call).redis, call.catalog, call.caller.lang, call.input or ""))


def _number(call: Call) -> str | None:
    return answers.as_number(call.input or "", host_of(call)) or answers.as_number(call.input or "", origin_of(call))


def number(call: Call) -> Reply:
    """``check.number``: whether a phone number was flagged, how often and why."""
    refused = _over_limit(call)
    if refused:
        return refused
    phone = _number(call)
    if phone is None:
        return _answer(call.t("check.number.invalid"))
    svc = services(call)
    return _answer(answers.about_number(svc.redis, svc.keyring, call.catalog, call.caller.lang, phone))


def flag_number(call: Call) -> Reply:
    """``check.flag_number``: the number to flag, kept sealed for the rest of this session."""
    phone = _number(call)
    if phone is None:
        return _answer(call.t("check.number.invalid"))
    svc = services(call)
    draft = keys.flag_draft(call.caller.session_id)
    pipe = svc.redis.pipeline(transaction=True)
    pipe.delete(draft)
    pipe.hset(draft, "phone", svc.keyring.seal(phone))
    pipe.expire(draft, casework.SESSION_TTL)
    pipe.execute()
    return Reply(goto="check.flag_contact")


def flag_contact(call: Call) -> Reply:
    """``check.flag_contact`` (``params: {contact}``): how the number reached the caller."""
    contact = call.params.get("contact", "")
    svc = services(call)
    draft = keys.flag_draft(call.caller.session_id)
    if not svc.redis.exists(draft):  # the session outlived its draft: ask for the number again
        return Reply(goto="check.flag")
    svc.redis.hset(draft, "contact", contact if contact in flags.CONTACTS else "call")
    return Reply(goto="check.flag_ask")


def flag_submit(call: Call) -> Reply:
    """``check.flag_submit`` (``params: {ask}``): file the flag for an agency's review and say so."""
    svc = services(call)
    draft = keys.flag_draft(call.caller.session_id)
    sealed, contact = (optional_text(v) for v in svc.redis.hmget(draft, ["phone", "contact"]))
    if not sealed:
        return Reply(goto="check.flag")
    phone = svc.keyring.unseal(sealed)
    if flags.already_flagged(svc.redis, svc.keyring, call.caller.pseudonym, phone):
        return Reply(text=call.t("check.flag.again"), end=True)
    if not limits.take_flag(svc.redis, call.caller.pseudonym, svc.settings.check_flags_per_day):
        return Reply(text=call.t("check.flag.limit"), end=True)
    ask = call.params.get("ask", "")
    base = {"language": call.caller.lang, "host_country": host_of(call) or "",
            "home_country": origin_of(call) or "", "phone_masked": mask(call.caller.phone)}
    case = flags.file(svc.redis, svc.keyring, session_id=call.caller.session_id, caller=call.caller.pseudonym,
                      phone=phone, contact=contact or "call", ask=ask if ask in flags.ASKS else "job", base=base,
                      ttl=svc.settings.report_retention_days * 86400)
    svc.redis.delete(draft)
    return Reply(text=call.t("check.flag.done", ref=case), end=True)
