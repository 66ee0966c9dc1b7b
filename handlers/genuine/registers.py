"""The registers agencies keep (CONTRACT §6): licensed recruitment agencies and flagged phone numbers.

Every entry keeps which agency added it and when; only that agency may delete it. Rows are checked one by one:
a bad row is rejected with its index and the reason, the rest are kept (as subscriber imports do).

* **Recruiters**, by licence number as :func:`licence_id` spells it (capitals, letters and digits only, so
  ``poea-123/2019`` and ``POEA 123 2019`` are one licence): licence as given, name, country, valid until. A
  licence another agency holds is refused for that row, never overwritten.
* **Flagged numbers**, by the number's keyed pseudonym (:meth:`identity.keyring.Keyring.pseudonym`), compared in
  E.164 whatever format was typed (national formats are read with the agency's country when its key names one):
  a hash of agency → reason and time. No number is stored, in clear or sealed: the register only has to answer
  "is this number flagged?", which the pseudonym answers.
* **Callers' flags** (:mod:`.flags`) count beside the agencies' only once an agency has upheld them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from redis import Redis

from identity.codes import country_code
from identity.keyring import Keyring
from identity.phones import InvalidNumber, normalise
from redis_reply import optional_text, text

from . import keys

MAX_LICENCE = 64
MAX_NAME = 120
MAX_REASON = 160
MAX_IMPORT = 10_000
#: A register entry outlives nothing it names: kept until deleted (or replaced), as a licence register is.
_EARLIEST, _LATEST = 1990, 2100


@dataclass(frozen=True)
class Recruiter:
    licence: str
    name: str
    country: str
    valid_until: date
    added_by: str
    added_at: float

    def expired(self, today: date | None = None) -> bool:
        return self.valid_until < (today or datetime.now(UTC).date())

    def to_json(self) -> dict[str, object]:
        return {"licence": self.licence, "name": self.name, "country": self.country,
                "valid_until": self.valid_until.isoformat(), "added_by": self.added_by,
                "added_at": datetime.fromtimestamp(self.added_at, UTC).isoformat()}


@dataclass(frozen=True)
class Flag:
    """One agency's flag of a number: why, and when (who is never shown to a caller)."""

    reason: str
    added_by: str
    added_at: float


@dataclass(frozen=True)
class ImportResult:
    imported: int
    rejected: list[dict[str, Any]]


def licence_id(raw: str) -> str:
    """A licence number as the register compares it: capitals, letters and digits only."""
    return "".join(c for c in raw.upper() if c.isalnum())


def _valid_until(raw: str) -> date:
    """An ISO date (``2027-06-30``); an ISO timestamp is taken as its date."""
    try:
        parsed = date.fromisoformat(raw.strip())
    except ValueError:
        try:
            parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00")).date()
        except ValueError:
            raise ValueError(f"valid_until {raw[:30]!r} is not an ISO date such as 2027-06-30") from None
    if not _EARLIEST <= parsed.year <= _LATEST:
        raise ValueError(f"valid_until must lie between the years {_EARLIEST} and {_LATEST}")
    return parsed


def _clean(value: str, field: str, longest: int) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError(f"{field} must not be empty")
    if len(value) > longest:
        raise ValueError(f"{field} is longer than {longest} characters")
    return value


# -- recruiters ---------------------------------------------------------------------------------------------------

def import_recruiters(connection: Redis, agency: str, rows: Sequence[Mapping[str, str]]) -> ImportResult:
    """Add or update ``agency``'s recruiters (rows ``{licence, name, country, valid_until}``)."""
    rejected: list[dict[str, Any]] = []
    imported = 0
    now = time.time()
    put = connection.register_script(_PUT_IF_MINE)
    for index, row in enumerate(rows):
        try:
            licence = _clean(row["licence"], "licence", MAX_LICENCE)
            ident = licence_id(licence)
            if not ident:
                raise ValueError("licence has no letters or digits")
            name = _clean(row["name"], "name", MAX_NAME)
            country = country_code(row["country"].strip(), alpha3=False)
            if country is None:
                raise ValueError(f"country {row['country'][:10]!r} is not an ISO 3166-1 alpha-2 code such as 'KE'")
            until = _valid_until(row["valid_until"])
        except ValueError as exc:
            rejected.append({"index": index, "reason": str(exc)})
            continue
        record = {"licence": licence, "name": name, "country": country, "valid_until": until.isoformat(),
                  "added_by": agency, "added_at": repr(now)}
        # Written only if the licence is new or already this agency's (one round trip, no race).
        if not put(keys=[keys.recruiter(ident)], args=[agency, json.dumps(record)]):
            rejected.append({"index": index, "reason": "this licence is on the register already, kept by another "
                                                       "agency"})
            continue
        imported += 1
    return ImportResult(imported, rejected)


