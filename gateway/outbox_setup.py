"""The outbox built from the gateway's Settings: its config and its SMS provider (for workers)."""

from __future__ import annotations

from identity.keyring import Keyring
from menus.catalog import Catalog
from outbox.config import OutboxConfig
from outbox.estimate import load_prices
from outbox.provider import AfricasTalkingProvider, ConsoleProvider, Provider
from outbox.voice import AfricasTalkingVoice, ConsoleVoice, VoiceProvider

from .config import Settings


def outbox_config(settings: Settings, keyring: Keyring, catalog: Catalog | None = None) -> OutboxConfig:
    """Raises ValueError when the price table file is unusable. ``catalog``: the one the app already loaded (the
    broadcast footer's words), so it is not read twice."""
    prices = load_prices(settings.sms_price_table) if settings.sms_price_table else {"default": 0.01}
    return OutboxConfig(keyring=keyring, batch_size=settings.sms_batch_size, send_rate=settings.sms_send_rate,
                        lease_s=settings.sms_lease_s, sweep_interval_s=settings.sms_sweep_interval_s,
                        account=settings.at_username or "console", prices=prices, currency=settings.sms_currency,
                        stop_to=settings.sms_stop_number, catalog=catalog,
                        sms_per_number_per_day=settings.sms_per_number_per_day,
                        sms_single_per_day=settings.sms_single_per_day,
                        sms_replies_per_number_per_day=settings.sms_replies_per_number_per_day,
                        voice_calls=settings.at_voice_number is not None,
                        voice_calls_per_broadcast=settings.voice_calls_per_broadcast,
                        voice_call_rate=settings.voice_call_rate)


def build_provider(settings: Settings) -> Provider:
    if settings.sms_provider == "africastalking" and settings.at_username and settings.at_api_key:
        return AfricasTalkingProvider(settings.at_username, settings.at_api_key, sender_id=settings.at_sender_id,
                                      api_url=settings.at_api_url)
    return ConsoleProvider()


def build_voice(settings: Settings) -> VoiceProvider | None:
    """The alert-call provider: AT's Voice API from ``AT_VOICE_NUMBER`` when AT credentials are set (whatever
    ``SMS_PROVIDER`` says), the console without them; None (voice alerts off) without ``AT_VOICE_NUMBER``."""
    if settings.at_voice_number is None:
        return None
    if settings.at_username and settings.at_api_key:
        return AfricasTalkingVoice(settings.at_username, settings.at_api_key, settings.at_voice_number,
                                   api_url=settings.at_voice_api_url)
    return ConsoleVoice()
