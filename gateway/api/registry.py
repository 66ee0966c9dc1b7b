"""``/api/v1/registry``: the registers agencies keep for the genuine-or-fake checks (CONTRACT §6), scope
``registry``. The rules live in :mod:`handlers.genuine.registers`.

* ``POST /registry/recruiters`` ``{"recruiters": [{"licence", "name", "country", "valid_until"}]}`` and
  ``POST /registry/flagged-numbers`` ``{"numbers": [{"phone", "reason"}]}`` → 200 ``{"imported": n,
  "rejected": [{"index", "reason"}]}``. A body of the wrong shape (unknown field, wrong type) is a 422 for the
  whole call; a row whose values cannot be used is rejected alone. Up to 10,000 rows a call.
* ``GET`` / ``DELETE /registry/recruiters/<licence>`` and ``/registry/flagged-numbers/<phone>``: the calling
  agency's entry, with who added it and when, or 404 (none of this agency's). A phone in any format the
  ``phonenumbers`` library reads (national with the key's one country); licences compare in capitals, letters
  and digits only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, current_app, jsonify
from pydantic import Field

from handlers.genuine import registers
from identity.phones import InvalidNumber
from outbox.schema import Strict

from . import bp, store
from .auth import current_agency, current_key, require_scope
from .errors import ApiError
from .idempotency import idempotent
from .validation import validated

if TYPE_CHECKING:
    from gateway.app import Gateway


class RecruiterRow(Strict):
    licence: str
    name: str
    country: str
    valid_until: str


class RecruiterImport(Strict):
    recruiters: list[RecruiterRow] = Field(max_length=registers.MAX_IMPORT)


class FlaggedRow(Strict):
    phone: str
    reason: str


class FlaggedImport(Strict):
    numbers: list[FlaggedRow] = Field(max_length=registers.MAX_IMPORT)


def _gateway() -> Gateway:
    gateway: Gateway = current_app.extensions["gateway"]
    return gateway


def _imported(result: registers.ImportResult) -> Response:
    return jsonify(imported=result.imported, rejected=result.rejected)


@bp.post("/registry/recruiters")
@require_scope("registry")
@idempotent
def import_recruiters() -> Response:
    body = validated(RecruiterImport)
    return _imported(registers.import_recruiters(store(), current_agency(),
                                                 [row.model_dump() for row in body.recruiters]))


@bp.get("/registry/recruiters/<licence>")
@require_scope("registry")
def get_recruiter(licence: str) -> Response:
    found = registers.find_recruiter(store(), licence)
    if found is None or found.added_by != current_agency():
        raise ApiError(404, "not_found", "This agency has no recruiter with that licence on the register.")
    return jsonify(found.to_json())


@bp.delete("/registry/recruiters/<licence>")
@require_scope("registry")
def delete_recruiter(licence: str) -> Response:
    if not registers.delete_recruiter(store(), current_agency(), licence):
        raise ApiError(404, "not_found", "This agency has no recruiter with that licence on the register.")
    return jsonify(deleted=licence)


@bp.post("/registry/flagged-numbers")
@require_scope("registry")
@idempotent
def import_flagged() -> Response:
    body = validated(FlaggedImport)
    key = current_key()
    return _imported(registers.import_flags(store(), _gateway().keyring, key.agency, key.countries,
                                            [row.model_dump() for row in body.numbers]))


def _phone(raw: str) -> str:
    try:
        return registers.phone_of(raw, current_key().countries)
    except InvalidNumber as exc:
        raise ApiError(422, "invalid", str(exc), field="phone") from None


@bp.get("/registry/flagged-numbers/<phone>")
@require_scope("registry")
def get_flagged(phone: str) -> Response:
    number = _phone(phone)
    flag = registers.agency_flag(store(), _gateway().keyring, current_agency(), number)
    if flag is None:
        raise ApiError(404, "not_found", "This agency has not flagged that number.")
    return jsonify(phone=number, **registers.flag_json(flag))


@bp.delete("/registry/flagged-numbers/<phone>")
@require_scope("registry")
def delete_flagged(phone: str) -> Response:
    number = _phone(phone)
    if not registers.delete_flag(store(), _gateway().keyring, current_agency(), number):
        raise ApiError(404, "not_found", "This agency has not flagged that number.")
    return jsonify(deleted=number)
