"""Two replicas of the bot share one store and one (fake) Discord through discord.py's
own sharding: DISCORD_SHARD_COUNT=2, one shard each. Discord sends a server's events to
shard (guild_id >> 22) % 2 and DMs to shard 0, so each interview is served by the replica
that holds its shard, and every interaction is acknowledged there within 3 s."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import pytest

from leavewell.storage import open_store
from tests.discord.conftest import TOKEN, Driver, RunningBot, button
from tests.discord.test_e2e import (
    ANSWER_EN,
    ANSWER_ZH,
    FOLLOW_EN,
    FOLLOW_ZH,
    all_acked_in_time,
    interview,
    no_errors,
    nothing_pings,
)
from tests.support.fake_discord import FakeDiscord, FakeInteraction, StoredMessage
from tests.support.postgres import fresh_database

SHARDS = 2
# (guild_id >> 22) % 2: the first server's events go to shard 0, the second's to shard 1.
GUILDS = {0: (40 << 22) | 123, 1: (41 << 22) | 123}
CHANNELS = {0: 8100, 1: 8200}  # each server's #practice
REPLICA_HEADER = "X-Test-Replica"
CLAIM_LEASE = 2.0
SIGNATURE: ContextVar[str | None] = ContextVar("replica", default=None)
STALE_BUTTON = ("belongs to an earlier question", "这个按钮属于之前的问题")


@pytest.fixture(autouse=True)
def signed_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request of a replica's HTTP client (interaction callbacks included) carries
    the replica's shard, so the fake's records show who acknowledged what."""
    from discord.http import HTTPClient

    login = HTTPClient.static_login

    async def signed(self: HTTPClient, token: str) -> Any:
        user = await login(self, token)
        signature = SIGNATURE.get()
        if signature is not None:
            self._HTTPClient__session.headers[REPLICA_HEADER] = signature  # type: ignore
        return user

    monkeypatch.setattr(HTTPClient, "static_login", signed)


class Replica(RunningBot):
    """One replica: its own process state (core, intake, discord.py client), the shared
    store, and one shard of two."""

    def __init__(self, dc: FakeDiscord, database_url: str, shard: int) -> None:
        # On PostgreSQL a dead replica's claimed replies are taken over once their lease
        # runs out: 2 s here instead of 30.
        super().__init__(dc, Path("unused.db"), database_url=database_url,
                         discord_shard_count=str(SHARDS), discord_shard_ids=str(shard),
                         claim_lease_seconds=CLAIM_LEASE)
        self.shard = shard

    async def start(self) -> None:
        task = self.launch()
        await self.dc.wait_for(lambda: (self.shard in self.dc.connected_shards()
                                        and self.adapters) or task.done(), 15,
                               f"replica of shard {self.shard} to connect")
        if task.done():
            task.result()

    def launch(self) -> asyncio.Task[int]:
        # The replica's tasks (its HTTP client's login among them) inherit the context.
        token = SIGNATURE.set(str(self.shard))
        try:
            return super().launch()
        finally:
            SIGNATURE.reset(token)

    async def crash(self) -> None:
        """Abruptly: the discord.py client is closed under the running adapter (its
        gateway sessions and HTTP session go at once; replies in flight fail and stay
        unsent in the store), then the replica's task is cancelled."""
        assert self.task is not None
        await self.adapters[0].client.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self.task, 15)
        self.task = None


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path
                       ) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    async with fresh_database() as url:
        yield url


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(token=TOKEN, shards=SHARDS) as fake:
        fake.install()
        for shard, gid in GUILDS.items():
            fake.add_guild(gid, f"Club {shard}", channels=[
                {"id": CHANNELS[shard], "name": "practice"}])
        yield fake


@pytest.fixture
async def replicas(dc: FakeDiscord, database_url: str) -> AsyncIterator[list[Replica]]:
    started: list[Replica] = []
    try:
        for shard in range(SHARDS):
            replica = Replica(dc, database_url, shard)
            await replica.start()
            started.append(replica)
        yield started
    finally:
        for replica in started:
            with contextlib.suppress(Exception):
                await replica.stop()


class ShardDriver(Driver):
    """A member of one server; /practice in that server's channel."""

    def __init__(self, dc: FakeDiscord, user_id: int, shard: int, lang: str) -> None:
        user = dc.add_member(GUILDS[shard], dc.user(user_id, f"user{user_id}", lang))
        super().__init__(dc, user)
        self.shard = shard
        self.lang = lang

    async def practice_on_server(self, options: dict[str, Any] | None = None,
                                 channel_id: int | None = None) -> list[StoredMessage]:
        return await super().practice_on_server(options, channel_id or CHANNELS[self.shard])

    async def play(self) -> str:
        zh = self.lang == "zh-CN"
        return await interview(self, ANSWER_ZH if zh else ANSWER_EN,
                               situation="裁员" if zh else "laid off",
                               follow=FOLLOW_ZH if zh else FOLLOW_EN)


