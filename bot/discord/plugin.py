"""Discord as an adapter plugin. Importing this module does not import the SDK
(discord.py, the `discord` extra): only building the adapter does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leavewell.bot.discord.settings import DiscordSettings
from leavewell.bot.plugin import Adapter, AdapterContext, AdapterPlugin, Capabilities


def _build(context: AdapterContext, settings: Any) -> Adapter:
    from leavewell.bot.discord.adapter import DiscordAdapter

    return DiscordAdapter(context, settings)


PLUGIN = AdapterPlugin(
    name="discord",
    title="Discord",
    settings=DiscordSettings,
    enabled=lambda settings: settings.bot_token is not None,
    build=_build,
    capabilities=Capabilities(buttons=True, threads=True, voice=True, files=True),
    secrets=lambda settings: settings.secrets(),
    extra="discord",
    texts=Path(__file__).with_name("texts.yaml"),
)
