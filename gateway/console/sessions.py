"""Console sessions kept in Redis, with only an opaque random token in the cookie.

Why not Flask's signed-cookie session: a signed cookie cannot be revoked. Logging out, removing a person or
changing their role must end their sessions at once, everywhere. Here the cookie carries 256 random bits; Redis
keeps the session under a SHA-256 of that token (a copy of Redis holds no usable cookie) with an idle timeout,
and each person's session hashes are indexed so that :func:`revoke_all` can end them.

The cookie is ``HttpOnly``, ``SameSite=Lax``, scoped to ``/console``, and ``Secure`` unless ``GATEWAY_DEV=1``
(those flags come from the app config set in :func:`gateway.console.init_app`).

Redis down: a session that cannot be read is an empty one and one that cannot be saved is not saved, so the page
(the 503 the app's Redis error handler answers, or the login form) is served instead of a 500 from Flask's
session machinery, which runs outside the views' error handlers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from redis import Redis
from redis.exceptions import RedisError
from werkzeug.datastructures import CallbackDict

from redis_reply import texts

log = logging.getLogger(__name__)

#: A session unused this long is gone; a field worker's shift, not a week.
IDLE_TTL_S = 8 * 3600


def _key(token_hash: str) -> str:
    return f"console:sess:{token_hash}"


def _index(email: str) -> str:
    return f"console:usess:{email}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RedisSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, initial: dict[str, Any] | None = None, token: str | None = None) -> None:
        def on_update(_: object) -> None:
            self.modified = True

        super().__init__(initial, on_update)
        self.token = token
        self.new = token is None
        self.modified = False
        self.renew = False

    def regenerate(self) -> None:
        """A fresh token (at login), so a token planted before login is worth nothing after it."""
        self.renew = True
        self.modified = True


class RedisSessionInterface(SessionInterface):
    def __init__(self, connection: Redis) -> None:
        self.connection = connection

    def open_session(self, app: Flask, request: Request) -> RedisSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 100:
            return RedisSession()
        try:
            raw = self.connection.get(_key(_hash(token)))
        except RedisError as exc:
            log.warning("Console session not read (Redis unavailable: %s)", type(exc).__name__)
            return RedisSession()
        if raw is None:
            return RedisSession()
        try:
            data = json.loads(raw)
        except ValueError:
            return RedisSession()
        return RedisSession(data, token)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        try:
            self._save(app, session, response)
        except RedisError as exc:
            log.warning("Console session not saved (Redis unavailable: %s)", type(exc).__name__)

    def _save(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, RedisSession)
        name, domain, path = self.get_cookie_name(app), self.get_cookie_domain(app), self.get_cookie_path(app)
        if (not session and session.modified) or (session.renew and session.token):
            if session.token:
                self._drop(session.token)
            if not session:
                response.delete_cookie(name, domain=domain, path=path)
                return
            session.token = None
        if not session:
            return
        if session.token is None:
            session.token = secrets.token_urlsafe(32)
        token_hash = _hash(session.token)
        pipe = self.connection.pipeline(transaction=False)
        if session.modified or session.new:
            pipe.set(_key(token_hash), json.dumps(dict(session)), ex=IDLE_TTL_S)
            if session.get("email"):
                pipe.sadd(_index(session["email"]), token_hash)
                pipe.expire(_index(session["email"]), IDLE_TTL_S)
        else:
            pipe.expire(_key(token_hash), IDLE_TTL_S)
        pipe.execute()
        response.set_cookie(name, session.token, max_age=IDLE_TTL_S, path=path, domain=domain,
                            secure=self.get_cookie_secure(app), httponly=self.get_cookie_httponly(app),
                            samesite=self.get_cookie_samesite(app))
        response.vary.add("Cookie")

    def _drop(self, token: str) -> None:
        self.connection.delete(_key(_hash(token)))


def revoke_all(connection: Redis, email: str) -> None:
    """End every session of ``email`` (removed, role changed, password changed)."""
    hashes = texts(connection.smembers(_index(email)))
    pipe = connection.pipeline(transaction=False)
    for token_hash in hashes:
        pipe.delete(_key(token_hash))
    pipe.delete(_index(email))
    pipe.execute()
