"""Speech synthesis: text in a language to MP3, through Debian's ``espeak-ng`` and the LAME encoder.

Why these: ``espeak-ng`` is a package on every Debian machine (``apt-get install espeak-ng``), runs offline in a
few milliseconds per sentence and has voices for English, French, Swahili and Arabic. It has none for Tagalog;
the nearest it has is Indonesian, a related Austronesian language whose spelling is read almost as Tagalog's is
(``ng``, ``ny``, open vowels, no silent letters), so Tagalog text is read with that voice and every such prompt is
marked *approximate* in the build report. A prompt recorded by a native speaker (see ``prompts/README.md``)
replaces it. LAME (the ``lameenc`` wheel) makes a small mono MP3, which AT plays and phones carry well.

A prompt may mix languages (the language choice names each language in its own words): it is a list of
:class:`Segment`, synthesised one by one and joined as PCM before encoding, so it is one file and one ``<Play>``.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

import lameenc

#: espeak-ng voice per language code of the catalogs. ``approximate``: not the language's own voice.
VOICES: dict[str, tuple[str, bool]] = {
    "en": ("en-gb", False),
    "fr": ("fr-fr", False),
    "sw": ("sw", False),
    "ar": ("ar", False),
    "tl": ("id", True),
}
#: Words per minute: a little slower than espeak's 175, for callers on a poor line.
RATE_WPM = 150
#: Output: 16 kHz mono at 24 kbit/s, 3 kB a second of speech; wideband where the network carries it.
OUT_RATE_HZ = 16_000
BITRATE_KBPS = 24
#: LAME's quality knob (0 best, 9 fastest): at 24 kbit/s of speech 5 sounds like 2 at twice the speed.
QUALITY = 5
#: Silence between the segments of a mixed prompt.
GAP_S = 0.35


class TtsError(RuntimeError):
    """Speech could not be made; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class Segment:
    """One stretch of speech in one language."""

    lang: str
    text: str


@dataclass(frozen=True)
class Speech:
    mp3: bytes
    seconds: float
    approximate: bool


def engine_version() -> str:
    """The engine and its version: part of every build's cache key, so a new espeak-ng rebuilds the audio."""
    binary = _binary()
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10, check=False).stdout
    return " ".join(out.split()[:5]) or "espeak-ng"


def has_voice(lang: str) -> bool:
    return lang in VOICES


def synthesise(segments: Sequence[Segment]) -> Speech:
    """One MP3 of the segments in order. Raises :class:`TtsError` when espeak-ng is missing or a language has no
    voice (never falls back to another language's voice unasked)."""
    if not segments:
        raise ValueError("Nothing to say.")
    pcm, rate, approximate = bytearray(), 0, False
    for i, segment in enumerate(segments):
        if segment.lang not in VOICES:
            raise TtsError(f"No text-to-speech voice for {segment.lang!r}; record its prompts (prompts/README.md) "
                           "or add a voice to gateway/voice/tts.py VOICES.")
        voice, approx = VOICES[segment.lang]
        approximate = approximate or approx
        samples, seg_rate = _espeak(voice, segment.text)
        if rate and seg_rate != rate:
            raise TtsError(f"espeak-ng changed its sample rate ({rate} → {seg_rate}) within one prompt.")
        rate = seg_rate
        if i:
            pcm += bytes(2 * int(rate * GAP_S))
        pcm += samples
    return Speech(mp3=encode_mp3(bytes(pcm), rate), seconds=len(pcm) / 2 / rate, approximate=approximate)


def encode_mp3(pcm: bytes, rate: int) -> bytes:
    """16-bit mono PCM at ``rate`` Hz to MP3."""
    encoder = lameenc.Encoder()
    encoder.set_in_sample_rate(rate)
    encoder.set_out_sample_rate(OUT_RATE_HZ)
    encoder.set_channels(1)
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_quality(QUALITY)
    return bytes(encoder.encode(pcm) + encoder.flush())


def _binary() -> str:
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise TtsError("espeak-ng is not installed: `apt-get install espeak-ng` (make run and make test do it as "
                       "root), or record every prompt (prompts/README.md).")
    return binary


def _espeak(voice: str, text: str) -> tuple[bytes, int]:
    """16-bit mono PCM and its sample rate. The text goes on stdin, so nothing in it is read as an option."""
    done = subprocess.run([_binary(), "-v", voice, "-s", str(RATE_WPM), "--stdout"], input=text.encode("utf-8"),
                          capture_output=True, timeout=30, check=False)
    if done.returncode != 0 or len(done.stdout) < 44:
        raise TtsError(f"espeak-ng failed for voice {voice!r}: {done.stderr.decode(errors='replace')[:200]}")
    return read_wav(done.stdout)


def read_wav(data: bytes) -> tuple[bytes, int]:
    """The PCM and sample rate of a 16-bit mono WAV. espeak-ng writes to a pipe with placeholder sizes
    (0x7FFFFFFF), which the ``wave`` module believes, so the chunks are walked here and the data chunk is taken
    to the end of the bytes."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TtsError("Not a WAV file.")
    pos, rate = 12, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body:body + 16])
            if fmt != 1 or channels != 1 or bits != 16:
                raise TtsError(f"Expected 16-bit mono PCM, got format {fmt}, {channels} channel(s), {bits} bits.")
        elif chunk == b"data":
            if not rate:
                raise TtsError("WAV data before its format chunk.")
            end = min(len(data), body + size)
            return data[body:end - (end - body) % 2], rate
        pos = body + size + (size & 1)
    raise TtsError("WAV without a data chunk.")
