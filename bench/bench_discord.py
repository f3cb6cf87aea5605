"""Interactions/s and acknowledgement latency of the Discord adapter under load.

200 users at once run /practice in their DMs, then press the role and company Skip
buttons (600 interactions); everything goes through the real discord.py client, the
core and SQLite, against the fake Discord on 127.0.0.1.

    python -m bench.bench_discord [--users 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.discord.conftest import GENERAL, GUILD, Driver, RunningBot, member
from tests.support.fake_discord import FakeDiscord


async def one_user(dc: FakeDiscord, n: int) -> None:
    driver = Driver(dc, member(dc, 10_000 + n, f"u{n}", "zh-CN" if n % 2 else "en-US"))
    driver.channel = dc.dm_channel(driver.user)
    for step in range(3):
        if step == 0:
            await driver.command("practice")
        else:
            await driver.press("")
        await dc.wait_for(lambda: any(m.custom_ids for m in driver.messages()), 120)


async def main(users: int) -> None:
    Driver.timeout = 120.0
    async with FakeDiscord(token="discord-test-token") as dc:
        dc.install()
        dc.add_guild(GUILD, "Bench", channels=[{"id": GENERAL, "name": "practice"}])
        with tempfile.TemporaryDirectory() as tmp:
            bot = RunningBot(dc, Path(tmp) / "bench.db")
            await bot.start()
            try:
                started = time.perf_counter()
                await asyncio.gather(*(one_user(dc, n) for n in range(users)))
                elapsed = time.perf_counter() - started
            finally:
                await bot.stop()
    latencies = sorted(ix.ack_latency or 0.0 for ix in dc.interactions.values())
    late = sum(1 for ix in dc.interactions.values() if ix.late or not ix.acked)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"users: {users}, interactions: {len(latencies)} (slash + buttons), "
          f"wall time: {elapsed:.2f} s")
    print(f"interactions/s: {len(latencies) / elapsed:.0f}")
    print(f"ack latency ms: median {statistics.median(latencies) * 1000:.1f}, "
          f"p99 {p99 * 1000:.1f}, max {latencies[-1] * 1000:.1f}; late or unanswered: {late}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    asyncio.run(main(parser.parse_args().users))
