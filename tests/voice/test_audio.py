"""The audio pipeline: built once, rebuilt only where text changed, recorded prompts first, served by hash."""

from __future__ import annotations

import json
from pathlib import Path

import miniaudio
from flask.testing import FlaskClient
from redis import Redis

from gateway.voice.audio import AudioLibrary, Prompt, build
from gateway.voice.tts import Segment, encode_mp3, synthesise


def _prompt(pid: str, lang: str, text: str) -> Prompt:
    return Prompt(pid, lang, (Segment(lang, text),))


def test_synthesised_speech_is_real_mp3_of_the_right_length() -> None:
    speech = synthesise([Segment("sw", "Karibu. Kwa msaada wa dharura, bonyeza 1.")])
    decoded = miniaudio.decode(speech.mp3, nchannels=1)
    assert 1.5 < decoded.duration < 8 and abs(decoded.duration - speech.seconds) < 0.3
    assert not speech.approximate
    assert synthesise([Segment("tl", "Para sa tulong, pindutin ang 1.")]).approximate  # no Tagalog voice


def test_build_reuses_unchanged_prompts_and_prefers_recordings(tmp_path: Path) -> None:
    out, recorded = tmp_path / "audio", tmp_path / "prompts"
    prompts = [_prompt("a.one", "fr", "Bonjour."), _prompt("a.two", "sw", "Habari.")]
    first = build(out, prompts, recorded)
    assert (first.built, first.reused, first.recorded) == (2, 0, 0)
    assert build(out, prompts, recorded).reused == 2

    (recorded / "sw").mkdir(parents=True)
    human = encode_mp3(bytes(16000 * 2), 16000)  # one second of a person saying nothing at all
    (recorded / "sw" / "a.two.mp3").write_bytes(human)
    changed = [_prompt("a.one", "fr", "Bonsoir."), prompts[1]]
    third = build(out, changed, recorded)
    assert (third.built, third.recorded) == (1, 1)
    manifest = json.loads((out / "manifest.json").read_text())
    files = {entry["prompt"]: entry["file"] for entry in manifest["clips"].values()}
    assert (out / files["a.two"]).read_bytes() == human
    # Only files the manifest names are left: the old "Bonjour." is gone.
    assert sorted(p.name for p in out.glob("*.mp3")) == sorted(files.values())


def test_clips_are_served_by_content_hash_and_cached_forever(voice_client: FlaskClient, voice_audio: Path) -> None:
    manifest = json.loads((voice_audio / "manifest.json").read_text())
    name = next(iter(manifest["clips"].values()))["file"]
    response = voice_client.get(f"/voice/audio/{name}")
    assert response.status_code == 200 and response.mimetype == "audio/mpeg"
    assert "immutable" in response.headers["Cache-Control"]
    for bad in ("nope.mp3", "..%2Fmanifest.json", "manifest.json", name.replace(".mp3", ".wav")):
        assert voice_client.get(f"/voice/audio/{bad}").status_code == 404


def test_text_known_only_during_a_call_is_made_once_and_kept_in_redis(redis: Redis, tmp_path: Path) -> None:
    library = AudioLibrary(tmp_path, redis, b"k" * 32)
    segments = (Segment("sw", "Polisi: 9 9 9."),)
    name = library.name_for(segments)
    assert library.name_for(segments) == name
    assert len(redis.keys("voice:audio:*")) == 1
    # Personal text (a balance) must not linger: minutes after its last use, not a day.
    assert 0 < redis.ttl(redis.keys("voice:audio:*")[0]) <= 15 * 60
    found = library.read(name)
    assert found is not None and found[1] == "audio/mpeg"
    # The name is keyed: another installation (another secret) names the same text differently.
    assert AudioLibrary(tmp_path, redis, b"j" * 32).name_for(segments) != name


def test_a_build_finished_while_the_server_runs_is_used_without_a_restart(tmp_path: Path) -> None:
    from gateway.voice import audio

    library = AudioLibrary(tmp_path)  # started before any build: nothing to play
    segments = (Segment("sw", "Karibu."),)
    assert library.static_name(segments) is None
    build(tmp_path, [Prompt("welcome.test", "sw", segments)])
    library._checked_at -= audio.RELOAD_CHECK_S  # a second later
    name = library.static_name(segments)
    assert name is not None and library.read(name) is not None
