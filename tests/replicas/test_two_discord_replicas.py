"""Two `leavewell` processes on one PostgreSQL database, one Discord shard each
(DISCORD_SHARD_COUNT=2, DISCORD_SHARD_IDS=0 / 1), against the fake Discord: many users in
servers of both shards play whole interviews (/practice, buttons, typed answers), the
process of shard 1 is killed (SIGKILL) about a third of the way through and restarted.

What must hold (README, "Durability"; deploy/RUNBOOK.md, replicas): every user reaches
the feedback; every interaction is acknowledged within Discord's 3 s by the replica that
holds its shard, except those that came while shard 1 had no connection (Discord shows
"This interaction failed" and the user tries again); no turn is lost or stored twice
(a press tried again that had been taken after all is a stale button: one more turn,
answered so); a reply is sent again only if its row was in flight at the kill (read from
the database between the kill and the restart; Discord's nonce then shows it once)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.discord.conftest import TOKEN, Driver, button
from tests.discord.test_e2e import ANSWER_EN, FOLLOW_EN, nothing_pings
from tests.replicas.process import ReplicaProcess
from tests.replicas.test_two_replicas import rows
from tests.support.fake_discord import FakeDiscord, FakeInteraction, StoredMessage, shard_of
from tests.support.postgres import fresh_database

pytest.importorskip("asyncpg", reason="asyncpg is not installed (leavewell[postgres])")

USERS = int(os.environ.get("LEAVEWELL_TEST_REPLICA_USERS", "200"))
SHARDS = 2
# Eight servers, four on each shard: (guild_id >> 22) % 2.
GUILDS = [((60 + n) << 22) | 321 for n in range(8)]
STALE_BUTTON = ("belongs to an earlier question", "这个按钮属于之前的问题")
CHOICE_SHOWN = "\n\nYou chose: "  # en.yaml choice_made, as the acknowledgement appends it
PRACTICE, PRESS, SAY = "practice", "press", "say"
SETUP = [(PRACTICE, ""), (PRESS, ""), (PRESS, ""), (PRESS, "laid off"), (SAY, ANSWER_EN)]


class Replica(ReplicaProcess):
    """One bot process serving some shards, on its own port of the fake (so its
    requests, acknowledgements included, show which process made them)."""

    def __init__(self, dc: FakeDiscord, port: int, shard: int, database_url: str,
                 logs: Path) -> None:
        self.dc, self.port, self.shard = dc, port, shard
        super().__init__(
            database_url, logs,
            DISCORD_BOT_TOKEN=TOKEN, DISCORD_API_BASE_URL=dc.api_base_on(port),
            DISCORD_GATEWAY_URL=dc.gateway_url_on(port), DISCORD_SHARD_COUNT=str(SHARDS),
            DISCORD_SHARD_IDS=str(shard),
            # a share of the server's 100 connections (shared with other tests) each
            LEAVEWELL_DATABASE_POOL_MAX="6", LEAVEWELL_DATABASE_LOCK_POOL_MAX="6",
            LEAVEWELL_VOICE_TRANSCRIPTION="false")

    def identified(self) -> int:
        return sum(i.get("shard") == [self.shard, SHARDS] for i in self.dc.identifies)

    async def start(self) -> None:
        before = self.identified()
        process = await self.spawn()
        # up once its shard has a new live session (READY: it reads its open interviews back)
        await self.dc.wait_for(lambda: (self.identified() > before
                                        and self.shard in self.dc.connected_shards())
                               or process.returncode is not None, 60,
                               f"the replica of shard {self.shard}")
        assert process.returncode is None, self.logs.read_text()[-3000:]


def stale(message: StoredMessage) -> bool:
    return any(s in message.content for s in STALE_BUTTON)


def shown(messages: list[StoredMessage]) -> list[str]:
    """The bot's messages in an interview, each once: no empty "thinking" placeholder, no
    "that button belongs to an earlier question" nor the question asked again after it,
    and no message equal to one of the three before it (a reply sent twice)."""
    kept = [m for i, m in enumerate(messages) if m.content and not stale(m)
            and not (i and stale(messages[i - 1]))]
    texts = [m.content for m in kept]
    return [t for i, t in enumerate(texts) if t not in texts[max(0, i - 3):i]]


def without_choice(texts: list[str]) -> list[str]:
    """The messages without the choice a press acknowledgement adds to its question."""
    return [t.split(CHOICE_SHOWN)[0] for t in texts]


def doubled(messages: list[StoredMessage]) -> list[str]:
    """A reply sent twice: the same text as one of the three before it (but the notice
    of a stale button and the question asked anew after it, each a reply of its own)."""
    texts = [m.content for m in messages]
    return [t for i, t in enumerate(texts) if t and t in texts[max(0, i - 3):i]
            and not stale(messages[i]) and not (i and stale(messages[i - 1]))]


class Member(Driver):
    """A member of one server who plays a whole interview in a private thread. When the
    bot does not react in time ("This interaction failed") they press or run the command
    again a little later, as people do; typed messages stay in the channel and are never
    repeated (the bot reads them back)."""

    timeout = 60.0

    def __init__(self, dc: FakeDiscord, user_id: int, guild_id: int, channel_id: int) -> None:
        super().__init__(dc, dc.add_member(guild_id, dc.user(user_id, f"m{user_id}")))
        self.guild_id, self.home = guild_id, channel_id
        self.shard = shard_of(guild_id, SHARDS)
        self.gave_up: list[FakeInteraction] = []

    async def until_acked(self, act: Callable[[], Awaitable[FakeInteraction]]) -> None:
        for _ in range(30):
            try:
                ix = await act()
            except AssertionError:  # the button went (disabled): the earlier press was taken
                return
            self.interactions.append(ix)
            with contextlib.suppress(AssertionError):
                await self.dc.wait_acked(ix, timeout=self.dc.ack_window + 0.5)
                if not ix.late:
                    return
            self.gave_up.append(ix)
            await asyncio.sleep(0.5)
        raise AssertionError(f"{self.user.name}: nobody acknowledged for a long time")

    async def step(self, kind: str, arg: str, target: int) -> None:
        """One step, then wait until `target` distinct messages are shown."""
        if kind == PRACTICE:
            await self.until_acked(lambda: self.dc.slash_command(
                self.user, "practice", channel_id=self.home))
            self.channel = await self.dc.wait_for(self.thread, self.timeout,
                                                  f"{self.user.name}'s thread")
        elif kind == PRESS:
            await self.press_until(arg, target)
        else:
            assert self.channel is not None
            await self.dc.message_create(self.channel, self.user, arg)
        await self.wait_for_shown(target, f"{kind} {arg[:20]}")
        seen = -1  # the step's last message may still be on its way
        while seen != len(self.messages()):
            seen = len(self.messages())
            await asyncio.sleep(0.05)

    async def press_until(self, label: str, target: int) -> None:
        """Press, and again on the question asked anew when the bot says the button
        belonged to an earlier one (a press the user had tried again had been taken)."""
        pressed: set[int] = set()

        def again() -> StoredMessage | None:
            messages = self.messages()
            last = max((i for i, m in enumerate(messages) if stale(m)), default=-1)
            fresh = [m for m in messages[last + 1:] if m.custom_ids and m.id not in pressed]
            return fresh[-1] if last >= 0 and fresh else None

        prompt: StoredMessage | None = self.last_with_buttons()
        while prompt is not None:
            pressed.add(prompt.id)
            custom_id = button(prompt, label)
            await self.until_acked(lambda p=prompt, c=custom_id: self.dc.click(self.user, p, c))
            await self.dc.wait_for(lambda: len(shown(self.messages())) >= target or again(),
                                   self.timeout, f"{self.user.name}: after pressing {label}")
            prompt = again() if len(shown(self.messages())) < target else None

    async def wait_for_shown(self, target: int, what: str) -> None:
        await self.dc.wait_for(
            lambda: len(shown(self.messages())) >= target, self.timeout,
            f"{self.user.name} (shard {self.shard})'s {target} messages after {what}: "
            f"{[m.content[:30] for m in self.messages()]}")

    async def alone(self, kind: str, arg: str) -> int:
        """One step with no one else around: wait for its replies and 1 s of quiet;
        returns how many distinct messages are shown then."""
        before = len(shown(self.messages())) if self.channel else 0
        await self.step(kind, arg, before + 1)
        seen, last = len(self.messages()), time.monotonic()
        while time.monotonic() - last < 1.0:
            await asyncio.sleep(0.02)
            if len(self.messages()) != seen:
                seen, last = len(self.messages()), time.monotonic()
        return len(shown(self.messages()))

    def thread(self) -> int | None:
        threads = [cid for cid, ch in self.dc.channels.items() if ch["type"] == 12
                   and self.user.id in self.dc.thread_members.get(cid, set())]
        return max(threads) if threads else None


def carried_by(dc: FakeDiscord, ix: FakeInteraction) -> list[int]:
    """The shards whose gateway sessions the interaction was dispatched on."""
    return [session.shard_id for session in dc.past_sessions
            if any(f["t"] == "INTERACTION_CREATE" and f["d"]["id"] == str(ix.id)
                   for f in session.log)]


def acked_on(dc: FakeDiscord, ix: FakeInteraction) -> list[int]:
    """The ports (replicas) whose acknowledgement of the interaction Discord took."""
    return [r.port for r in dc.requests_to("POST", rf"/interactions/{ix.id}/[^/]+/callback")
            if r.status < 300]


async def per_user(database_url: str, sql: str) -> dict[int, int]:
    return {int(str(key).rpartition(":")[2]): int(n) for key, n in await rows(database_url, sql)}


async def test_two_discord_replicas_one_shard_each_survive_a_kill_9(tmp_path: Path) -> None:
    rng = random.Random(11)
    async with fresh_database() as database_url, \
            FakeDiscord(token=TOKEN, shards=SHARDS) as dc:
        homes = {}
        for n, gid in enumerate(GUILDS):
            homes[gid] = 9000 + n
            dc.add_guild(gid, f"Club {n}", channels=[{"id": homes[gid], "name": "practice"}])
        assert {shard_of(g, SHARDS) for g in GUILDS} == {0, 1}
        logs = tmp_path / "replicas.log"
        replicas = [Replica(dc, await dc.also_listen(), shard, database_url, logs)
                    for shard in range(SHARDS)]
        port_of = {r.shard: r.port for r in replicas}
        for replica in replicas:
            await replica.start()
        await dc.wait_for(lambda: dc.requests_to("PUT", r".*/commands"), 30, "commands synced")
        try:
            # one user alone first: the script to the feedback, and how many messages
            probe = Member(dc, 8_000, GUILDS[0], homes[GUILDS[0]])
            script, targets = list(SETUP), []
            for kind, arg in script:
                targets.append(await probe.alone(kind, arg))
            while not any("/100" in m.content for m in probe.messages()):
                assert len(script) < 10, [m.content[:60] for m in probe.messages()]
                script.append((SAY, FOLLOW_EN))
                targets.append(await probe.alone(SAY, FOLLOW_EN))
            alone = shown(probe.messages())
            assert [m.content.count("/100") for m in probe.messages()].count(1) == 1, alone
            turns_each = (await per_user(database_url, "SELECT user_key, COUNT(*) FROM turns "
                                         "GROUP BY 1"))[probe.user.id]

            done_steps = 0
            waits: list[float] = []

            async def play(user: Member) -> None:
                nonlocal done_steps
                await asyncio.sleep(rng.uniform(0, 1.0))
                for (kind, arg), target in zip(script, targets, strict=True):
                    asked = time.monotonic()
                    await user.step(kind, arg, target)
                    waits.append(time.monotonic() - asked)
                    done_steps += 1
                    await asyncio.sleep(rng.uniform(0, 0.2))

            crowd = [Member(dc, 10_000 + n, GUILDS[n % len(GUILDS)],
                            homes[GUILDS[n % len(GUILDS)]]) for n in range(USERS)]
            started = time.monotonic()
            players = asyncio.gather(*(play(u) for u in crowd))
            await dc.wait_for(lambda: done_steps >= USERS * len(script) // 3
                              or players.done(), 120, "a third of the steps")
            assert not players.done(), "the crowd finished before the kill"
            loop = asyncio.get_running_loop()
            down_at = loop.time()
            await replicas[1].kill().wait()
            in_flight = await rows(database_url, "SELECT id, conversation_key FROM outbox "
                                   "WHERE sent_at IS NULL")
            killed_at = done_steps
            await replicas[1].start()
            up_at = loop.time()
            await players
            played = time.monotonic() - started
            for _ in range(100):  # every reply sent and marked
                if not await rows(database_url, "SELECT 1 FROM outbox WHERE sent_at IS NULL"):
                    break
                await asyncio.sleep(0.1)
        finally:
            codes = [await replica.stop() for replica in replicas]
        unsent = await rows(database_url, "SELECT id FROM outbox WHERE sent_at IS NULL")
        turns = await per_user(database_url, "SELECT user_key, COUNT(*) FROM turns GROUP BY 1")
        bodies = await rows(database_url, "SELECT user_key, body FROM turns "
                            "WHERE body IS NOT NULL")
    answers = Counter(int(str(key).rpartition(":")[2]) for key, body in bodies
                      if bytes(body).decode() == ANSWER_EN)

    flight = Counter(int(str(key).split(":")[2]) for _, key in in_flight)  # d:chat:user:thread
    retried = [ix for u in crowd for ix in u.gave_up]
    resent = sum(len(doubled(u.messages())) for u in crowd)
    stale_presses = sum(stale(m) for u in crowd for m in u.messages())
    summary = (f"{USERS} users x {len(script)} steps in {played:.1f} s; kill after "
               f"{killed_at} steps, shard 1 down {up_at - down_at:.1f} s, "
               f"{len(in_flight)} rows in flight, {resent} shown twice; {len(retried)} "
               f"interactions tried again, {stale_presses} stale presses; "
               f"slowest step {max(waits):.2f} s; exit codes {codes}")
    print(summary)
    assert codes == [0, 0], summary + logs.read_text()[-3000:]
    assert unsent == [], summary
    assert sorted(i["shard"] for i in dc.identifies) == [[0, 2], [1, 2], [1, 2]], summary
    assert turns_each and answers[probe.user.id] == 1, summary
    for user in crowd:
        seen = f"{summary}; {user.user.name}: {[m.content[:50] for m in user.messages()]}"
        if user.gave_up:
            # A press stored but not acknowledged when its replica died is played from the
            # inbox after the restart; its acknowledgement (the question edited to show
            # the choice) could only be made within 3 s by the dead process.
            assert without_choice(shown(user.messages())) == without_choice(alone), seen
        else:
            assert shown(user.messages()) == alone, seen  # all the lone user had, in order
        assert [m.content.count("/100") for m in user.messages()].count(1) == 1, seen
        # no turn lost, none stored twice: one more only for each press the user made
        # again that had been taken after all (a stale button, which the bot says so)
        stales = [m for m in user.messages() if stale(m)]
        assert not stales or user.gave_up, seen
        assert turns.get(user.user.id) == turns_each + len(stales), seen
        assert answers.get(user.user.id) == 1, seen
        # a reply goes out twice only if its row was in flight at the kill
        assert len(doubled(user.messages())) <= flight[user.user.id], seen
        for ix in user.interactions:
            assert carried_by(dc, ix) == [user.shard], seen
            if ix in user.gave_up:  # only while its shard had no live connection
                assert user.shard == 1 and down_at - dc.ack_window <= ix.dispatched_at <= up_at
                continue
            assert ix.ack_latency is not None and ix.ack_latency < dc.ack_window, seen
            assert not ix.late and acked_on(dc, ix) == [port_of[user.shard]], seen
    # every interaction Discord delivered was acknowledged, but those given up on
    given_up = {ix.id for ix in retried}
    assert all(ix.acked and not ix.late for ix in dc.interactions.values()
               if ix.id not in given_up), summary
    assert not any(u.gave_up for u in crowd if u.shard == 0), summary
    assert all(r.port in port_of.values() or r.port == dc.port for r in dc.requests)
    nothing_pings(dc)
