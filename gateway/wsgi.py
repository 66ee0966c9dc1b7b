"""The WSGI application object for production servers: ``granian --interface wsgi gateway.wsgi:app``."""

from .app import create_app

app = create_app()
