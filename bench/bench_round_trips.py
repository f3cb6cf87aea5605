"""Statements the PostgreSQL server runs per turn of one replica's core: what a step costs in
round trips, free of the timing noise of a shared machine.

Each statement a client sends on its own (a lock, a load, a step, a mark, a reset query)
is one transaction on the server; a store's backends report theirs when they exit, so the
store is closed before `pg_stat_database` is read. Two runs of different lengths on fresh
databases: their difference per turn leaves out what opening and warming up cost.

    python bench/bench_round_trips.py [--conversations 20] [--turns 40,240]
                                      [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from bench.bench_core import NullSender, script_event
from leavewell.bot.core import Core
from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.dialogs.engine import Interviewer
from leavewell.storage.factory import make_store
from tests.support.postgres import throwaway_database

_TRANSACTIONS = """
SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1
"""


async def transactions_for(admin_url: str, conversations: int, turns_each: int) -> int:
    """Server transactions of a core playing `turns_each` turns in each conversation."""
    async with throwaway_database(admin_url) as url:
        store = make_store(url, pool_min=1, pool_max=10)
        await store.open()
        core = Core(store, Interviewer())
        core.register_sender("bench", NullSender())

        async def user(n: int) -> None:
            for i in range(turns_each):
                await core.handle(Incoming(ConversationRef("bench", f"c{n}", f"u{n}"),
                                           script_event(i), f"{n}:{i}"))

        await asyncio.gather(*(user(n) for n in range(conversations)))
        await store.close()
        await asyncio.sleep(0.5)  # the backends' last reports
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.execute("SELECT pg_stat_clear_snapshot()")
            return int(await admin.fetchval(_TRANSACTIONS, url.rpartition("/")[2]))
        finally:
            await admin.close()


async def main(args: argparse.Namespace) -> None:
    short, long = (int(t) for t in args.turns.split(","))
    few = await transactions_for(args.postgres, args.conversations, short)
    many = await transactions_for(args.postgres, args.conversations, long)
    per_turn = (many - few) / (args.conversations * (long - short))
    print(f"PostgreSQL, one replica, {args.conversations} concurrent conversations: "
          f"{per_turn:.2f} statements (round trips) per turn")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--turns", default="40,240", help="the two runs' turns per conversation")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    asyncio.run(main(parser.parse_args()))
