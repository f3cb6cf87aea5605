"""Run the real bot (discord.py client, core, SQLite) against the fake Discord server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_discord import (
    P_ALL,
    FakeDiscord,
    FakeInteraction,
    FakeUser,
    StoredMessage,
)
from tests.support.running import RunningBotBase

TOKEN = "discord-test-token"
GUILD, GENERAL, QUIET = 7000, 7001, 7002
MANAGE_GUILD = 1 << 5


class RunningBot(RunningBotBase):
    def __init__(self, dc: FakeDiscord, database: Path, **overrides: Any) -> None:
        super().__init__(database, **overrides)
        self.dc = dc

    def platform_settings(self) -> dict[str, Any]:
        return {
            "discord_bot_token": TOKEN,
            "discord_api_base_url": self.dc.api_base,
            "discord_gateway_url": self.dc.gateway_url,
        }

    async def start(self) -> None:
        identifies = len(self.dc.identifies)
        task = self.launch()
        await self.dc.wait_for(lambda: (len(self.dc.identifies) > identifies
                                        and self.dc.client_ready
                                        and self.dc.requests_to("PUT", r".*/commands"))
                               or task.done(), 10, "the bot to connect")
        if task.done():
            task.result()


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN) as fake:
        fake.install()  # restores discord.py's class-level targets afterwards
        yield fake


@pytest.fixture
def admin(dc: FakeDiscord) -> FakeUser:
    return dc.user(5000, "admin")


@pytest.fixture
def guild(dc: FakeDiscord, admin: FakeUser) -> dict[str, Any]:
    admin_role = {"id": 7900, "name": "mods", "permissions": str(P_ALL)}
    return dc.add_guild(GUILD, "Career Club", channels=[
        {"id": GENERAL, "name": "practice"}, {"id": QUIET, "name": "quiet"}],
        members=[(admin, [7900])], roles=[admin_role])


@pytest.fixture
async def bot(dc: FakeDiscord, guild: dict[str, Any], tmp_path: Path
              ) -> AsyncIterator[RunningBot]:
    running = RunningBot(dc, tmp_path / "dc.db")
    await running.start()
    yield running
    with contextlib.suppress(Exception):
        await running.stop()


def member(dc: FakeDiscord, user_id: int, name: str, locale: str = "en-US") -> FakeUser:
    """A user who is a member of the test guild (added after start-up is fine)."""
    user = dc.user(user_id, name, locale)
    dc.guilds[GUILD]["members"][user.id] = {"roles": [], "nick": None,
                                            "joined_at": "2024-01-01T00:00:00+00:00"}
    return user


class Driver:
    """Plays one user: waits for the bot to finish each step before the next."""

    timeout = 10.0  # seconds to wait for a reply

    def __init__(self, dc: FakeDiscord, user: FakeUser, channel: int | None = None) -> None:
        self.dc = dc
        self.user = user
        self.channel = channel  # the thread or DM the interview runs in
        self.interactions: list[FakeInteraction] = []

    def messages(self) -> list[StoredMessage]:
        assert self.channel is not None
        return [m for m in self.dc.sent_messages(self.channel) if not m.ephemeral]

    async def settle(self, before: int, timeout: float | None = None) -> list[StoredMessage]:
        """Wait until the bot's replies stop coming; return the new ones."""
        await self.dc.wait_for(lambda: len(self.messages()) > before, timeout or self.timeout,
                               f"a reply for {self.user.name}")
        seen = -1
        while seen != len(self.messages()):
            seen = len(self.messages())
            await asyncio.sleep(0.05)
        return self.messages()[before:]

    async def slash(self, name: str, options: dict[str, Any] | None = None, *,
                    channel_id: int | None = None) -> FakeInteraction:
        ix = await self.dc.slash_command(self.user, name, options, channel_id=channel_id)
        self.interactions.append(ix)
        await self.dc.wait_acked(ix)
        return ix

    async def practice_on_server(self, options: dict[str, Any] | None = None,
                                 channel_id: int = GENERAL) -> list[StoredMessage]:
        ix = await self.slash("practice", options, channel_id=channel_id)
        await self.dc.wait_for(lambda: any(r["kind"] != "callback" for r in ix.responses), 10,
                               "the ephemeral pointer to the private place")
        new_threads = [cid for cid, ch in self.dc.channels.items() if ch["type"] == 12
                       and self.user.id in self.dc.thread_members.get(cid, set())]
        self.channel = max(new_threads) if new_threads else self.dc.dm_channel(self.user)
        return await self.settle(0)

    async def command(self, name: str, options: dict[str, Any] | None = None
                      ) -> list[StoredMessage]:
        before = len(self.messages())
        await self.slash(name, options, channel_id=self.channel)
        return await self.settle(before)

    async def say(self, text: str, **kwargs: Any) -> list[StoredMessage]:
        assert self.channel is not None
        before = len(self.messages())
        await self.dc.message_create(self.channel, self.user, text, **kwargs)
        return await self.settle(before)

    def last_with_buttons(self) -> StoredMessage:
        return next(m for m in reversed(self.messages()) if m.custom_ids)

    async def press(self, label_part: str, message: StoredMessage | None = None
                    ) -> list[StoredMessage]:
        message = message or self.last_with_buttons()
        custom_id = button(message, label_part)
        before = len(self.messages())
        ix = await self.dc.click(self.user, message, custom_id)
        self.interactions.append(ix)
        await self.dc.wait_acked(ix)
        return await self.settle(before)


def button(message: StoredMessage, label_part: str) -> str:
    for item in message.items:
        if label_part.lower() in (item.get("label") or "").lower():
            return str(item["custom_id"])
    raise AssertionError(f"no button like {label_part!r} in "
                         f"{[i.get('label') for i in message.items]}")
