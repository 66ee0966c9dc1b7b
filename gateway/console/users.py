"""People who use the agency console: one account per email, in one agency, with one role.

An account is a Redis hash ``console:user:<email>`` (agency, role, argon2id hash, created) and a member of its
agency's set, so an admin lists and manages only the people of their own agency. Passwords are hashed with
argon2-cffi (memory-hard, salted per hash): a copy of Redis does not give them up.

Login attempts are counted *before* the password is compared, in one Lua script per attempt, under a keyed
digest of the email whether or not the account exists. That closes three holes at once: parallel guesses cannot
slip past the limit while a slow hash runs, the lockout cannot be used to tell which emails have accounts, and
the counter's key does not name the person. :data:`MAX_FAILURES` wrong passwords in a row lock the email for
:data:`LOCK_S` seconds (CONTRACT §4); a correct password while locked is refused too.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis import Redis

from redis_reply import Fields, optional_text, text, texts

ROLES = ("viewer", "sender", "caseworker", "admin")
#: What each role may do. ``read`` is the dashboard, broadcasts and subscriber counts; ``send`` composes, sends
#: and cancels, and imports or removes subscribers; ``casework`` reads and updates reports and call-backs (full
#: numbers only on an audited reveal) and curates the help directory; ``manage`` is people, keys and the audit.
PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "sender": frozenset({"read", "send"}),
    "caseworker": frozenset({"read", "casework"}),
    "admin": frozenset({"read", "send", "casework", "manage"}),
}
MIN_PASSWORD = 12
MAX_PASSWORD = 1024
MAX_FAILURES = 5
LOCK_S = 15 * 60
#: A run of failures is forgotten after a day without attempts.
FAILURE_WINDOW_S = 24 * 3600
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s.]{1,63}$")
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Compared against when the email has no account, so an unknown email costs the same time as a known one.
    Made on first use, not at import: an argon2 hash costs tens of milliseconds that start-up need not pay."""
    return _HASHER.hash("not a password of anyone's")


# KEYS: the attempt counter. ARGV: now, max failures, lock seconds, window seconds.
# Returns -until when locked, else the number of this attempt (1-based, counted before the comparison).
_ATTEMPT = """
local now = tonumber(ARGV[1])
local locked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if locked > now then return -locked end
if locked > 0 then redis.call('DEL', KEYS[1]) end
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if n > tonumber(ARGV[2]) then
  local till = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'until', till)
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return -till
end
return n
"""


class UserError(ValueError):
    """An account cannot be created or changed as asked; the message says why and names the field."""


@dataclass(frozen=True)
class User:
    email: str
    agency: str
    role: str
    created_at: str

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


@dataclass(frozen=True)
class LoginResult:
    """``user`` on success; otherwise ``locked_until`` (epoch seconds) when the email is locked, else None."""

    user: User | None
    locked_until: float | None = None


def user_key(email: str) -> str:
    return f"console:user:{email}"


def agency_key(agency: str) -> str:
    return f"console:agency:{{{agency}}}:users"


def _attempts_key(email: str) -> str:
    return "console:login:" + hashlib.blake2b(email.encode(), digest_size=16, person=b"console-login").hexdigest()


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise UserError("email: give an address such as name@agency.org.")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password: at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"password: at most {MAX_PASSWORD} characters.")


def check_agency(agency: str) -> str:
    agency = (agency or "").strip()
    if not agency or len(agency) > 100 or any(c in agency for c in "{}:\n"):
        raise UserError("agency: 1-100 characters without braces, colons or newlines (the name its API keys use).")
    return agency


def create(connection: Redis, email: str, *, agency: str, role: str, password: str) -> User:
    """A new account. Raises :class:`UserError` for a bad field or an email that already has an account."""
    email = normalise_email(email)
    agency = check_agency(agency)
    if role not in ROLES:
        raise UserError(f"role: one of {', '.join(ROLES)}.")
    check_password(password)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    fields: Fields = {"agency": agency, "role": role, "hash": _HASHER.hash(password), "created_at": created}
    if not connection.hsetnx(user_key(email), "agency", agency):
        raise UserError(f"email: {email} already has an account.")
    pipe = connection.pipeline(transaction=True)
    pipe.hset(user_key(email), mapping=fields)
    pipe.sadd(agency_key(agency), email)
    pipe.execute()
    return User(email, agency, role, created)


def get(connection: Redis, email: str) -> User | None:
    raw = connection.hmget(user_key(email), "agency", "role", "created_at")
    if not raw[0] or not raw[1]:
        return None
    agency, role, created = (optional_text(v) or "" for v in raw)
    return User(email, agency, role, created)


def list_for(connection: Redis, agency: str) -> list[User]:
    emails = sorted(texts(connection.smembers(agency_key(agency))))
    return [u for u in (get(connection, e) for e in emails) if u is not None and u.agency == agency]


def set_role(connection: Redis, user: User, role: str) -> User:
    if role not in ROLES:
        raise UserError(f"role: one of {', '.join(ROLES)}.")
    connection.hset(user_key(user.email), "role", role)
    return User(user.email, user.agency, role, user.created_at)


def remove(connection: Redis, user: User) -> None:
    pipe = connection.pipeline(transaction=True)
    pipe.delete(user_key(user.email))
    pipe.srem(agency_key(user.agency), user.email)
    pipe.execute()


def authenticate(connection: Redis, email: str, password: str, *, now: float | None = None) -> LoginResult:
    """Check a login. Every attempt counts against the email before the hash is compared (see module doc)."""
    try:
        email = normalise_email(email)
    except UserError:
        return LoginResult(None)
    now = time.time() if now is None else now
    key = _attempts_key(email)
    attempt = int(connection.eval(_ATTEMPT, 1, key, int(now), MAX_FAILURES, LOCK_S, FAILURE_WINDOW_S))
    if attempt < 0:
        return LoginResult(None, locked_until=-attempt)
    stored = connection.hget(user_key(email), "hash")
    try:
        _HASHER.verify(text(stored) if stored else _dummy_hash(), password[:MAX_PASSWORD])
        ok = stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if ok:
        connection.delete(key)
        user = get(connection, email)
        return LoginResult(user)
    if attempt >= MAX_FAILURES:
        connection.hset(key, "until", int(now) + LOCK_S)
        connection.expire(key, LOCK_S)
        return LoginResult(None, locked_until=int(now) + LOCK_S)
    return LoginResult(None)
