"""Discord interaction acknowledgement latency at a paced rate, the bot in its own process.

Users arrive at a steady pace so that interactions come at `--rate` per second; each
runs /practice in their DM, then presses the role and company Skip buttons (three
interactions, each after the bot finished the previous step). The bot is the real
`leavewell` process (discord.py, core, SQLite) against the fake Discord on 127.0.0.1,
which runs here with the simulated users, as Discord's servers and users are not on the
bot's machine either. Run from the project root:

    python bench/bench_discord.py [--rate 100] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.discord.conftest import GENERAL, GUILD, TOKEN, Driver, member  # noqa: E402
from tests.support.fake_discord import FakeDiscord  # noqa: E402

STEPS = 3  # /practice, Skip (role), Skip (company)


async def one_user(dc: FakeDiscord, n: int) -> None:
    driver = Driver(dc, member(dc, 10_000 + n, f"u{n}", "zh-CN" if n % 2 else "en-US"))
    driver.channel = dc.dm_channel(driver.user)
    for step in range(STEPS):
        before = len(driver.messages())
        if step == 0:
            await driver.slash("practice", channel_id=driver.channel)
        else:
            await dc.click(driver.user, driver.last_with_buttons(),
                           next(str(i["custom_id"]) for i in driver.last_with_buttons().items
                                if i.get("custom_id")))
        await dc.wait_for(lambda b=before: len(driver.messages()) > b
                          and any(m.custom_ids for m in driver.messages()[b:]), 120)


async def spawn(dc: FakeDiscord, database: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
    env.update(DISCORD_BOT_TOKEN=TOKEN, DISCORD_API_BASE_URL=dc.api_base,
               DISCORD_GATEWAY_URL=dc.gateway_url, LEAVEWELL_LOG_LEVEL="ERROR",
               LEAVEWELL_DATABASE_URL=f"sqlite:///{database}", PYTHONPATH=str(ROOT),
               MPLCONFIGDIR=str(database.parent / "mpl"))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "leavewell.bot.cli", env=env, stdin=asyncio.subprocess.DEVNULL)
    await dc.wait_for(lambda: (dc.client_ready and dc.requests_to("PUT", r".*/commands"))
                      or process.returncode is not None, 60, "the bot to connect")
    assert process.returncode is None, "the bot process exited during start-up"
    return process


async def main(rate: float, seconds: float) -> None:
    users = max(1, int(rate * seconds / STEPS))
    async with FakeDiscord(token=TOKEN) as dc:
        dc.add_guild(GUILD, "Bench", channels=[{"id": GENERAL, "name": "practice"}])
        with tempfile.TemporaryDirectory() as tmp:
            bot = await spawn(dc, Path(tmp) / "bench.db")
            try:
                started = time.perf_counter()
                players = []
                for n in range(users):  # a user every STEPS / rate seconds
                    players.append(asyncio.create_task(one_user(dc, n)))
                    await asyncio.sleep(max(0.0, started + (n + 1) * STEPS / rate
                                            - time.perf_counter()))
                await asyncio.gather(*players)
                elapsed = time.perf_counter() - started
            finally:
                bot.send_signal(signal.SIGTERM)
                await bot.wait()
    latencies = sorted(ix.ack_latency or 0.0 for ix in dc.interactions.values())
    late = sum(1 for ix in dc.interactions.values() if ix.late or not ix.acked)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"Discord, bot in its own process: {users} users, {len(latencies)} interactions "
          f"(slash + buttons) offered at {rate:.0f}/s, done at {len(latencies) / elapsed:.0f}/s")
    print(f"  ack latency ms: median {statistics.median(latencies) * 1000:.1f}, "
          f"p99 {p99 * 1000:.1f}, max {latencies[-1] * 1000:.1f}; late or unanswered: {late}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="interactions per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds))
