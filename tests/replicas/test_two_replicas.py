"""Two `leavewell` processes in webhook mode on one PostgreSQL database, against the fake
Telegram: webhook deliveries spread over both, many users play whole interviews, one
replica is killed (SIGKILL) mid-run and restarted.

What must hold (README, "Durability"; deploy/RUNBOOK.md, replicas): every user reaches
the feedback, no turn is lost or stored twice, and the only replies sent twice are rows
in flight at the kill (committed, not yet marked sent: read from the database between
the kill and the restart, not guessed)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.replicas.process import ReplicaProcess
from tests.support.drill import (
    PRESS,
    ROUND,
    SETUP,
    Arrivals,
    distinct_count,
    doubled,
    original_text,
)
from tests.support.fake_telegram import FakeTelegram, FakeUser, SentMessage
from tests.support.postgres import fresh_database
from tests.telegram.conftest import TOKEN

asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed (leavewell[postgres])")

USERS = int(os.environ.get("LEAVEWELL_TEST_REPLICA_USERS", "200"))
SECRET = "replica-webhook-secret"
SCRIPT = SETUP + ROUND[:2]  # the set-up, an answer and its follow-up: then the feedback
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Replica(ReplicaProcess):
    """One bot process listening for webhooks on its own port."""

    def __init__(self, name: str, tg: FakeTelegram, database_url: str, logs: Path) -> None:
        self.name, self.tg, self.port = name, tg, free_port()
        self.url = f"http://127.0.0.1:{self.port}/tg-hook"
        super().__init__(
            database_url, logs,
            TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=tg.base_url,
            TELEGRAM_API_FILE_URL=tg.file_url, TELEGRAM_RATE_LIMIT="false",
            TELEGRAM_WEBHOOK_URL=self.url, TELEGRAM_WEBHOOK_LISTEN=f"127.0.0.1:{self.port}",
            TELEGRAM_WEBHOOK_SECRET=SECRET)

    async def start(self) -> None:
        webhooks = len(self.tg.calls("setWebhook"))
        process = await self.spawn()
        # up once it has replayed its inbox and set its webhook (the last start-up step)
        await self.tg.wait_for(lambda t: len(t.calls("setWebhook")) > webhooks
                               or process.returncode is not None, 60)
        assert process.returncode is None, self.logs.read_text()[-3000:]


class Webhooks:
    """Telegram's side of webhook mode: each update to one replica (spread by update
    id), and to the other while that one does not answer 200, until one does."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self.served: Counter[str] = Counter()  # replica name -> updates it answered 200
        self.retried = 0

    async def deliver(self, update: dict[str, Any]) -> None:
        first = update["update_id"] % len(self.replicas)
        order = self.replicas[first:] + self.replicas[:first]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for replica in order:
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with self.session.post(replica.url, json=update,
                                                 headers={HEADER: SECRET}) as response:
                        if response.status == 200:
                            self.served[replica.name] += 1
                            return
                self.retried += 1
            await asyncio.sleep(0.05)
        raise AssertionError(f"no replica took update {update['update_id']}")


def lines(messages: list[SentMessage]) -> Counter[str]:
    """Every line the user was sent (a resent row may be joined with the next reply), as
    sent: a pressed prompt's later edit (showing the choice) is the adapter's courtesy,
    not a reply, and not made when the replica died between the commit and the edit."""
    return Counter(line for m in messages for line in original_text(m).splitlines()
                   if line.strip())


def act(tg: FakeTelegram, user: FakeUser, step: str) -> dict[str, Any]:
    if step.startswith(PRESS):
        prompt = next(m for m in reversed(tg.messages(user)) if m.buttons)
        return user.press(prompt, prompt.buttons[int(step[len(PRESS):])][1])
    if step.startswith("/"):
        return user.send_command(step)
    return user.send_text(step)


