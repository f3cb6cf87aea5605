"""kill -9 drill (the small one; bench/bench_kill.py runs it with 100 users): users play
whole interviews while the bot process is killed at random moments and restarted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from leavewell.bot.core import ACTIVE_EVENTS
from tests.support.drill import bot_env, kill_drill
from tests.support.fake_telegram import FakeTelegram
from tests.telegram.conftest import TOKEN, command


async def test_kills_lose_nothing_and_never_re_ask_a_taken_answer(tmp_path: Path) -> None:
    database = tmp_path / "drill.db"
    async with FakeTelegram(token=TOKEN) as tg:
        env = bot_env(tg, TOKEN, database, log_level="WARNING")
        errors = (tmp_path / "stderr.txt").open("ab")

        async def spawn() -> asyncio.subprocess.Process:
            return await asyncio.create_subprocess_exec(
                *command(), env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=errors)

        try:
            report = await kill_drill(tg, database, spawn, users=10, rounds=2, kills=2,
                                      every=1.5, think=0.2)
        finally:
            errors.close()
    assert report.kills == 2, report.summary()
    assert report.lost_turns == 0, report.summary()
    assert report.unfinished == 0, report.summary()
    assert report.after_taken == 0, report.summary()
    # what the database says went out twice is what the users saw twice
    assert report.extra_messages == report.doubled, report.summary()
    # only replies in flight at a kill are sent again: a few per event being handled
    assert report.doubled <= report.kills * ACTIVE_EVENTS, report.summary()
