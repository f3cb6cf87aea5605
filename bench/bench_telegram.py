"""End-to-end Telegram throughput: the real PTB Application, our core and SQLite, against
the fake Bot API server from the tests, all on 127.0.0.1. Run from the project root:

    python bench/bench_telegram.py [--users 200] [--rounds 2]

Each simulated user plays whole interviews (typed answers, follow-ups, retry), sending
the next message only after the bot replied to the previous one. Prints updates/s and
the reply latency (update pushed -> first reply sent) p50/p99. The bot runs as its own
process, as in production; the rate limiter is off
for the measurement (Telegram's own limits would cap a single bot at ~30 messages/s).
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

from tests.support.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH-token"
ANSWER = (
    "Our analytics team was cut when the company lost its largest client. I led the move "
    "of our reports to Python and saved the team 10 hours a week. My manager is one of my "
    "references, and I want to grow into data engineering in a role like this one."
)
SETUP = ["/start", "Data analyst", "Acme", "2"]
ROUND = [ANSWER, "I learned to raise risks early.", "Because the work fits my goals.", "1"]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(users: int, rounds: int) -> None:
    latencies: list[float] = []
    bot_cpu = 0.0
    async with FakeTelegram(token=TOKEN) as tg:
        with tempfile.TemporaryDirectory() as tmp:
            database = f"sqlite:///{Path(tmp) / 'bench.db'}"
            # The bot runs as its own process (as in production), so the fake server and
            # the simulated users do not take CPU from it.
            env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
            env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=tg.base_url,
                       TELEGRAM_API_FILE_URL=tg.file_url, TELEGRAM_RATE_LIMIT="false",
                       LEAVEWELL_DATABASE_URL=database, LEAVEWELL_LOG_LEVEL="ERROR",
                       PYTHONPATH=str(ROOT))
            bot = await asyncio.create_subprocess_exec(
                sys.executable, *os.environ.get("BENCH_PROFILE", "").split(), "-m", "bot.cli",
                env=env, stdin=asyncio.subprocess.DEVNULL)
            await tg.wait_for(lambda t: t.polling, 30)

            async def play(n: int) -> int:
                user = tg.user(10_000 + n, f"U{n}", language_code="en")
                sent = 0
                for text in SETUP + ROUND * rounds:
                    before = len(tg.sent_times[user.id])
                    started = time.monotonic()
                    if text.startswith("/"):
                        user.send_command(text)
                    else:
                        user.send_text(text)
                    await tg.wait_for(lambda t, b=before: len(t.sent_times[user.id]) > b, 60)
                    latencies.append((time.monotonic() - started) * 1000)
                    sent += 1
                return sent

            started = time.monotonic()
            counts = await asyncio.gather(*(play(n) for n in range(users)))
            elapsed = time.monotonic() - started
            await tg.wait_confirmed(60)
            bot_cpu = _cpu_seconds(bot.pid)
            bot.send_signal(signal.SIGTERM)
            await bot.wait()
    total = sum(counts)
    assert not tg.errors, tg.errors[:3]
    print(f"Telegram end to end (PTB + core + SQLite + fake Bot API), {users} concurrent "
          f"users, rate limiter off:")
    print(f"  {total} updates in {elapsed:.2f} s = {total / elapsed:,.0f} updates/s")
    print(f"  CPU: bot process {bot_cpu:.1f} s, fake server + simulated users "
          f"{time.process_time():.1f} s")
    print(f"  reply latency p50 {statistics.median(latencies):.0f} ms  "
          f"p99 {percentile(latencies, 0.99):.0f} ms")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    # BENCH_PROFILE="-m cProfile -o bot.prof" profiles the bot process.
    args = parser.parse_args()
    asyncio.run(main(args.users, args.rounds))
