"""The application objects for production servers, built once per process at import.

``gateway serve`` runs ``rsgi`` on granian's native interface (``POST /ussd`` on the event loop, every other route
through Flask in a thread pool: :mod:`gateway.rsgi`); ``app`` is the same gateway as a plain WSGI app, for any
other WSGI server (``granian --interface wsgi gateway.wsgi:app``).
"""

import gc

from .app import create_app
from .rsgi import rsgi_app

app = create_app()
rsgi = rsgi_app(app)
# Menus, catalogs and the helpline directory live as long as the process: keep them out of every collection
# (a shorter p99; bench/README.md).
gc.freeze()
