"""The provider's timeout fits in half the batch lease, so a batch is never re-driven while its first attempt may
still be with the provider; a provider without a timeout is used as it is."""

from __future__ import annotations

from outbox.config import OutboxConfig, configure, runtime
from outbox.provider import DEFAULT_TIMEOUT_S, AfricasTalkingProvider, ConsoleProvider
from tests.conftest import TEST_KEYRING


def test_provider_timeout_fits_in_half_the_lease(outbox_runtime):
    at = AfricasTalkingProvider("u", "k")
    assert at.timeout_s == sum(DEFAULT_TIMEOUT_S)
    configure(at, OutboxConfig(keyring=TEST_KEYRING, lease_s=5))  # the crash drills' lease
    assert runtime().provider.timeout_s <= 2.5 + 1e-9
    configure(at, OutboxConfig(keyring=TEST_KEYRING, lease_s=60))
    assert runtime().provider is at
    console = ConsoleProvider()
    configure(console, OutboxConfig(keyring=TEST_KEYRING, lease_s=5))
    assert runtime().provider is console
