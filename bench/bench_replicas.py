"""Durable turns/s and step latency with several replicas on PostgreSQL, beside SQLite.

Each replica is its own process with its own event loop, Core and store (its own
connection pool), as a deployment would run them. The conversations are split across
the replicas (a conversation stays on one replica, as webhook routing or Discord shards
would keep it); every turn is a real core step committed in one transaction, delivered
to a null sender and marked sent. All replicas start together; throughput is all turns
over the wall time from the first start to the last finish; bot CPU is the replica
processes' own (PostgreSQL's server processes not counted, SQLite's thread counted).
Afterwards the database is
checked: every turn stored once, each conversation's turns in the order sent.

    python bench/bench_replicas.py [--conversations 400] [--turns 8000] [--rounds 3]
                                   [--replicas 1,2,4] [--pool-max 10]
                                   [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Needs a PostgreSQL server (a throwaway database is created and dropped) and asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_core import NullSender, percentile, script_event
from leavewell.bot.core import Core
from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.dialogs.engine import Interviewer
from leavewell.storage.factory import make_store
from tests.support.postgres import throwaway_database


@dataclass(frozen=True)
class Share:
    """What one replica process does: its conversations and where its store is."""

    url: str
    conversations: range
    turns_each: int
    pool_max: int


@dataclass(frozen=True)
class Outcome:
    started: float  # epoch seconds
    finished: float
    latencies_ms: list[float]
    cpu_seconds: float  # of the replica process while it played (SQLite's work included)


def ref_of(n: int) -> ConversationRef:
    return ConversationRef("bench", f"c{n}", f"u{n}")


async def play(share: Share, go: ProcessEvent) -> Outcome:
    store = make_store(share.url, pool_min=1, pool_max=share.pool_max)
    await store.open()
    core = Core(store, Interviewer())
    core.register_sender("bench", NullSender())
    latencies: list[float] = []

    async def user(n: int) -> None:
        for i in range(share.turns_each):
            started = time.perf_counter()
            await core.handle(Incoming(ref_of(n), script_event(i), f"{n}:{i}"))
            latencies.append((time.perf_counter() - started) * 1000)

    await asyncio.to_thread(go.wait)
    started, cpu = time.time(), time.process_time()
    await asyncio.gather(*(user(n) for n in share.conversations))
    finished, cpu = time.time(), time.process_time() - cpu
    await store.close()
    return Outcome(started, finished, latencies, cpu)


def replica_process(share: Share, ready: ProcessEvent, go: ProcessEvent,
                    results: multiprocessing.Queue[Outcome]) -> None:
    ready.set()
    results.put(asyncio.run(play(share, go)))


def run_replicas(url: str, replicas: int, conversations: int, turns_each: int,
                 pool_max: int) -> list[Outcome]:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    results: multiprocessing.Queue[Outcome] = context.Queue()
    processes = []
    readies = []
    for r in range(replicas):
        share = Share(url, range(r, conversations, replicas), turns_each, pool_max)
        ready = context.Event()
        process = context.Process(target=replica_process, args=(share, ready, go, results))
        process.start()
        processes.append(process)
        readies.append(ready)
    for ready in readies:
        ready.wait()
    time.sleep(1.0)  # imports done and pools opening: start everyone at once
    go.set()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a replica exited with {process.exitcode}")
    return outcomes


async def check(url: str, conversations: int, turns_each: int) -> None:
    store = make_store(url)
    await store.open()
    try:
        for n in range(0, conversations, max(1, conversations // 20)):
            stored = await store.turns(ref_of(n).key)
            expected = [script_event(i).at for i in range(turns_each)]
            assert [t.at for t in stored] == expected, f"conversation {n}: order or count"
    finally:
        await store.close()


@dataclass(frozen=True)
class Measure:
    turns_per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms_per_turn: float


def measure(outcomes: list[Outcome], turns: int) -> Measure:
    wall = max(o.finished for o in outcomes) - min(o.started for o in outcomes)
    latencies = [x for o in outcomes for x in o.latencies_ms]
    assert len(latencies) == turns
    return Measure(turns / wall, statistics.median(latencies), percentile(latencies, 0.99),
                   sum(o.cpu_seconds for o in outcomes) / turns * 1000)


def show(label: str, runs: list[Measure]) -> None:
    """The median of each figure over the rounds (and the turns/s range when several)."""
    rates = [m.turns_per_s for m in runs]
    spread = f"  (rounds: {min(rates):,.0f}-{max(rates):,.0f})" if len(runs) > 1 else ""
    print(f"  {label:<24} {statistics.median(rates):>8,.0f} turns/s"
          f"   p50 {statistics.median(m.p50_ms for m in runs):6.1f} ms"
          f"   p99 {statistics.median(m.p99_ms for m in runs):6.1f} ms"
          f"   bot CPU {statistics.median(m.cpu_ms_per_turn for m in runs):.2f} ms/turn{spread}")


def run_sqlite(args: argparse.Namespace) -> Measure:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        outcomes = run_replicas(url, 1, args.conversations, args.turns_each, args.pool_max)
        asyncio.run(check(url, args.conversations, args.turns_each))
    return measure(outcomes, args.conversations * args.turns_each)


async def run_postgres(args: argparse.Namespace, replicas: int) -> Measure:
    async with throwaway_database(args.postgres) as url:
        outcomes = await asyncio.to_thread(run_replicas, url, replicas, args.conversations,
                                           args.turns_each, args.pool_max)
        await check(url, args.conversations, args.turns_each)
    return measure(outcomes, args.conversations * args.turns_each)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=400)
    parser.add_argument("--turns", type=int, default=8000, help="in all, split evenly")
    parser.add_argument("--replicas", default="1,2,4")
    parser.add_argument("--pool-max", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3,
                        help="every configuration once per round, interleaved; medians shown")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    args.turns_each = max(1, args.turns // args.conversations)
    turns = args.conversations * args.turns_each
    print(f"durable turns through core + store, {args.conversations} concurrent conversations, "
          f"{turns} turns (step, one transaction, delivery, mark sent), one process per replica, "
          f"median of {args.rounds} interleaved rounds:")
    counts = [int(r) for r in args.replicas.split(",")]
    results: dict[str, list[Measure]] = {}
    for _ in range(args.rounds):
        results.setdefault("SQLite x1 replica", []).append(run_sqlite(args))
        for replicas in counts:
            label = f"PostgreSQL x{replicas} replica{'s' if replicas > 1 else ''}"
            results.setdefault(label, []).append(asyncio.run(run_postgres(args, replicas)))
    for label, runs in results.items():
        show(label, runs)


if __name__ == "__main__":
    main()
