"""leavewell against a textbook PTB bot, in one run, through real python-telegram-bot and
the fake Bot API on 127.0.0.1. Run from the project root:

    python bench/bench_textbook.py [--users 100] [--rounds 2] [--solo 6] [--only leavewell]
    python bench/bench_textbook.py --bot-root /tmp/lw-main   # leavewell from other code
    python bench/bench_textbook.py --before-root /tmp/lw-old  # also older code, same run

Each bot runs in its own process with the rate limiter off, against its own fake server
(in this process), and both play the same whole interviews: /start, role, company, a
situation button, the answer, two follow-ups, then Retry from the feedback's buttons and
the round again. The textbook bot (bench/textbook_bot.py) is a ConversationHandler with
PicklePersistence flushed every 60 s: it keeps nothing durable per step.

Phase 1 (one user at a time): each step waits until the bot has been quiet for 100 ms,
which also counts how many messages each step sends. Step time = the update pushed ->
the step's last message received. Phase 2: `--users` users at once, each step waiting for
the message count learned in phase 1. Bot CPU per step comes from the bot process's
/proc stat over each phase; Bot API calls per step from the fake server's log.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkout import import_path  # noqa: E402
from tests.support.drill import Arrivals, act, bot_env, interview, play_alone  # noqa: E402
from tests.support.fake_telegram import FakeTelegram, FakeUser  # noqa: E402

TOKEN = "123456:BENCH-token"
BOT_ROOT = ROOT  # where leavewell's code is taken from (--bot-root)
BOTS = ("textbook", "leavewell")
BEFORE_ROOT: Path | None = None  # --before-root: an older checkout measured in the same run


@dataclass
class Phase:
    steps: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)

    def line(self, title: str) -> str:
        calls = sum(self.calls.values()) / max(self.steps, 1)
        detail = ", ".join(f"{m} {n / self.steps:.2f}" for m, n in self.calls.most_common())
        return (f"  {title}: {self.steps} steps, p50 {percentile(self.latencies, 0.5):.1f} ms, "
                f"p99 {percentile(self.latencies, 0.99):.1f} ms, "
                f"{self.steps / self.seconds:.0f} steps/s, "
                f"bot CPU {self.cpu * 1000 / self.steps:.2f} ms/step, "
                f"Bot API calls {calls:.2f}/step ({detail})")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bot_command(kind: str) -> list[str]:
    profile = os.environ.get("BENCH_PROFILE", "").split()
    if kind == "textbook":
        return [sys.executable, *profile, str(ROOT / "bench" / "textbook_bot.py")]
    root = BEFORE_ROOT if kind == "before" else BOT_ROOT
    assert root is not None
    # Checkouts from before the leavewell namespace import their folders at the top level.
    namespaced = "from leavewell" in (root / "bot" / "cli.py").read_text(encoding="utf-8")
    return [sys.executable, *profile, "-m", "leavewell.bot.cli" if namespaced else "bot.cli"]


async def spawn(kind: str, tg: FakeTelegram, tmp: Path) -> asyncio.subprocess.Process:
    env = bot_env(tg, TOKEN, tmp / "bench.db", db_options=os.environ.get("BENCH_DB_OPTIONS", ""))
    root = BEFORE_ROOT if kind == "before" and BEFORE_ROOT is not None else BOT_ROOT
    env.update(PYTHONPATH=import_path(root, tmp / "checkouts")[0], PYTHONDONTWRITEBYTECODE="1",
               TEXTBOOK_TOKEN=TOKEN,
               TEXTBOOK_BASE_URL=tg.base_url, TEXTBOOK_FILE_URL=tg.file_url,
               TEXTBOOK_PICKLE=str(tmp / "textbook.pickle"))
    cwd = ROOT if kind == "textbook" else root
    process = await asyncio.create_subprocess_exec(*bot_command(kind), env=env, cwd=cwd,
                                                   stdin=asyncio.subprocess.DEVNULL)
    await tg.wait_for(lambda t: t.polling, 30)
    return process


async def crowd(tg: FakeTelegram, users: list[FakeUser], script: list[str], counts: list[int],
                phase: Phase) -> None:
    async def play(user: FakeUser, arrivals: Arrivals) -> None:
        for step, count in zip(script, counts, strict=True):
            target = len(tg.messages(user)) + count
            started = time.monotonic()
            act(tg, user, step)
            await arrivals.until(user, lambda n=target: len(tg.messages(user)) >= n, 120)
            phase.latencies.append((arrivals.times[user.id][-1] - started) * 1000)

    with Arrivals(tg) as arrivals:
        await asyncio.gather(*(play(u, arrivals) for u in users))
    phase.steps += len(script) * len(users)


def api_calls(tg: FakeTelegram, since: int) -> Counter[str]:
    return Counter(r.method for r in tg.requests[since:] if r.method.lower() != "getupdates")


async def measure(kind: str, users: int, rounds: int, solos: int) -> tuple[Phase, Phase]:
    script = interview(rounds)
    alone, many = Phase(), Phase()
    async with FakeTelegram(token=TOKEN) as tg:
        with tempfile.TemporaryDirectory() as tmp:
            bot = await spawn(kind, tg, Path(tmp))
            try:
                # One interview first, not counted: lazy start-up work (the analyzer's
                # rules, templates) is no part of the cost per step.
                await play_alone(tg, tg.user(19_999, "Warm", language_code="en"), script)
                mark, cpu, started = len(tg.requests), cpu_seconds(bot.pid), time.monotonic()
                counts: list[int] = []
                for n in range(solos):
                    user = tg.user(20_000 + n, f"S{n}", language_code="en")
                    counts = await play_alone(tg, user, script, alone.latencies)
                    alone.steps += len(script)
                alone.seconds = time.monotonic() - started
                alone.cpu = cpu_seconds(bot.pid) - cpu
                alone.calls = api_calls(tg, mark)

                crowd_users = [tg.user(30_000 + n, f"C{n}", language_code="en")
                               for n in range(users)]
                mark, cpu, started = len(tg.requests), cpu_seconds(bot.pid), time.monotonic()
                await crowd(tg, crowd_users, script, counts, many)
                many.seconds = time.monotonic() - started
                await tg.wait_confirmed(60)
                many.cpu = cpu_seconds(bot.pid) - cpu
                many.calls = api_calls(tg, mark)
            finally:
                bot.send_signal(signal.SIGTERM)
                await bot.wait()
    assert not tg.errors, tg.errors[:3]
    return alone, many


async def main(users: int, rounds: int, solos: int, only: str | None) -> None:
    results = {}
    for kind in (*BOTS, "before") if BEFORE_ROOT is not None else BOTS:
        if only is None or only == kind:
            results[kind] = await measure(kind, users, rounds, solos)
            alone, many = results[kind]
            print(f"{kind}:")
            print(alone.line("1 user"))
            print(many.line(f"{users} users"))
    if "textbook" in results and "leavewell" in results:
        (t1, tn), (l1, ln) = results["textbook"], results["leavewell"]
        p50 = percentile(l1.latencies, 0.5) / percentile(t1.latencies, 0.5)
        cpu = (l1.cpu / l1.steps) / (t1.cpu / t1.steps)
        cpu_n = (ln.cpu / ln.steps) / (tn.cpu / tn.steps)
        rate = (ln.steps / ln.seconds) / (tn.steps / tn.seconds)
        print("leavewell / textbook:")
        print(f"  1 user: p50 x{p50:.2f} (target <= 1.5), bot CPU/step x{cpu:.2f} (target <= 1)")
        print(f"  {users} users: steps/s x{rate:.2f} (target >= 1.5), bot CPU/step x{cpu_n:.2f}")
    if "before" in results and "leavewell" in results:
        (b1, bn), (l1, ln) = results["before"], results["leavewell"]
        print("leavewell / before (the same run):")
        print(f"  1 user: p50 x{percentile(l1.latencies, 0.5) / percentile(b1.latencies, 0.5):.2f}"
              f", p99 x{percentile(l1.latencies, 0.99) / percentile(b1.latencies, 0.99):.2f}"
              f", bot CPU/step x{(l1.cpu / l1.steps) / (b1.cpu / b1.steps):.2f}")
        print(f"  {users} users: steps/s x{(ln.steps / ln.seconds) / (bn.steps / bn.seconds):.2f}"
              f", bot CPU/step x{(ln.cpu / ln.steps) / (bn.cpu / bn.steps):.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--solo", type=int, default=6, help="interviews played one user at a time")
    parser.add_argument("--only", choices=(*BOTS, "before"))
    parser.add_argument("--bot-root", type=Path, default=ROOT,
                        help="run leavewell from another checkout (e.g. main's)")
    parser.add_argument("--before-root", type=Path, default=None,
                        help="also run leavewell from an older checkout, for a ratio")
    args = parser.parse_args()
    BOT_ROOT = args.bot_root.resolve()
    BEFORE_ROOT = args.before_root.resolve() if args.before_root else None
    asyncio.run(main(args.users, args.rounds, args.solo, args.only))