def crowd(dc: FakeDiscord, per_shard: int) -> list[ShardDriver]:
    return [ShardDriver(dc, 3000 + 10 * shard + n, shard, "zh-CN" if n % 2 else "en-US")
            for shard in range(SHARDS) for n in range(per_shard)]


def carried_by(dc: FakeDiscord, ix: FakeInteraction) -> list[int]:
    """The shards whose gateway sessions the interaction was dispatched on."""
    return [session.shard_id for session in dc.past_sessions
            if any(f["t"] == "INTERACTION_CREATE" and f["d"]["id"] == str(ix.id)
                   for f in session.log)]


def acked_by(dc: FakeDiscord, ix: FakeInteraction) -> list[int]:
    """The replicas (by shard) whose acknowledgement of the interaction Discord took."""
    return [int(r.headers.get(REPLICA_HEADER, -1))
            for r in dc.requests_to("POST", rf"/interactions/{ix.id}/[^/]+/callback")
            if r.status < 300]


def doubled(messages: list[StoredMessage]) -> list[str]:
    """A reply sent twice: the same text as one of the three before it (except the
    question asked again right after "that button belongs to an earlier question")."""
    texts = [m.content for m in messages]
    return [t for i, t in enumerate(texts) if t and t in texts[max(0, i - 3):i]
            and not (i and any(s in texts[i - 1] for s in STALE_BUTTON))]


def each_served_by_its_shard(dc: FakeDiscord, users: list[ShardDriver]) -> None:
    for user in users:
        for ix in user.interactions:
            assert carried_by(dc, ix) == [user.shard]
            assert acked_by(dc, ix) == [user.shard], (user.user.name, ix.payload["data"])


async def test_two_replicas_one_shard_each_serve_whole_interviews(
        dc: FakeDiscord, replicas: list[Replica]) -> None:
    users = crowd(dc, per_shard=3)
    feedback = await asyncio.gather(*(u.play() for u in users))
    assert all("/100" in f for f in feedback)
    assert sorted(i["shard"] for i in dc.identifies) == [[0, 2], [1, 2]]
    assert dc.connected_shards() == {0, 1}
    each_served_by_its_shard(dc, users)
    for user in users:
        thread = dc.channels[user.channel or 0]
        assert thread["type"] == 12 and int(thread["guild_id"]) == GUILDS[user.shard]
        assert [m.content.count("/100") for m in user.messages()].count(1) == 1
        assert doubled(user.messages()) == [], user.user.name
    all_acked_in_time(dc)
    nothing_pings(dc)
    no_errors(dc)


async def test_a_dm_interview_is_served_by_shard_0(
        dc: FakeDiscord, replicas: list[Replica]) -> None:
    li = Driver(dc, dc.user(3900, "li", "zh-CN"))
    feedback = await interview(li, ANSWER_ZH, situation="裁员", follow=FOLLOW_ZH, in_dm=True)
    assert "/100" in feedback
    assert li.interactions and all(carried_by(dc, ix) == [0] for ix in li.interactions)
    assert all(acked_by(dc, ix) == [0] for ix in li.interactions)
    assert doubled(li.messages()) == []
    all_acked_in_time(dc)
    no_errors(dc)


class Patient(ShardDriver):
    """A user who, when the bot does not react ("This interaction failed"), presses or
    runs the command again a little later, as people do; typed messages are never
    repeated (they stay in the channel for the bot to read back)."""

    timeout = 30.0

    async def slash(self, name: str, options: dict[str, Any] | None = None, *,
                    channel_id: int | None = None) -> FakeInteraction:
        return await self._until_acked(lambda: self.dc.slash_command(
            self.user, name, options, channel_id=channel_id))

    async def press(self, label_part: str, message: StoredMessage | None = None
                    ) -> list[StoredMessage]:
        message = message or self.last_with_buttons()
        custom_id = button(message, label_part)
        before = len(self.messages())
        await self._until_acked(lambda: self.dc.click(self.user, message, custom_id))
        return await self.settle(before)

    async def _until_acked(self, act: Callable[[], Any]) -> FakeInteraction:
        for _ in range(20):
            ix: FakeInteraction = await act()
            self.interactions.append(ix)
            with contextlib.suppress(AssertionError):
                return await self.dc.wait_acked(ix, timeout=self.dc.ack_window + 0.5)
            self.gave_up.append(ix)
        raise AssertionError(f"{self.user.name}: nobody acknowledged for a long time")

    @property
    def gave_up(self) -> list[FakeInteraction]:
        return self.__dict__.setdefault("_gave_up", [])


