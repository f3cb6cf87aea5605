"""Scripted users for the real bot process, and a kill -9 drill over them.

Users play whole interviews (`script`: text, commands, and `press:N` for button N of the
last message with buttons). `learn_counts` plays one user alone and learns how many
messages each step sends; crowds then wait for that many *distinct* new messages per
step, so a doubled reply never makes a user run ahead.

`kill_drill` kills the bot process (SIGKILL) at random moments while the users play,
restarts it at once, and afterwards compares every message with what was sent before
and with the database: doubled replies, questions re-asked after the user answered,
turns lost, and how long a reply waited beyond the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.fake_telegram import FakeTelegram, FakeUser, SentMessage

ANSWER = (
    "Our analytics team was cut when the company lost its largest client. I led the move "
    "of our reports to Python and saved the team 10 hours a week. My manager is one of my "
    "references, and I want to grow into data engineering in a role like this one."
)
PRESS = "press:"  # a step that presses button N of the last message with buttons
SETUP = ["/start", "Data analyst", "Acme", f"{PRESS}1"]  # 1: laid off
ROUND = [ANSWER, "I learned to raise risks early.", "Because the work fits my goals.",
         f"{PRESS}0"]  # 0: retry
QUIET = 0.1  # seconds without a new message: a step is complete
SAME_AS_RECENT = 3  # a message equal to one of the chat's last 3 is a doubled reply


def bot_env(tg: FakeTelegram, token: str, database: Path, *, db_options: str = "",
            log_level: str = "ERROR") -> dict[str, str]:
    """The environment of a `leavewell` process serving the fake Telegram, rate limiter
    off (as Telegram's own limits have no place on loopback)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
    env.update(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_BASE_URL=tg.base_url,
               TELEGRAM_API_FILE_URL=tg.file_url, TELEGRAM_RATE_LIMIT="false",
               LEAVEWELL_DATABASE_URL=f"sqlite:///{database}{db_options}",
               LEAVEWELL_LOG_LEVEL=log_level, MPLCONFIGDIR=str(database.parent / "mpl"))
    return env


def interview(rounds: int) -> list[str]:
    return SETUP + ROUND * rounds


def act(tg: FakeTelegram, user: FakeUser, step: str) -> int:
    """Do one step as the user; returns the update's id."""
    if step.startswith(PRESS):
        prompt = next(m for m in reversed(tg.messages(user)) if m.buttons)
        update = user.press(prompt, prompt.buttons[int(step[len(PRESS):])][1])
    elif step.startswith("/"):
        update = user.send_command(step)
    else:
        update = user.send_text(step)
    return int(update["update_id"])


async def play_alone(tg: FakeTelegram, user: FakeUser, script: list[str],
                     latencies: list[float] | None = None) -> list[int]:
    """Each step waits until the bot is quiet; returns how many messages each step sent
    and appends each step's time (pushed -> last message, ms) to `latencies`."""
    counts = []
    for step in script:
        before = len(tg.messages(user))
        started = time.monotonic()
        act(tg, user, step)
        await tg.wait_for(lambda t, b=before: len(t.messages(user)) > b, 30)
        last, seen = time.monotonic(), len(tg.messages(user))
        while True:
            await asyncio.sleep(0.005)
            now = time.monotonic()
            if len(tg.messages(user)) != seen:
                last, seen = now, len(tg.messages(user))
            elif now - last >= QUIET:
                break
        await tg.wait_confirmed(30)
        if latencies is not None:
            latencies.append((last - started) * 1000)
        counts.append(seen - before)
    return counts


class Arrivals:
    """When each bot message reached each chat, and waiting on one chat's messages only:
    with a hundred users, FakeTelegram.wait_for wakes every waiter on every request, and
    the simulated users, not the bot, become what is measured."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.times: dict[int, list[float]] = defaultdict(list)
        self._changed: dict[int, asyncio.Event] = {}
        self._store = tg._store

    def __enter__(self) -> Arrivals:
        self.tg._store = self._record  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.tg._store = self._store  # type: ignore[method-assign]

    def _record(self, chat_id: int, p: dict[str, Any], sm: SentMessage) -> Any:
        self.times[chat_id].append(time.monotonic())
        result = self._store(chat_id, p, sm)
        event = self._changed.pop(chat_id, None)
        if event is not None:
            event.set()
        return result

    async def until(self, user: FakeUser, predicate: Callable[[], bool],
                    timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no reply for {user.first_name} in {timeout} s")
            event = self._changed.setdefault(user.id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 1.0))


def original_text(message: SentMessage) -> str:
    """What the message said when sent (an edit may have changed it since)."""
    first = message.history[0] if message.history else message.text or message.caption
    return first or f"<{message.kind} {message.file_id}>"


def doubled(messages: list[SentMessage]) -> list[int]:
    """Indexes of messages that repeat one of the few just before them (a re-sent reply)."""
    texts = [original_text(m) for m in messages]
    return [i for i, text in enumerate(texts)
            if text in texts[max(0, i - SAME_AS_RECENT):i]]


def distinct_count(messages: list[SentMessage]) -> int:
    return len(messages) - len(doubled(messages))


@dataclass
class DrillReport:
    users: int
    steps: int = 0
    kills: int = 0
    doubled: int = 0  # messages repeating a reply just sent
    extra_messages: int = 0  # messages received beyond the outbox rows (the database's view)
    after_answer: int = 0  # doubled replies that came after the user had answered them
    after_taken: int = 0  # ... and the answer had been confirmed to Telegram before the kill
    lost_turns: int = 0
    unfinished: int = 0  # outbox rows never sent
    max_wait_after_restart: float = 0.0  # seconds, from the new process's start
    max_wait_after_ready: float = 0.0  # seconds, from its start-up done (polling again)
    latencies: list[float] = field(default_factory=list)  # ms per step
    restarts: list[float] = field(default_factory=list)
    ready: list[float] = field(default_factory=list)

    @property
    def slowest_start(self) -> float:
        return max((b - a for a, b in zip(self.restarts, self.ready, strict=False)),
                   default=0.0)

    def summary(self) -> str:
        ordered = sorted(self.latencies) or [0.0]
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        per_kill = self.doubled / self.kills if self.kills else 0.0
        return (f"{self.users} users, {self.steps} steps, {self.kills} kills: "
                f"{self.doubled} doubled replies ({per_kill:.2f} per kill; database view "
                f"{self.extra_messages}), {self.after_answer} re-sent after the user answered "
                f"({self.after_taken} after the answer was taken), "
                f"{self.lost_turns} turns lost, {self.unfinished} replies never sent; "
                f"longest wait beyond a restart {self.max_wait_after_restart:.2f} s "
                f"({self.max_wait_after_ready:.2f} s beyond start-up, which took "
                f"{self.slowest_start:.2f} s at most); "
                f"step p99 {p99:.0f} ms")


Spawn = Callable[[], Awaitable[asyncio.subprocess.Process]]


async def kill_drill(tg: FakeTelegram, database: Path, spawn: Spawn, *, users: int,
                     rounds: int, kills: int, every: float, think: float = 0.0,
                     seed: int = 14) -> DrillReport:
    """`spawn` starts the bot process on `database`; it is killed `kills` times, about
    every `every` seconds (0.5-1.5x at random), and restarted at once. Users wait
    `think` seconds (0.5-1.5x at random) before each step, as people read and type."""
    rng = random.Random(seed)
    script = interview(rounds)
    acted: dict[int, list[tuple[float, int]]] = defaultdict(list)  # (time, update id)
    unconfirmed_at_kill: list[set[int]] = []
    report = DrillReport(users)
    arrivals = Arrivals(tg).__enter__()
    arrived = arrivals.times  # per chat, per message
    process = await spawn()
    try:
        probe = tg.user(90_000, "Probe", language_code="en")
        counts = await play_alone(tg, probe, script)
        turns_each = _turns_per_user(database)[str(probe.id)]
        # messages beyond one per outbox row without any kill (a long reply in parts)
        parts_each = len(tg.messages(probe)) - _rows_per_chat(database)[str(probe.id)]
        assert not doubled(tg.messages(probe)), "the script repeats a message by itself"

        async def play(user: FakeUser) -> None:
            for step, count in zip(script, counts, strict=True):
                if think:
                    await asyncio.sleep(think * rng.uniform(0.5, 1.5))
                target = distinct_count(tg.messages(user)) + count
                started = time.monotonic()
                acted[user.id].append((started, act(tg, user, step)))
                await arrivals.until(
                    user, lambda n=target: distinct_count(tg.messages(user)) >= n, 180)
                done = time.monotonic()
                report.latencies.append((done - started) * 1000)
                kill = max((k for k, r in enumerate(report.restarts) if started < r <= done),
                           default=None)
                if kill is not None:
                    report.max_wait_after_restart = max(report.max_wait_after_restart,
                                                        done - report.restarts[kill])
                    if kill < len(report.ready):
                        report.max_wait_after_ready = max(report.max_wait_after_ready,
                                                          done - report.ready[kill])

        crowd = [tg.user(100_000 + n, f"U{n}", language_code="en") for n in range(users)]
        players = asyncio.gather(*(play(u) for u in crowd))
        for _ in range(kills):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(players), every * rng.uniform(0.5, 1.5))
            if players.done():
                break
            process.kill()
            await process.wait()
            unconfirmed_at_kill.append(set(tg.pending_updates))
            report.kills += 1
            report.restarts.append(time.monotonic())
            started_before = len(tg.calls("deleteWebhook"))  # its last call before polling
            process = await spawn()
            await tg.wait_for(lambda t, n=started_before: len(t.calls("deleteWebhook")) > n, 60)
            report.ready.append(time.monotonic())
        await players
        await tg.wait_confirmed(60)
        await tg.wait_for(lambda t: not _unsent(database), 60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        arrivals.__exit__()

    report.steps = len(script) * users
    rows = _rows_per_chat(database)
    turns = _turns_per_user(database)
    for user in crowd:
        messages = tg.messages(user)
        again = doubled(messages)
        report.doubled += len(again)
        report.extra_messages += len(messages) - rows.get(str(user.id), 0) - parts_each
        report.lost_turns += max(0, turns_each - turns.get(str(user.id), 0))
        times = arrived[user.id]
        for i in again:
            first = max(j for j in range(i) if original_text(messages[j]) ==
                        original_text(messages[i]))
            answers = [(at, uid) for at, uid in acted[user.id] if times[first] < at < times[i]]
            if not answers:
                continue
            report.after_answer += 1
            # the kill that caused the re-send: the last one before it arrived
            kill = max(k for k, r in enumerate(report.restarts) if r < times[i])
            if any(at < report.restarts[kill] and uid not in unconfirmed_at_kill[kill]
                   for at, uid in answers):
                report.after_taken += 1
    report.unfinished = _unsent(database)
    return report


def _query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as conn:
        return conn.execute(sql).fetchall()


def _unsent(database: Path) -> int:
    return int(_query(database, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")[0][0])


def _rows_per_chat(database: Path) -> dict[str, int]:
    rows = _query(database, "SELECT conversation_key, COUNT(*) FROM outbox GROUP BY 1")
    return {key.split(":")[1]: count for key, count in rows}


def _turns_per_user(database: Path) -> dict[str, int]:
    rows = _query(database, "SELECT user_key, COUNT(*) FROM turns GROUP BY 1")
    return {key.split(":")[1]: count for key, count in rows}
