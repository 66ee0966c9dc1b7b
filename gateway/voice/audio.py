"""The audio of every prompt: built ahead of time, served by the gateway, addressed by content hash.

``gateway build-audio`` writes one file per prompt (every static screen in every language, and the fixed lines
such as goodbye) into ``VOICE_AUDIO_DIR``, named by the SHA-256 of its bytes, and a ``manifest.json`` that maps
each prompt's text to its file. A prompt recorded by a person (``gateway/voice/prompts/<lang>/<prompt id>.mp3`` or
``.wav``) is used as it is; any other is synthesised (:mod:`.tts`). A rebuild only redoes prompts whose text,
recording or speech engine changed, so ``make test`` pays for the build once.

AT caches audio by URL and checks headers before fetching again, so a URL names its content: a changed prompt
gets a new URL and a stale copy at AT is never played. Text known only at run time (a help number list, an
alert) is synthesised when first needed and kept in Redis :data:`DYNAMIC_TTL_S` after its last use, under a name
keyed with the installation's secret (a keyring subkey): any web process can serve it, and nobody can guess the
name of another caller's audio.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis import Redis

from .tts import VOICES, Segment, TtsError, engine_version, read_wav, synthesise

log = logging.getLogger(__name__)

RECORDED_DIR = Path(__file__).parent / "prompts"
MANIFEST = "manifest.json"
#: Held while a build writes: ``gateway serve``, each ``gateway worker`` and ``gateway build-audio`` may all start
#: one at once, and they take turns (the later ones find the work done).
LOCK = ".build.lock"
#: Run-time audio (lists, alerts, a balance) is kept this long after it was last needed. AT fetches a clip when
#: it plays it, and each use renews it, so help lists and an alert being answered stay warm while a caller's
#: balance, spoken once, leaves Redis within minutes (making a clip again costs about 0.2 s).
DYNAMIC_TTL_S = 15 * 60
#: A missed prompt looks for a newer manifest at most this often (a build finished while the server runs).
RELOAD_CHECK_S = 1.0
#: URL path under which :func:`gateway.voice.routes` serves clips.
URL_PATH = "/voice/audio/"
MIME = {".mp3": "audio/mpeg", ".wav": "audio/wav"}
_NAME = re.compile(r"^[0-9a-f]{24}\.(mp3|wav)$")
_KEY_PREFIX = "voice:audio:"


@dataclass(frozen=True)
class Prompt:
    """Text to be heard: ``id`` names it for recordings (``welcome.main``), ``lang`` is the caller's language
    it serves (the language choice, spoken in every language, is ``mul``)."""

    id: str
    lang: str
    segments: tuple[Segment, ...]

    @property
    def key(self) -> str:
        return text_key(self.segments)


def text_key(segments: Sequence[Segment]) -> str:
    """Stable name of what is said (not of how it sounds): the manifest's index."""
    raw = json.dumps([[s.lang, s.text] for s in segments], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _content_name(data: bytes, suffix: str) -> str:
    return hashlib.sha256(data).hexdigest()[:24] + suffix


@dataclass
class BuildReport:
    prompts: int = 0
    built: int = 0
    reused: int = 0
    recorded: int = 0
    bytes: int = 0
    seconds: float = 0.0
    elapsed_s: float = 0.0
    longest: tuple[float, str] = (0.0, "")
    #: Per language: prompts synthesised with another language's voice (Tagalog).
    approximate: dict[str, int] = field(default_factory=dict)
    #: Prompts longer than the cap asked for (``VOICE_MAX_PROMPT_S``).
    too_long: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{self.prompts} prompts ({self.built} built, {self.reused} unchanged, {self.recorded} recorded) in "
            f"{self.elapsed_s:.1f} s; {self.bytes / 1024:.0f} KiB, {self.seconds / 60:.1f} min of speech; "
            f"longest {self.longest[0]:.1f} s ({self.longest[1]})."
        ]
        for lang, count in sorted(self.approximate.items()):
            out.append(f"{lang}: {count} prompts read by a related language's voice (no {lang} voice in espeak-ng);"
                       f" record them in gateway/voice/prompts/{lang}/ to replace.")
        for item in self.too_long:
            out.append(f"too long to say: {item}")
        return out


