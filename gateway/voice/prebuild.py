"""Build the prompts' audio that is missing when a server or worker starts, beside it, without delaying it.

``gateway build-audio`` is a step a deployment can forget (``pip install .`` then ``gateway serve``); a caller of
another language would then wait for speech made on the spot, prompt by prompt. So ``gateway serve`` and
``gateway worker`` each start this module as a process of its own (:func:`start`): it looks at the manifest, and
builds only what is missing, with the same :func:`~gateway.voice.audio.build` as ``gateway build-audio``, at a
lower CPU priority. The server answers at once meanwhile (speech made on demand) and picks up the new manifest
when the build writes it (:meth:`~gateway.voice.audio.AudioLibrary.static_name`). Builds take turns on a lock, so
several processes starting together build once.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from .audio import Prompt, build_lock, build_locked, missing
from .tts import TtsError

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger(__name__)

#: Niceness of the build: callers' requests come first.
NICENESS = 10


def static_audio_prompts(settings: Settings) -> list[Prompt]:
    """Every prompt ``gateway build-audio`` builds: each static one in each language not spoken by ``<Say>``."""
    from menus.catalog import Catalog
    from menus.engine import Engine
    from menus.model import MenuSet

    from ..services import HANDLERS
    from .service import SAY_LANGUAGES
    from .speech import static_prompts

    catalog, menus = Catalog.load(), MenuSet.load()
    engine: Engine[Any] = Engine(menus, catalog, HANDLERS, settings.page_budget, services=None)
    languages = tuple(lang for lang in catalog.languages if lang not in SAY_LANGUAGES)
    return [p for p in static_prompts(menus, catalog, engine, languages) if p.lang not in SAY_LANGUAGES]


def run() -> int:
    """Build what is missing in ``VOICE_AUDIO_DIR``; 0 when everything is there at the end."""
    from ..config import Settings

    settings = Settings.from_env()
    prompts = static_audio_prompts(settings)
    with build_lock(settings.audio_dir):
        todo = missing(settings.audio_dir, prompts)
        if not todo:
            return 0
        log.info("Building the audio of %d voice prompts that are missing.", len(todo))
        try:
            report = build_locked(settings.audio_dir, prompts, max_seconds=settings.voice_max_prompt_s)
        except TtsError as exc:
            log.error("Voice prompts not built (%s): callers of languages other than English get speech made on "
                      "the spot.", exc)
            return 1
    for line in report.lines():
        log.info("%s", line)
    return 0


def start() -> None:
    """Start the build and return at once. It runs detached (forked twice, in a session of its own, adopted by
    init): it is no child of the server, which therefore has only its own processes (a failover drill counts
    them), and it ends by itself. Not at all on a platform without ``fork``."""
    if not hasattr(os, "fork"):
        return
    argv = [sys.executable, "-m", __name__]
    try:
        pid = os.fork()
    except OSError as exc:
        log.warning("Could not start the voice prompts' build: %s", exc)
        return
    if pid == 0:  # between fork and exec: system calls only
        try:
            os.setsid()
            if os.fork() == 0:
                os.nice(NICENESS)
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)
                os.execv(sys.executable, argv)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


if __name__ == "__main__":
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(run())
