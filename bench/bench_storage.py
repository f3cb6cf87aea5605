"""Durable commits/s through SqliteStore with many concurrent conversations.

Each conversation commits its steps one after another (as the core does, per key);
conversations run concurrently. Every commit upserts a user and a conversation, stores
one or two turns, queues one or two outbox rows and records an event id, like a real
answer being processed. Afterwards the database is checked: every row present once,
and each conversation's turns in commit order.

    python bench/bench_storage.py [--conversations 1000] [--commits 20000]
                                  [--synchronous NORMAL|FULL] [--max-batch 512]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from leavewell.storage import ConversationRecord, StepRecord, TurnRecord, UserRecord
from leavewell.storage.sqlite import SqliteStore

ANSWER = (
    "I left my last role because the team I joined was reorganised and the product I "
    "owned was folded into another group. I had shipped the billing migration, cut "
    "invoice errors by forty percent and mentored two new engineers, and I wanted to "
    "keep growing in platform work, which the new structure no longer offered. I "
    "talked it through with my manager, we agreed on a handover plan, and we still "
    "meet for coffee every few months. What draws me to this company is the chance to "
    "own reliability for a product used by millions, and to learn from a team that "
    "writes about its incidents openly. I have been preparing by taking a course on "
    "distributed systems and contributing to an open source queue library, so I am "
    "ready to contribute from the first week and to keep learning as the role grows."
)
FEEDBACK = "Score 7/10. " + "You stayed positive and named concrete results. " * 25


def analysis() -> dict[str, object]:
    points = ["positive", "ownership", "forward", "specific", "connects", "proof", "terms"]
    return {
        "lang": "en",
        "words": 150,
        "score": 7,
        "points": [
            {"point": p, "verdict": "pass", "evidence": [[12, 40, "shipped the billing"]]}
            for p in points
        ],
    }


def make_step(n: int, i: int, now: float) -> StepRecord:
    conv_key, user_key = f"tg:{n}:{n}:0", f"tg:{n}"
    two = i % 2 == 1
    turns = [
        TurnRecord(conv_key, user_key, now, "text", ANSWER, analysis(), {"update": i}),
    ]
    if two:
        turns.append(TurnRecord(conv_key, user_key, now, "timeout", None, None, {"update": i}))
    payloads: list[dict[str, object]] = [{"text": FEEDBACK, "buttons": [["retry", "stop"]]}]
    if two:
        payloads.append({"text": "Why now? Tell me what changed this year."})
    return StepRecord(
        event_id=f"telegram:{n}:{i}",
        at=now,
        conversation=ConversationRecord(
            conversation_key=conv_key,
            user_key=user_key,
            state={
                "stage": "followup",
                "situation": "laid_off",
                "answer": ANSWER,
                "followups": ["why_now", "manager_view"],
                "followup_index": i % 3,
                "prompt_seq": i,
                "last_event_at": now,
            },
            deadline=now + 900,
            address={"chat_id": n},
        ),
        user=UserRecord(
            user_key,
            {"lang": "en", "role": "SRE", "company": "Acme", "attempts": [{"score": 6}] * 3},
        ),
        turns=tuple(turns),
        outbox=tuple(payloads),
        platform="telegram",
        address={"chat_id": n},
    )


async def run(args: argparse.Namespace, path: Path) -> None:
    store = SqliteStore(path, synchronous=args.synchronous, max_batch=args.max_batch)
    await store.open()
    per_conversation = args.commits // args.conversations
    latencies: list[float] = []

    async def conversation(n: int) -> None:
        for i in range(per_conversation):
            step = make_step(n, i, time.time())
            started = time.perf_counter()
            await store.commit(step)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(conversation(n) for n in range(args.conversations)))
    elapsed = time.perf_counter() - started
    await store.close()

    total = len(latencies)
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(total - 1, int(total * 0.99))] * 1000
    print(f"sqlite synchronous={args.synchronous} max_batch={args.max_batch}")
    print(f"{args.conversations} concurrent conversations, {total} commits in {elapsed:.2f} s")
    print(f"commits/s: {total / elapsed:,.0f}")
    print(f"commit latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    stats = store.stats
    print(
        f"transactions: {stats.transactions}, mean batch {stats.jobs / stats.transactions:.0f},"
        f" largest {stats.largest_batch}, fallbacks {stats.fallbacks}"
    )
    verify(path, args.conversations, per_conversation)


def verify(path: Path, conversations: int, per_conversation: int) -> None:
    """Every commit stored exactly once, and each conversation's turns in commit order."""
    with sqlite3.connect(path) as conn:
        events = conn.execute("SELECT COUNT(*) FROM processed_events").fetchone()[0]
        turns = conn.execute("SELECT COUNT(*) FROM turns").fetchone()[0]
        outbox = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        rows = conn.execute(
            "SELECT conversation_key, json_extract(meta, '$.update') FROM turns"
            " ORDER BY conversation_key, id"
        ).fetchall()
    odd = per_conversation // 2
    expected_rows = conversations * (per_conversation + odd)
    assert events == conversations * per_conversation, events
    assert turns == expected_rows and outbox == expected_rows, (turns, outbox)
    last: dict[str, int] = {}
    for key, update in rows:
        assert update >= last.get(key, -1), f"{key}: turn of update {update} out of order"
        last[key] = update
    print(f"verified: {events} events, {turns} turns, {outbox} outbox rows, order kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    parser.add_argument("--max-batch", type=int, default=512)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    args = parser.parse_args()
    if args.db is not None:
        if args.db.exists():
            parser.error(f"{args.db} exists; the benchmark needs a fresh database")
        asyncio.run(run(args, args.db))
        return
    with tempfile.TemporaryDirectory(prefix="leavewell-bench-") as folder:
        asyncio.run(run(args, Path(folder) / "bench.db"))


if __name__ == "__main__":
    main()
