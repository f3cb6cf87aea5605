"""Telegram as an adapter plugin. Importing this module does not import the SDK
(python-telegram-bot, the `telegram` extra): only building the adapter does."""

from __future__ import annotations

from typing import Any

from leavewell.bot.plugin import Adapter, AdapterContext, AdapterPlugin, Capabilities
from leavewell.bot.telegram.settings import TelegramSettings


def _build(context: AdapterContext, settings: Any) -> Adapter:
    from leavewell.bot.telegram.adapter import TelegramAdapter

    return TelegramAdapter(context, settings)


PLUGIN = AdapterPlugin(
    name="telegram",
    title="Telegram",
    settings=TelegramSettings,
    enabled=lambda settings: settings.bot_token is not None,
    build=_build,
    capabilities=Capabilities(buttons=True, threads=True, voice=True, files=True),
    secrets=lambda settings: settings.secrets(),
    extra="telegram",
)