async def rows(database_url: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def per_chat(database_url: str, sql: str) -> dict[str, int]:
    return {str(key).split(":")[1]: int(count) for key, count in await rows(database_url, sql)}


async def quiet(tg: FakeTelegram, user: FakeUser, before: int) -> int:
    """Wait for the bot's replies to one step: the first, then 1 s without another."""
    await tg.wait_for(lambda t: len(t.messages(user)) > before, 30)
    seen, last = len(tg.messages(user)), time.monotonic()
    while time.monotonic() - last < 1.0:
        await asyncio.sleep(0.01)
        if len(tg.messages(user)) != seen:
            seen, last = len(tg.messages(user)), time.monotonic()
    return seen - before


async def test_two_replicas_on_postgres_survive_a_kill_9_without_losing_or_doubling(
        tmp_path: Path) -> None:
    rng = random.Random(7)
    async with fresh_database() as database_url, FakeTelegram(token=TOKEN) as tg:
        logs = tmp_path / "replicas.log"
        replicas = [Replica(name, tg, database_url, logs) for name in ("a", "b")]
        for replica in replicas:
            await replica.start()
        hooks = Webhooks(replicas)
        arrivals = Arrivals(tg).__enter__()
        try:
            # one user alone first: how many messages each step sends, and what is stored
            probe = tg.user(90_000, "Probe", language_code="en")
            counts = []
            for step in SCRIPT:
                before = len(tg.messages(probe))
                await hooks.deliver(act(tg, probe, step))
                counts.append(await quiet(tg, probe, before))
            alone = lines(tg.messages(probe))
            assert "/100" in tg.messages(probe)[-1].plain, alone
            assert max(alone.values()) == 1, alone  # the script repeats nothing by itself
            turns_each = (await per_chat(database_url, "SELECT user_key, COUNT(*) FROM turns "
                                         "GROUP BY 1"))[str(probe.id)]

            done_steps = 0
            waits: list[float] = []

            async def play(user: FakeUser) -> None:
                nonlocal done_steps
                await asyncio.sleep(rng.uniform(0, 1.0))
                for step, count in zip(SCRIPT, counts, strict=True):
                    target = distinct_count(tg.messages(user)) + count
                    asked = time.monotonic()
                    await hooks.deliver(act(tg, user, step))
                    await arrivals.until(
                        user, lambda n=target: distinct_count(tg.messages(user)) >= n, 90)
                    waits.append(time.monotonic() - asked)
                    done_steps += 1
                    await asyncio.sleep(rng.uniform(0, 0.2))

            crowd = [tg.user(100_000 + n, f"U{n}", language_code="en") for n in range(USERS)]
            started = time.monotonic()
            players = asyncio.gather(*(play(u) for u in crowd))
            # kill replica a once about a third of all steps are done
            await tg.wait_for(lambda t: done_steps >= USERS * len(SCRIPT) // 3
                              or players.done(), 120)
            assert not players.done(), "the crowd finished before the kill"
            await replicas[0].kill().wait()
            in_flight = await rows(database_url, "SELECT id, conversation_key FROM outbox "
                                   "WHERE sent_at IS NULL")
            killed_at = done_steps
            await replicas[0].start()
            await players
            played = time.monotonic() - started
            for _ in range(200):  # every reply sent and marked
                if not await rows(database_url, "SELECT 1 FROM outbox WHERE sent_at IS NULL"):
                    break
                await asyncio.sleep(0.1)
        finally:
            arrivals.__exit__()
            await hooks.session.close()
            codes = [await replica.stop() for replica in replicas]

        unsent = await rows(database_url, "SELECT id FROM outbox WHERE sent_at IS NULL")
        turns = await per_chat(database_url, "SELECT user_key, COUNT(*) FROM turns GROUP BY 1")
        turn_texts = await rows(database_url, "SELECT user_key, body FROM turns "
                                "WHERE body IS NOT NULL")

    flight = Counter(str(key).split(":")[1] for _, key in in_flight)
    resent = sum(len(doubled(tg.messages(user))) for user in crowd)
    summary = (f"{USERS} users x {len(SCRIPT)} steps in {played:.1f} s; kill after "
               f"{killed_at} steps with {len(in_flight)} rows in flight, {resent} re-sent; "
               f"slowest step {max(waits):.2f} s; webhook retries "
               f"{hooks.retried}; served {dict(hooks.served)}; exit codes {codes}")
    print(summary)
    assert codes == [0, 0], summary + logs.read_text()[-3000:]
    assert all(hooks.served[r.name] > USERS for r in replicas), summary  # both took work
    assert unsent == [], summary
    for user in crowd:
        messages = tg.messages(user)
        uid = str(user.id)
        got = lines(messages)
        seen = f"{summary}; {user.first_name}: {[m.plain[:60] for m in messages]}"
        assert "/100" in messages[-1].plain, seen  # reached the feedback, last
        assert turns.get(uid) == turns_each, seen  # no turn lost, none stored twice
        assert not alone - got, f"{seen}; missing {alone - got}"  # all the lone user had
        extra = got - alone  # lines of re-sent rows (one may come joined with the next)
        # only a row in flight at the kill is ever sent again, and only as a copy
        assert not extra or flight[uid], seen
        assert set(extra) <= set(alone), seen
        assert len(doubled(messages)) <= flight[uid], seen
        assert sum(extra[line] for line in extra if line.startswith("Interviewer:")
                   ) <= flight[uid], seen  # no question asked twice but one in flight
    answers = Counter(user_key for user_key, body in turn_texts if body and
                      bytes(body).decode().startswith("Our analytics team"))
    assert all(answers[f"telegram:{u.id}"] == 1 for u in crowd), answers
