"""Webchat as an adapter plugin; a test registers it with `registry.register(PLUGIN)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from leavewell.bot.plugin import Adapter, AdapterContext, AdapterPlugin, Capabilities
from tests.webchat.settings import WebchatSettings


def _build(context: AdapterContext, settings: Any) -> Adapter:
    from tests.webchat.adapter import WebchatAdapter

    return WebchatAdapter(context, settings)


CAPABILITIES = Capabilities(buttons=True, threads=False, voice=False, files=False)

PLUGIN = AdapterPlugin(
    name="webchat",
    title="Webchat",
    settings=WebchatSettings,
    enabled=lambda settings: settings.listen is not None,
    build=_build,
    capabilities=CAPABILITIES,
    texts=Path(__file__).with_name("texts.yaml"),
)
