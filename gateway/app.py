"""The application factory: builds the parts once and wires them together.

``create_app()`` reads settings, connects to Redis (gateway.redis_client: Sentinel, ``REDIS_URL`` or the embedded
server), loads menus and catalogs (never on the request path), builds the USSD engine with the handler registry,
and registers one blueprint per channel. ``POST /ussd`` is the hot path and never goes through Flask's request
machinery: ``gateway serve`` answers it on granian's event loop (:mod:`gateway.rsgi`), and WSGI callers (tests,
another WSGI server) reach a plain-WSGI endpoint placed in front of Flask. Every other route is Flask's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from redis import Redis

from handlers.services import Services as HandlerServices
from identity.keyring import Keyring
from menus.catalog import Catalog
from menus.engine import Engine
from menus.model import MenuSet
from sessions.store import SessionStore

from . import api, console, health, outbox_setup, secrets, sms, ussd_events
from .config import Settings
from .redis_client import connect, resolve
from .services import HANDLERS, Services, dispatch_effects
from .ussd import UssdEndpoint, UssdService
from .voice import routes as voice_routes
from .voice.audio import AudioLibrary
from .voice.service import VoiceService

log = logging.getLogger(__name__)


@dataclass
class Gateway:
    """Everything a request needs, built once per process; kept in ``app.extensions["gateway"]``."""

    settings: Settings
    redis: Redis
    keyring: Keyring
    catalog: Catalog
    menus: MenuSet
    engine: Engine[HandlerServices]
    sessions: SessionStore
    services: Services
    ussd: UssdService
    voice: VoiceService


class Dispatcher:
    """WSGI middleware that sends ``POST /ussd`` straight to the USSD endpoint and the rest to Flask."""

    def __init__(self, flask_wsgi: Callable[..., Iterable[bytes]], ussd: UssdEndpoint) -> None:
        self.flask_wsgi = flask_wsgi
        self.ussd = ussd

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/ussd" and environ.get("REQUEST_METHOD") == "POST":
            return self.ussd(environ, start_response)
        return self.flask_wsgi(environ, start_response)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    settings = resolve(settings)
    # One connection per server thread, and a few for Flask routes and handlers' own calls.
    connection = connect(settings, pool_size=settings.web_threads + 8)

    catalog = Catalog.load()
    menus = MenuSet.load()
    keyring = secrets.keyring(settings)
    outbox = outbox_setup.outbox_config(settings, keyring, catalog)
    services = Services.build(settings, connection, catalog, keyring, outbox)
    engine: Engine[HandlerServices] = Engine(menus, catalog, HANDLERS, settings.page_budget, services=services)
    # The installation's keys reach the session path here, and only here.
    sessions = SessionStore(connection, ttl=settings.session_ttl, resume_ttl=settings.resume_ttl,
                            key=keyring.key("session digests"))
    service = UssdService(engine, sessions, catalog, pseudonym=keyring.pseudonym,
                          effects=lambda effects, caller: dispatch_effects(services, effects, caller))

    audio = AudioLibrary(settings.audio_dir, connection, keyring.key("voice audio names"))
    voice = VoiceService(engine, sessions, catalog, audio, connection, keyring,
                         own_number=settings.at_voice_number,
                         effects=lambda effects, caller: dispatch_effects(services, effects, caller))

    app = Flask("gateway")
    app.config.from_mapping(SETTINGS=settings)
    app.extensions["gateway"] = Gateway(settings, connection, keyring, catalog, menus, engine, sessions, services,
                                        service, voice)
    if settings.callback_token is None:
        log.warning("Development mode: AT callbacks are open, with no token to check (set CALLBACK_TOKEN "
                    "before going live).")

    app.register_blueprint(ussd_events.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(voice_routes.bp)
    app.register_blueprint(voice_routes.audio_bp)
    app.extensions["outbox"] = outbox
    api.init_app(app)
    console.init_app(app)
    app.wsgi_app = Dispatcher(app.wsgi_app, UssdEndpoint(service, settings.callback_token))  # type: ignore[method-assign]
    return app