# The interactions each user has had when shard 1's replica dies: /practice and a press
# (pressing the setup buttons), or /practice and all three presses (typing answers).
CRASH_AFTER = {"pressing": 2, "answering": 4}


@pytest.mark.parametrize("phase", list(CRASH_AFTER))
async def test_a_replica_crashes_mid_run_and_comes_back(
        dc: FakeDiscord, replicas: list[Replica], database_url: str, phase: str) -> None:
    # One more user of shard 1 is asked for their role, and answers while it is down.
    waiting = ShardDriver(dc, 3590, 1, "en-US")
    await waiting.practice_on_server()
    users = [Patient(dc, 3500 + 10 * shard + n, shard, "zh-CN" if n % 2 else "en-US")
             for shard in range(SHARDS) for n in range(3)]
    plays = [asyncio.create_task(u.play()) for u in users]
    odd = replicas[1]
    # Once everyone is that far, shard 1's replica dies without a goodbye.
    await dc.wait_for(lambda: all(len(u.interactions) >= CRASH_AFTER[phase] for u in users),
                      30, f"every interview {phase}")
    await odd.crash()
    assert dc.connected_shards() == {0}
    dead, seen = dc.sessions[1], len(dc.sessions[1].log)
    asked = len(waiting.messages())
    assert waiting.channel is not None
    typed = await dc.message_create(waiting.channel, waiting.user, "Data analyst")
    await asyncio.sleep(1.5)  # shard 1's users keep typing and pressing meanwhile
    await odd.start()
    # the answer typed while shard 1 was down reached no one, and is read back
    assert any(f["t"] == "MESSAGE_CREATE" and f["d"]["id"] == str(typed.id)
               for f in dead.log[seen:])
    replies = await waiting.settle(asked)
    assert any("company" in m.content for m in replies) and doubled(waiting.messages()) == []
    feedback = await asyncio.wait_for(asyncio.gather(*plays), 90)
    assert all("/100" in f for f in feedback)
    assert len([i for i in dc.identifies if i["shard"] == [1, 2]]) == 2
    for user in users:
        answered = [ix for ix in user.interactions if ix not in user.gave_up]
        for ix in answered:  # acknowledged by the replica holding the shard, in time
            assert carried_by(dc, ix) == [user.shard] and ix.ack_latency is not None
            assert ix.ack_latency < dc.ack_window and not ix.late
            assert acked_by(dc, ix) == [user.shard]
        assert [m.content.count("/100") for m in user.messages()].count(1) == 1
        assert doubled(user.messages()) == [], (user.user.name,
                                                [m.content[:60] for m in user.messages()])
    # shard 0's users never noticed
    assert not any(u.gave_up for u in users if u.shard == 0)
    nothing_pings(dc)
    store = await open_store(database_url)
    try:
        assert await store.pending_outbox(100) == []  # every reply went out
    finally:
        await store.close()


async def test_each_replica_reads_back_only_its_own_shards_conversations(
        dc: FakeDiscord, replicas: list[Replica]) -> None:
    """Discord does not re-send what a shard missed: at READY a replica reads back the
    open interviews whose events its shards carry, and leaves the rest to their own."""
    even, odd = ShardDriver(dc, 3700, 0, "en-US"), ShardDriver(dc, 3710, 1, "en-US")
    dm = Driver(dc, dc.user(3790, "dm-user"))
    dm.channel = dc.dm_channel(dm.user)
    await asyncio.gather(even.practice_on_server(), odd.practice_on_server(),
                         dm.command("practice"))
    for replica in replicas:
        await replica.stop()
    asked = {u: len(u.messages()) for u in (even, odd, dm)}
    for user in (even, odd, dm):  # the role, typed while no replica is connected
        assert user.channel is not None
        await dc.message_create(user.channel, user.user, "Data analyst")
    await replicas[1].start()
    await odd.settle(asked[odd])
    await asyncio.sleep(0.3)
    assert len(even.messages()) == asked[even] and len(dm.messages()) == asked[dm]

    def history_reads(user: Driver) -> list[int]:
        return [int(r.headers.get(REPLICA_HEADER, -1)) for r in dc.requests_to(
            "GET", rf"/channels/{user.channel}/messages")]

    assert history_reads(odd) == [1] and history_reads(even) == history_reads(dm) == []
    await replicas[0].start()
    await even.settle(asked[even])
    await dm.settle(asked[dm])
    assert history_reads(even) == history_reads(dm) == [0] and history_reads(odd) == [1]
    for user in (even, odd, dm):
        assert any("company" in m.content for m in user.messages()[asked[user]:])
        assert doubled(user.messages()) == []
    no_errors(dc)
