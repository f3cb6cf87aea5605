"""The bot, in the test's event loop, against a fake platform: start, stop, restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from leavewell.bot.app import run_platforms
from leavewell.bot.settings import Settings, load_settings
from leavewell.bot.voice import Transcriber


class RunningBotBase:
    """`restart` is stop + start on the same database; subclasses say how to reach
    their fake platform and how to tell that the bot is up."""

    def __init__(self, database: Path, **overrides: Any) -> None:
        self.database = database
        # A speech-to-text stand-in (bot.voice.Transcriber) for voice answers; without one
        # no engine is loaded, even where the voice extra happens to be installed.
        self.transcriber: Transcriber | None = overrides.pop("transcriber", None)
        self.overrides = overrides
        self.task: asyncio.Task[int] | None = None
        self.stop_event = asyncio.Event()
        self.adapters: list[Any] = []

    def platform_settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def settings(self) -> Settings:
        values = {"voice_transcription": False, **self.platform_settings(),
                  "database_url": f"sqlite:///{self.database}"}
        values.update(self.overrides)
        return load_settings(values)

    def launch(self) -> asyncio.Task[int]:
        self.stop_event = asyncio.Event()
        self.adapters = []
        self.task = asyncio.create_task(
            run_platforms(self.settings(), self.stop_event, self.adapters, self.transcriber))
        return self.task

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        if self.task is not None:
            self.stop_event.set()
            await asyncio.wait_for(self.task, 15)
            self.task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()
