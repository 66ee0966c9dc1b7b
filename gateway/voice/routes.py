"""The voice routes: AT's callback ``POST /voice`` and ``GET /voice/audio/<name>`` for the clips it plays.

The callback sits behind ``CALLBACK_TOKEN`` like every AT callback; the token travels in every ``callbackUrl``
and ``<Redirect>`` we write. Audio is public: its names are content hashes (or, for audio made during a call,
keyed digests nobody can guess), and AT fetches it without our token.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..auth import require_callback_token
from .service import Urls

bp = Blueprint("voice", __name__)
audio_bp = Blueprint("voice_audio", __name__)
bp.before_request(require_callback_token)

#: A voice callback is a few hundred bytes of form.
MAX_BODY_BYTES = 16 * 1024
#: Clips never change under a name, so AT and any cache may keep them.
CACHE_FOREVER = "public, max-age=31536000, immutable"


@bp.post("/voice")
def voice() -> Response:
    gateway = current_app.extensions["gateway"]
    if (request.content_length or 0) > MAX_BODY_BYTES:
        form: dict[str, str] = {}
    else:
        form = {key: value for key, value in request.form.items()}
    base = gateway.settings.public_url or request.host_url.rstrip("/")
    body = gateway.voice.answer(form, request.args, Urls(base, gateway.settings.callback_token))
    if not body:
        return Response("", status=200)
    return Response(body, status=200, mimetype="application/xml")


@audio_bp.get("/voice/audio/<name>")
def audio(name: str) -> Response:
    found = current_app.extensions["gateway"].voice.audio.read(name)
    if found is None:
        return Response("Not found", status=404, mimetype="text/plain")
    data, mime = found
    response = Response(data, status=200, mimetype=mime)
    response.headers["Cache-Control"] = CACHE_FOREVER
    return response
