"""kill -9 drill: users play whole interviews against the real bot process while it is
killed (SIGKILL) at random moments and restarted at once. Run from the project root:

    python bench/bench_kill.py [--users 100] [--rounds 6] [--kills 5] [--every 4]
    python bench/bench_kill.py --think 1        # users take ~1 s per step, as people do
    python bench/bench_kill.py --bot-root /tmp/lw-main   # the same drill on other code

Afterwards every message is compared with what was sent before it and with the
database (tests/support/drill.py): doubled replies per kill, questions re-asked after
the user answered them, turns lost, replies never sent, and the longest a step waited
beyond the restart that interrupted it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.drill import bot_env, kill_drill  # noqa: E402
from tests.support.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH-token"


async def main(users: int, rounds: int, kills: int, every: float, think: float,
               bot_root: Path) -> None:
    async with FakeTelegram(token=TOKEN) as tg:
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "drill.db"
            env = bot_env(tg, TOKEN, database,
                          db_options=os.environ.get("BENCH_DB_OPTIONS", ""))
            env.update(PYTHONPATH=str(bot_root), PYTHONDONTWRITEBYTECODE="1")

            async def spawn() -> asyncio.subprocess.Process:
                return await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "leavewell.bot.cli", env=env, cwd=bot_root,
                    stdin=asyncio.subprocess.DEVNULL)

            report = await kill_drill(tg, database, spawn, users=users, rounds=rounds,
                                      kills=kills, every=every, think=think)
    print(f"kill -9 drill ({bot_root}): {report.summary()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--every", type=float, default=4.0, help="seconds between kills")
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a user takes before each step (0: at once)")
    parser.add_argument("--bot-root", type=Path, default=ROOT)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.rounds, args.kills, args.every, args.think,
                     args.bot_root))
