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
* Either ``POST`` also takes CSV (``Content-Type: text/csv``, UTF-8): a header row naming exactly the fields
  (``licence,name,country,valid_until`` or ``phone,reason``), one row per entry, answered the same way (a row's
  ``index`` counts from 0 after the header).
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from flask import Response, current_app, jsonify, request
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


def _csv_rows(columns: tuple[str, ...]) -> list[dict[str, str]]:
    """A CSV body's rows: its header must name exactly ``columns`` (in any order); every row as many cells."""
    try:
        text = request.get_data(cache=True).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_csv", "The body is not UTF-8.") from None
    try:
        reader = csv.DictReader(io.StringIO(text), restkey="", restval="")
        header = [name.strip() for name in reader.fieldnames or []]
        reader.fieldnames = header
        unknown = [name for name in header if name not in columns]
        if unknown:
            raise ApiError(422, "unknown_field", "is not a column this call knows", field=unknown[0][:40])
        missing = [name for name in columns if name not in header]
        if missing:
            raise ApiError(422, "invalid", "is a column the header must name", field=missing[0])
        rows = []
        for number, row in enumerate(reader):
            if "" in row:
                raise ApiError(422, "invalid", f"row {number} has more cells than the header")
            rows.append({name: row[name] or "" for name in columns})
            if len(rows) > registers.MAX_IMPORT:
                raise ApiError(413, "too_many", f"a call takes at most {registers.MAX_IMPORT} rows")
    except csv.Error as exc:
        raise ApiError(400, "invalid_csv", f"The body is not CSV ({exc}).") from None
    return rows


def _is_csv() -> bool:
    return request.mimetype == "text/csv"


@bp.post("/registry/recruiters")
@require_scope("registry")
@idempotent
def import_recruiters() -> Response:
    rows = (_csv_rows(tuple(RecruiterRow.model_fields)) if _is_csv()
            else [row.model_dump() for row in validated(RecruiterImport).recruiters])
    return _imported(registers.import_recruiters(store(), current_agency(), rows))


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
    rows = (_csv_rows(tuple(FlaggedRow.model_fields)) if _is_csv()
            else [row.model_dump() for row in validated(FlaggedImport).numbers])
    key = current_key()
    return _imported(registers.import_flags(store(), _gateway().keyring, key.agency, key.countries, rows))


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
