"""The dashboard's voice section: calls AT reports at their end, counted by status, with the screen a caller hung
up on and the average length (the statistics gateway.voice keeps, shown nowhere else)."""

from __future__ import annotations

from tests.console.helpers import make_user
from tests.voice.conftest import (  # noqa: F401  (fixtures: a voice app on the same Redis)
    VoiceCaller,
    voice_app,
    voice_audio,
    voice_client,
    voice_settings,
)


def test_voice_calls_on_the_dashboard(redis, console, request):
    client = request.getfixturevalue("voice_client")
    empty = console
    make_user(redis, "vic@relief.org", role="viewer")
    empty.login("vic@relief.org")
    first = empty.get("/console/").get_data(as_text=True)
    assert "No voice call in this period." in first
    assert "<title>Dashboard · " in first and first.count('id="voice-title"') == 1  # once, in the page's body
    finished = VoiceCaller(client, phone="+254711000001")
    finished.call()
    finished.hang_up(seconds=20)
    left = VoiceCaller(client, phone="+254711000002")
    left.call()
    left.press("1")  # a language: the caller is on the welcome menu when they hang up
    left.hang_up(seconds=40)
    page = console.get("/console/").get_data(as_text=True)
    assert "Voice calls, last 14 days: 2" in page
    assert "Average length 30 s; 2 hung up on a menu screen." in page  # the language menu, the welcome menu
    assert 'id="chart-voice-dropoff"' in page
