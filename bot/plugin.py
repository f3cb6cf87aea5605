"""The contract between the core and a platform adapter.

An adapter translates a platform's updates into `Incoming` events (handing them to the
core's intake), renders and sends the core's outbox rows, and answers whatever the
platform demands within its deadline. It holds no dialog logic and never touches
storage: what it needs to know from the core it asks through `AdapterContext`.

A platform is an `AdapterPlugin`, found in the registry (`leavewell.bot.registry`):
installed packages declare theirs under the `leavewell.adapters` entry point group, and
tests may register one directly. Importing a plugin must not import its platform's SDK
(an extra such as `leavewell[telegram]`), so that a missing SDK is a clear message when
its token is set, and nothing at all when it is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic_settings import BaseSettings

if TYPE_CHECKING:
    from leavewell.bot.core import Core
    from leavewell.bot.delivery import Sender
    from leavewell.bot.intake import Intake
    from leavewell.bot.voice import Listener
    from leavewell.dialogs.render import Renderer


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a platform can show. The dialog and the core stay the same everywhere; an
    adapter uses its own flags to render what its platform lacks (numbered choices to
    type, a file named in words), and `leavewell check` lists them per adapter."""

    buttons: bool = False  # choices as buttons (else numbered lines to type)
    threads: bool = False  # a private place per user inside a shared space
    voice: bool = False  # spoken answers arrive as audio to transcribe
    files: bool = False  # attachments (the export, charts, round reports)


class Adapter(Protocol):
    async def start(self) -> None:
        """Connect, register the sender, replay the intake's kept updates, serve."""
        ...

    async def stop(self) -> None:
        """Stop taking updates, let the ones in hand finish, disconnect."""
        ...

    @property
    def idle(self) -> bool:
        """Nothing received is still being handled (for harnesses and shutdown)."""
        ...


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the core offers an adapter."""

    core: Core  # the queries an adapter may make: export_user, open_conversations ...
    intake: Intake
    renderer: Renderer
    default_lang: str
    listener: Listener | None = None  # transcribes voice answers, when installed

    def register_sender(self, platform: str, sender: Sender) -> None:
        self.core.register_sender(platform, sender)


@dataclass(frozen=True, slots=True)
class AdapterPlugin:
    name: str  # the platform id in conversation keys and event ids, e.g. "telegram"
    title: str  # for people: "Telegram"
    settings: type[BaseSettings]  # the adapter's own settings, from the environment
    enabled: Callable[[Any], bool]  # whether these settings ask for it (a token is set)
    build: Callable[[AdapterContext, Any], Adapter]  # imports the SDK; may raise ImportError
    capabilities: Capabilities
    secrets: Callable[[Any], list[str]] = lambda settings: []  # never to appear in logs
    extra: str | None = None  # the pip extra that installs the SDK: leavewell[<extra>]
    texts: Path | None = None  # the adapter's own message texts (YAML, en and zh)
