"""Which platform adapters exist: installed ones (the `leavewell.adapters` entry point
group) and any registered in this process (a test's loopback adapter, say)."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from leavewell.bot.plugin import AdapterPlugin

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "leavewell.adapters"

_registered: dict[str, AdapterPlugin] = {}


def register(plugin: AdapterPlugin) -> None:
    """Make a plugin available in this process (it wins over an installed one)."""
    _registered[plugin.name] = plugin


def unregister(name: str) -> None:
    _registered.pop(name, None)


def plugins() -> dict[str, AdapterPlugin]:
    """Every available plugin by name, installed ones first, in name order."""
    found: dict[str, AdapterPlugin] = {}
    for entry in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            plugin = entry.load()
        except Exception:  # a broken third-party plugin must not stop the others
            log.exception("adapter plugin %s could not be loaded", entry.name)
            continue
        if not isinstance(plugin, AdapterPlugin) or plugin.name != entry.name:
            log.error("entry point %s is not an AdapterPlugin named %s", entry.value,
                      entry.name)
            continue
        found[plugin.name] = plugin
    found.update(_registered)
    return found
