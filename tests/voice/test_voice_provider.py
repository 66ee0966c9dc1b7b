"""The Voice API provider: the official SDK's ``Voice.call`` against the local AT-compatible voice server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from outbox.errors import ProviderAuthError, ProviderUnavailable
from outbox.voice import AfricasTalkingVoice
from tests.at_voice_server import ATVoiceServer


@pytest.fixture
def voice_server() -> Iterator[ATVoiceServer]:
    server = ATVoiceServer().start()
    yield server
    server.stop()


def test_calls_are_placed_from_our_number_and_refusals_come_back_per_number(voice_server: ATVoiceServer) -> None:
    voice_server.unreachable.add("+254711000009")
    provider = AfricasTalkingVoice("testuser", "key", "+254711082000", api_url=voice_server.url, timeout=(1, 2))
    results = provider.call(["+254711000001", "+254711000009"])
    assert [(r.phone, r.accepted) for r in results] == [("+254711000001", True), ("+254711000009", False)]
    assert results[0].session_id and results[0].session_id.startswith("ATVId_")
    assert results[1].status == "InvalidPhoneNumber" and results[1].session_id is None
    assert [(c.caller_id, c.phone) for c in voice_server.calls] == [("+254711082000", "+254711000001")]


def test_errors_are_translated_at_one_boundary(voice_server: ATVoiceServer) -> None:
    provider = AfricasTalkingVoice("testuser", "key", "+254711082000", api_url=voice_server.url, timeout=(1, 2))
    voice_server.fail_next = 1
    with pytest.raises(ProviderUnavailable):
        provider.call(["+254711000001"])
    with pytest.raises(ProviderAuthError):
        AfricasTalkingVoice("testuser", "", "+254711082000", api_url=voice_server.url).call(["+254711000001"])
    with pytest.raises(ProviderUnavailable):
        AfricasTalkingVoice("u", "k", "+254711082000", api_url="http://127.0.0.1:9", timeout=(0.5, 0.5)).call(
            ["+254711000001"])