# KEYS: the record. ARGV: agency, the record as JSON. Writes unless another agency holds the key.
_PUT_IF_MINE = """
local holder = redis.call('HGET', KEYS[1], 'added_by')
if holder and holder ~= ARGV[1] then return 0 end
local record = cjson.decode(ARGV[2])
redis.call('DEL', KEYS[1])
for k, v in pairs(record) do redis.call('HSET', KEYS[1], k, v) end
return 1
"""


def find_recruiter(connection: Redis, typed: str) -> Recruiter | None:
    ident = licence_id(typed)
    if not ident or len(ident) > MAX_LICENCE:
        return None
    raw = connection.hgetall(keys.recruiter(ident))
    if not raw:
        return None
    f = {text(k): text(v) for k, v in raw.items()}
    return Recruiter(licence=f["licence"], name=f["name"], country=f["country"],
                     valid_until=date.fromisoformat(f["valid_until"]), added_by=f["added_by"],
                     added_at=float(f["added_at"]))


def delete_recruiter(connection: Redis, agency: str, typed: str) -> bool:
    """Remove ``agency``'s entry for the licence; False when there is none of this agency's."""
    ident = licence_id(typed)
    if not ident or len(ident) > MAX_LICENCE:
        return False
    return bool(connection.register_script(_DELETE_IF_MINE)(keys=[keys.recruiter(ident)], args=[agency]))


_DELETE_IF_MINE = """
if redis.call('HGET', KEYS[1], 'added_by') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""


# -- flagged numbers ----------------------------------------------------------------------------------------------

def phone_of(raw: str, countries: Iterable[str]) -> str:
    """``raw`` in E.164: international format always; a national one with the agency's country when it has one.

    Raises:
        InvalidNumber: not a number, or national format without one country to read it with.
    """
    regions = list(countries)
    return normalise(raw, regions[0] if len(regions) == 1 else None)


def import_flags(connection: Redis, keyring: Keyring, agency: str, countries: Iterable[str],
                 rows: Sequence[Mapping[str, str]]) -> ImportResult:
    """Add or update ``agency``'s flags (rows ``{phone, reason}``); a number it flagged already gets the new
    reason."""
    regions = tuple(countries)
    rejected: list[dict[str, Any]] = []
    now = time.time()
    pipe = connection.pipeline(transaction=False)
    imported = 0
    for index, row in enumerate(rows):
        try:
            phone = phone_of(row["phone"], regions)
            reason = _clean(row["reason"], "reason", MAX_REASON)
        except (ValueError, InvalidNumber) as exc:
            rejected.append({"index": index, "reason": str(exc)})
            continue
        pipe.hset(keys.flagged(keyring.pseudonym(phone)), agency,
                  json.dumps({"reason": reason, "at": now}, ensure_ascii=False))
        imported += 1
    pipe.execute()
    return ImportResult(imported, rejected)


def agency_flags(connection: Redis, keyring: Keyring, phone: str) -> list[Flag]:
    """The agencies' flags of ``phone`` (E.164), oldest first."""
    out = []
    for agency, raw in connection.hgetall(keys.flagged(keyring.pseudonym(phone))).items():
        entry = json.loads(raw)
        out.append(Flag(reason=entry["reason"], added_by=text(agency), added_at=float(entry["at"])))
    return sorted(out, key=lambda f: f.added_at)


def agency_flag(connection: Redis, keyring: Keyring, agency: str, phone: str) -> Flag | None:
    raw = optional_text(connection.hget(keys.flagged(keyring.pseudonym(phone)), agency))
    if raw is None:
        return None
    entry = json.loads(raw)
    return Flag(reason=entry["reason"], added_by=agency, added_at=float(entry["at"]))


def flag_json(flag: Flag) -> dict[str, object]:
    return {"reason": flag.reason, "added_by": flag.added_by,
            "added_at": datetime.fromtimestamp(flag.added_at, UTC).isoformat()}


def delete_flag(connection: Redis, keyring: Keyring, agency: str, phone: str) -> bool:
    """Remove ``agency``'s flag of ``phone`` (E.164); False when it had none."""
    return bool(connection.hdel(keys.flagged(keyring.pseudonym(phone)), agency))
