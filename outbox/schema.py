"""What an agency may ask of the outbox, as pydantic models: one set of validators for the API and the console.

Every model forbids fields it does not know and takes JSON types strictly (no ``"1"`` for ``1``, no ``1`` for
``true``), because a typo must never widen an audience: ``{"audience": {"country": ["KE"]}}`` once reached every
subscriber of every country, and ``"dry_run": true`` once sent a broadcast. pydantic gives each problem its
location, which :func:`problems` turns into field names (``audience.country``, ``audience.phones[3]``) for a 422.
The console validates its forms through the same models (build the dict from the form, call ``model_validate``).

Validation happens before anything is written: a body that fails here leaves nothing behind in Redis.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from identity.codes import country_code, language_code
from identity.phones import normalise

from .broadcasts import EARLIEST_YEAR, LATEST_YEAR, MAX_PHONES, MAX_TEXT_CHARS, BroadcastRequest, in_range
from .errors import InvalidNumber
from .subscribers import TOPICS, supported_languages

#: How far in the past a ``send_at`` may lie (a clock a little behind, a request retried): older is a mistake,
#: and would send at once a message meant for another day.
SEND_AT_GRACE_S = 5 * 60
MAX_IMPORT = 10_000


class Strict(BaseModel):
    """Unknown fields are refused, JSON types are taken as they are."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _language(value: str) -> str:
    code = language_code(value)
    if code is None:
        raise ValueError(f"{value[:10]!r} is not a 2- or 3-letter language code")
    return code


def _spoken(value: str) -> str:
    """A language of a broadcast's text must be one we send in: a text in ``zz`` reaches nobody."""
    if value not in supported_languages():
        raise ValueError(f"{value[:10]!r} is not a language we send in ({', '.join(supported_languages())})")
    return value


def _country(value: str) -> str:
    code = country_code(value, alpha3=False)
    if code is None:
        raise ValueError(f"{value[:10]!r} is not an ISO 3166-1 alpha-2 country code such as 'KE'")
    return code


def _topic(value: str) -> str:
    topic = value.strip().lower()
    if topic not in TOPICS:
        raise ValueError(f"{value[:20]!r} is not a topic; topics are {', '.join(TOPICS)}")
    return topic


def _phone(value: str) -> str:
    try:
        return normalise(value)
    except InvalidNumber as exc:
        raise ValueError(str(exc)) from None


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"is longer than {MAX_TEXT_CHARS} characters")
    return value


def timestamp(value: Any) -> datetime:
    """An ISO-8601 string with an offset, within the years the outbox accepts, as an aware datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not an ISO-8601 timestamp") from None
    else:
        raise ValueError("must be an ISO-8601 timestamp string")
    if parsed.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2026-01-01T12:00:00+03:00")
    if not in_range(parsed):  # else it is stored, then cannot be shown (year 0 or 10000 in UTC)
        raise ValueError(f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return parsed


Language = Annotated[str, AfterValidator(_language)]
SpokenLanguage = Annotated[str, AfterValidator(_language), AfterValidator(_spoken)]
Country = Annotated[str, AfterValidator(_country)]
Topic = Annotated[str, AfterValidator(_topic)]
Phone = Annotated[str, AfterValidator(_phone)]
Text = Annotated[str, AfterValidator(_text)]
Timestamp = Annotated[datetime, BeforeValidator(timestamp)]


def _unique(values: list[str] | None) -> tuple[str, ...] | None:
    return tuple(dict.fromkeys(values)) if values is not None else None


class Audience(Strict):
    """Who receives a broadcast: a filter (each part optional, at least one given), a ``phones`` list, or
    ``"all": true``, the only way to reach everyone."""

    countries: list[Country] | None = Field(None, min_length=1)
    languages: list[Language] | None = Field(None, min_length=1)
    topics: list[Topic] | None = Field(None, min_length=1)
    phones: list[Phone] | None = Field(None, min_length=1, max_length=MAX_PHONES)
    all: Literal[True] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Audience:
        given = {name for name in self.model_fields_set if getattr(self, name) is not None}
        if not given:
            raise ValueError('is empty: give "countries", "languages" or "topics", or "phones", '
                             'or "all": true to reach every subscriber')
        for alone in ("phones", "all"):
            if alone in given and len(given) > 1:
                others = ", ".join(sorted(given - {alone}))
                raise ValueError(f'"{alone}" cannot be combined with {others}')
        return self


class BroadcastBody(Strict):
    """``POST /broadcasts`` and ``POST /broadcasts/estimate``."""

    message: dict[SpokenLanguage, Text] = Field(min_length=1)
    audience: Audience
    priority: Literal["emergency", "normal"] = "normal"
    send_at: Timestamp | None = None
    expires_at: Timestamp | None = None
    replace_lookalikes: bool = False

    @model_validator(mode="after")
    def _times(self) -> BroadcastBody:
        now = time.time()
        if self.send_at is not None and self.send_at.timestamp() < now - SEND_AT_GRACE_S:
            raise _at("send_at", f"is more than {SEND_AT_GRACE_S // 60} minutes in the past")
        if self.expires_at is not None:
            if self.expires_at.timestamp() <= now:
                raise _at("expires_at", "is already past")
            if self.send_at is not None and self.expires_at <= self.send_at:
                raise _at("expires_at", "must be after send_at")
        return self

    def request(self) -> BroadcastRequest:
        audience = self.audience
        return BroadcastRequest(
            message=dict(self.message), priority=self.priority, send_at=self.send_at, expires_at=self.expires_at,
            lookalikes=self.replace_lookalikes, countries=_unique(audience.countries),
            languages=_unique(audience.languages), topics=_unique(audience.topics), phones=_unique(audience.phones),
            everyone=bool(audience.all))


class SubscriberRow(Strict):
    """One row of an import. Its shape is checked here (a wrong type or an unknown field is a 422 for the whole
    call: the caller's program is wrong); whether the number, country and language are usable is decided per row
    by :func:`outbox.subscribers.import_many`, which rejects that row alone."""

    phone: str
    country: str | None = None
    language: str | None = None
    topics: list[str] | None = None
    #: ``sms`` or ``voice`` (broadcasts call them); checked per row like the language.
    channel: str | None = None


class SubscriberImport(Strict):
    subscribers: list[SubscriberRow] = Field(max_length=MAX_IMPORT)


def _at(field: str, message: str) -> ValueError:
    return ValueError(f"{field}: {message}")


def field_name(location: tuple[int | str, ...]) -> str:
    """pydantic's error location as the name an agency reads: ``audience.phones[3]``, ``message.en``."""
    out = ""
    for part in location:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


_FIELD_IN_MESSAGE = re.compile(r"^(send_at|expires_at): ")


def problems(exc: ValidationError) -> list[tuple[str, str, str]]:
    """Each problem as ``(field, code, message)``: ``unknown_field`` for a field the call does not know,
    ``invalid`` for the rest. A whole-model check names its field at the start of its message."""
    out = []
    for error in exc.errors(include_url=False, include_input=False):
        field = field_name(tuple(error["loc"]))
        message = str(error["msg"]).removeprefix("Value error, ")
        named = _FIELD_IN_MESSAGE.match(message)
        if named:
            field, message = named.group(1), message[named.end():]
        if error["type"] == "extra_forbidden":
            out.append((field, "unknown_field", "is not a field this call knows (check its spelling)"))
        else:
            out.append((field, "invalid", message))
    return out
