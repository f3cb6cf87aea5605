"""Run the real bot (run_platforms, core, SQLite) with the webchat plugin registered, and
talk to it over HTTP like a browser would."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from leavewell.bot import registry
from tests.support.running import RunningBotBase
from tests.webchat.adapter import WebchatAdapter
from tests.webchat.plugin import PLUGIN


class RunningWebchat(RunningBotBase):
    def platform_settings(self) -> dict[str, Any]:
        return {"webchat_listen": "127.0.0.1:0"}

    async def start(self) -> None:
        task = self.launch()
        for _ in range(1000):
            if self.adapters or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
        assert self.adapters, "the bot did not start in 10 s"

    @property
    def adapter(self) -> WebchatAdapter:
        return next(a for a in self.adapters if isinstance(a, WebchatAdapter))

    @property
    def url(self) -> str:
        return self.adapter.url

    async def settle(self, timeout: float = 10) -> None:
        """Until everything posted so far is handled and its replies are sent."""
        for _ in range(int(timeout / 0.01)):
            if self.adapter.idle:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the bot is still busy")


class Person:
    """One user of the webchat: posts messages, reads the inbox."""

    _ids = itertools.count(1)

    def __init__(self, bot: RunningWebchat, http: aiohttp.ClientSession, user: str,
                 lang: str | None = None) -> None:
        self.bot = bot
        self.http = http
        self.user = user
        self.lang = lang
        self.seen = 0  # the last inbox seq read

    def next_id(self) -> str:
        return f"m{next(self._ids)}"

    async def post(self, body: Any = None, *, raw: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        data = raw if raw is not None else None
        async with self.http.post(f"{self.bot.url}/messages", json=body if raw is None
                                  else None, data=data, headers=headers) as response:
            return response.status, await response.json()

    async def send(self, message_id: str | None = None, **fields: str) -> list[dict[str, Any]]:
        """Post text=... or choice=...; the bot's new messages once it has handled it."""
        body: dict[str, Any] = {"user": self.user, "id": message_id or self.next_id(),
                                **fields}
        if self.lang is not None:
            body["lang"] = self.lang
        status, answer = await self.post(body)
        assert status == 202, answer
        await self.bot.settle()
        return await self.new()

    async def say(self, text: str) -> list[dict[str, Any]]:
        return await self.send(text=text)

    async def press(self, choice: str) -> list[dict[str, Any]]:
        return await self.send(choice=choice)

    async def inbox(self, after: int = 0) -> list[dict[str, Any]]:
        async with self.http.get(f"{self.bot.url}/inbox/{self.user}",
                                 params={"after": str(after)}) as response:
            assert response.status == 200
            return list((await response.json())["messages"])

    async def new(self) -> list[dict[str, Any]]:
        messages = await self.inbox(self.seen)
        if messages:
            self.seen = messages[-1]["seq"]
        return messages


@pytest.fixture
def webchat_plugin() -> Any:
    registry.register(PLUGIN)
    yield PLUGIN
    registry.unregister(PLUGIN.name)


@pytest.fixture
async def bot(webchat_plugin: Any, tmp_path: Path) -> AsyncIterator[RunningWebchat]:
    running = RunningWebchat(tmp_path / "webchat.db")
    await running.start()
    yield running
    with contextlib.suppress(Exception):
        await running.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
