"""``gateway dial --voice`` against a real ``gateway serve``: prints each prompt, reads keys, shows where a
``<Record>`` would record, and sends the final ``isActive=0`` when the caller hangs up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from redis import Redis

from gateway.cli import main


def test_dial_voice_walks_the_spoken_menu_and_hangs_up(serve: Callable[..., str], voice_audio: Path,
                                                       redis: Redis) -> None:
    base = serve(VOICE_AUDIO_DIR=str(voice_audio))
    result = CliRunner().invoke(
        main, ["dial", "--voice", "--no-audio", "--url", base + "/voice", "--phone", "+254711000321"],
        input="1\n4\n1\n1\nmy words\n",  # English, report, abuse, leave the details, "record" something
    )
    assert result.exit_code == 0, result.output
    assert f"(plays) {base}/voice/audio/" in result.output  # the language choice, every language in one clip
    assert "(says) Welcome" in result.output
    assert "[recording would start here" in result.output
    assert "Hung up." in result.output
    assert redis.keys("stats:voice:*:status")  # the final isActive=0 request closed the call

    swahili = CliRunner().invoke(
        main, ["dial", "--voice", "--no-audio", "--url", base + "/voice", "--phone", "+254711000322"],
        input="3\n",
    )
    assert swahili.exit_code == 0, swahili.output
    after_choice = swahili.output.split("Keys:", 2)[-1]
    assert "(plays)" in after_choice and "(says)" not in after_choice  # never English text-to-speech