@contextlib.contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """One build at a time in ``out_dir``, across processes (released when the holder exits, however)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def missing(out_dir: Path, prompts: Iterable[Prompt], recorded_dir: Path = RECORDED_DIR) -> list[Prompt]:
    """The prompts a build would make or copy: not in the manifest, their file gone, or made from other text or
    by another speech engine."""
    clips = _read_manifest(out_dir).get("clips", {})
    engine = engine_version()
    out = []
    for prompt in prompts:
        entry = clips.get(prompt.key)
        recorded = entry is not None and entry.get("input") == "recorded"
        if (entry is None or not (out_dir / entry["file"]).is_file()
                or recorded != (_recording(recorded_dir, prompt) is not None)
                or (not recorded and entry.get("input") != f"{engine}:{prompt.key}")):
            out.append(prompt)
    return out


def build(out_dir: Path, prompts: Iterable[Prompt], recorded_dir: Path = RECORDED_DIR,
          max_seconds: float | None = None) -> BuildReport:
    """Make the audio of every prompt in ``out_dir`` and write its manifest; drop files no prompt uses.
    Speech is made on every core (espeak-ng and LAME run outside the GIL)."""
    with build_lock(out_dir):
        return build_locked(out_dir, prompts, recorded_dir, max_seconds)


def build_locked(out_dir: Path, prompts: Iterable[Prompt], recorded_dir: Path = RECORDED_DIR,
                 max_seconds: float | None = None) -> BuildReport:
    """:func:`build`, for a caller that holds :func:`build_lock`."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    old = _read_manifest(out_dir).get("clips", {})
    engine = engine_version()
    report = BuildReport()
    todo = list({prompt.key: prompt for prompt in prompts}.values())
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        entries = list(pool.map(lambda p: _clip(out_dir, recorded_dir, p, old.get(p.key, {}), engine), todo))
    clips: dict[str, dict[str, Any]] = {}
    for prompt, (entry, outcome) in zip(todo, entries, strict=True):
        report.prompts += 1
        setattr(report, outcome, getattr(report, outcome) + 1)
        if entry["source"] == "tts-approximate":
            for lang in sorted({s.lang for s in prompt.segments if VOICES[s.lang][1]}):
                report.approximate[lang] = report.approximate.get(lang, 0) + 1
        clips[prompt.key] = {**entry, "prompt": prompt.id, "lang": prompt.lang}
        report.bytes += entry["bytes"]
        report.seconds += entry["seconds"]
        report.longest = max(report.longest, (entry["seconds"], f"{prompt.lang} {prompt.id}"))
        if max_seconds is not None and entry["seconds"] > max_seconds:
            report.too_long.append(f"{prompt.lang} {prompt.id}: {entry['seconds']:.1f} s")
    manifest = {"engine": engine, "clips": clips}
    tmp = out_dir / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, out_dir / MANIFEST)
    used = {entry["file"] for entry in clips.values()}
    for path in out_dir.iterdir():
        if _NAME.match(path.name) and path.name not in used:
            path.unlink()
    report.elapsed_s = time.perf_counter() - started
    return report


def _clip(out_dir: Path, recorded_dir: Path, prompt: Prompt, old: dict[str, Any],
          engine: str) -> tuple[dict[str, Any], str]:
    """One prompt's manifest entry, and whether it was ``recorded``, ``reused`` or ``built``."""
    recorded = _recording(recorded_dir, prompt)
    if recorded is not None:
        data, suffix = recorded.read_bytes(), recorded.suffix
        _write(out_dir, _content_name(data, suffix), data)
        return {"file": _content_name(data, suffix), "source": "recorded", "seconds": _seconds(data, suffix),
                "bytes": len(data), "input": "recorded"}, "recorded"
    source = f"{engine}:{prompt.key}"
    if old.get("input") == source and (out_dir / old["file"]).is_file():
        return old, "reused"
    speech = synthesise(prompt.segments)
    name = _content_name(speech.mp3, ".mp3")
    _write(out_dir, name, speech.mp3)
    return {"file": name, "source": "tts-approximate" if speech.approximate else "tts",
            "seconds": round(speech.seconds, 2), "bytes": len(speech.mp3), "input": source}, "built"


def _recording(recorded_dir: Path, prompt: Prompt) -> Path | None:
    for suffix in MIME:
        path = recorded_dir / prompt.lang / f"{prompt.id}{suffix}"
        if path.is_file():
            return path
    return None


