"""Run the real bot (PTB Application, core, SQLite) against the fake Telegram server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_telegram import FakeTelegram, FakeUser, SentMessage
from tests.support.running import RunningBotBase

TOKEN = "123456:TEST-token-for-the-fake-server"


class RunningBot(RunningBotBase):
    def __init__(self, tg: FakeTelegram, database: Path, **overrides: Any) -> None:
        super().__init__(database, **overrides)
        self.tg = tg

    def platform_settings(self) -> dict[str, Any]:
        return {
            "telegram_bot_token": TOKEN,
            "telegram_api_base_url": self.tg.base_url,
            "telegram_api_file_url": self.tg.file_url,
            "telegram_rate_limit": False,
        }

    async def start(self) -> None:
        task = self.launch()
        await self.tg.wait_for(lambda t: self.adapters or task.done(), 10)
        if task.done():
            task.result()
        # how the helpers below know the bot has finished with everything sent so far
        self.tg.bot_idle = lambda: all(a.idle for a in self.adapters)  # type: ignore[attr-defined]


def command() -> list[str]:
    script = Path(sys.executable).parent / "leavewell"
    return [str(script)] if script.exists() else [sys.executable, "-m", "leavewell.bot.cli"]


async def spawn(tg: FakeTelegram, database: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=tg.base_url,
        TELEGRAM_API_FILE_URL=tg.file_url,
        TELEGRAM_RATE_LIMIT="false",
        LEAVEWELL_DATABASE_URL=f"sqlite:///{database}",
        LEAVEWELL_LOG_LEVEL="INFO",
    )
    process = await asyncio.create_subprocess_exec(
        *command(), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    await tg.wait_for(lambda t: t.polling or process.returncode is not None, 30)
    assert process.returncode is None, await process.stderr.read()
    return process


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[RunningBot]:
    running = RunningBot(tg, tmp_path / "tg.db")
    await running.start()
    yield running
    with contextlib.suppress(Exception):
        await running.stop()


async def exchange(tg: FakeTelegram, user: FakeUser,
                   act: Callable[[], Any]) -> list[SentMessage]:
    """Do something as the user; return the bot's new messages once it has handled it."""
    before = len(tg.messages(user))
    act()
    await settle(tg)
    return tg.messages(user)[before:]


async def settle(tg: FakeTelegram, timeout: float = 10) -> None:
    """Wait until every pushed update is received and fully handled by the bot."""
    await tg.wait_for(lambda t: not t.pending_updates and t.bot_idle(), timeout)


def last_with_buttons(tg: FakeTelegram, user: FakeUser) -> SentMessage:
    return next(m for m in reversed(tg.messages(user)) if m.buttons)


def button(message: SentMessage, label_part: str) -> str:
    for text, data in message.buttons:
        if label_part.lower() in text.lower():
            return data
    raise AssertionError(f"no button like {label_part!r} in {message.buttons}")
