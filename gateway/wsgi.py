"""The WSGI application object for production servers: ``granian --interface wsgi gateway.wsgi:app``."""

import gc

from .app import create_app

app = create_app()
# Menus, catalogs and the helpline directory live as long as the process: keep them out of every collection
# (a shorter p99; bench/README.md).
gc.freeze()