def _write(out_dir: Path, name: str, data: bytes) -> None:
    path = out_dir / name
    if not path.is_file():
        tmp = path.with_name(f"{name}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)


def _seconds(data: bytes, suffix: str) -> float:
    """Length of a recorded clip, for the report and the spoken-length check."""
    if suffix == ".wav":
        pcm, rate = read_wav(data)
        return round(len(pcm) / 2 / rate, 2)
    # CBR MP3: bytes over bitrate is close enough for a report; a recorded file carries no other cheap clue.
    return round(len(data) * 8 / 32_000, 2)


def _read_manifest(directory: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((directory / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


class AudioLibrary:
    """The built prompts (read once at start) and the run-time cache; answers ``GET /voice/audio/<name>``."""

    def __init__(self, directory: Path, redis: Redis | None = None, key: bytes | None = None,
                 dynamic_ttl: int = DYNAMIC_TTL_S) -> None:
        self.directory = directory
        self.redis = redis
        self.key = key
        self.dynamic_ttl = dynamic_ttl
        self._manifest_mtime = self._mtime()
        self._checked_at = time.monotonic()
        self.clips: dict[str, dict[str, Any]] = _read_manifest(directory).get("clips", {})
        if not self.clips:
            log.warning("No built voice prompts in %s: run `gateway build-audio` (voice callers of languages "
                        "other than English would wait for speech made on the spot).", directory)

    @staticmethod
    def measured(directory: Path) -> dict[str, float]:
        """Seconds each built prompt takes, by text key (empty before the first build)."""
        return {key: float(entry["seconds"]) for key, entry in _read_manifest(directory).get("clips", {}).items()}

    def static_name(self, segments: Sequence[Segment]) -> str | None:
        key = text_key(segments)
        entry = self.clips.get(key)
        if entry is None and self._rebuilt():
            entry = self.clips.get(key)
        return entry["file"] if entry else None

    def _mtime(self) -> float:
        try:
            return (self.directory / MANIFEST).stat().st_mtime
        except OSError:
            return 0.0

    def _rebuilt(self) -> bool:
        """Whether a build (``gateway build-audio``, which ``gateway run`` starts beside the server) wrote a new
        manifest since it was read; then it is read again. Looked at most every :data:`RELOAD_CHECK_S`."""
        now = time.monotonic()
        if now - self._checked_at < RELOAD_CHECK_S:
            return False
        self._checked_at = now
        mtime = self._mtime()
        if mtime == self._manifest_mtime:
            return False
        self._manifest_mtime = mtime
        self.clips = _read_manifest(self.directory).get("clips", {})
        return True

    def local_name(self, segments: Sequence[Segment]) -> str | None:
        """The clip name of ``segments`` without Redis: built ahead of time, or made now (about 0.2 s) and written
        beside the built clips, named by its content as they are. None when speech cannot be made or written.
        For the apology when Redis is down: a caller of another language still hears their own language."""
        name = self.static_name(segments)
        if name is not None:
            return name
        try:
            data = synthesise(segments).mp3
            name = _content_name(data, ".mp3")
            self.directory.mkdir(parents=True, exist_ok=True)
            _write(self.directory, name, data)
        except (TtsError, OSError) as exc:
            log.error("No clip for a fixed line and none can be made now: %s", exc)
            return None
        return name

    def name_for(self, segments: Sequence[Segment]) -> str:
        """The clip name of ``segments``: built ahead of time, or made now and kept in Redis. Raises TtsError
        when it cannot be made (no engine, no voice) and RedisError when Redis is down."""
        name = self.static_name(segments)
        if name is not None:
            return name
        if self.redis is None or self.key is None:
            raise TtsError("No built clip for this text and no Redis to keep one made now.")
        raw = json.dumps([[s.lang, s.text] for s in segments], ensure_ascii=False).encode()
        name = hashlib.blake2b(raw, key=self.key[:64], digest_size=12).hexdigest() + ".mp3"
        key = _KEY_PREFIX + name
        if not self.redis.expire(key, self.dynamic_ttl):
            self.redis.set(key, synthesise(segments).mp3, ex=self.dynamic_ttl)
        return name

    def read(self, name: str) -> tuple[bytes, str] | None:
        """A clip's bytes and MIME type, or None for a name that is not ours."""
        if not _NAME.match(name):
            return None
        suffix = name[name.rindex("."):]
        path = self.directory / name
        if path.is_file():
            return path.read_bytes(), MIME[suffix]
        if self.redis is not None:
            data = self.redis.get(_KEY_PREFIX + name)
            if isinstance(data, bytes):
                return data, MIME[suffix]
        return None
