"""What the start-up check of a SQLite database costs (storage/sqlite_check.py).

Builds a database of N conversations in the store's own schema (a user, a conversation
state and some turns each, answers and analyses of realistic size), then times, in one
run and on the same warm file:

- open+close of SqliteStore without the check (the check replaced by a no-op),
- open+close with the check (header, PRAGMA quick_check, schema ownership),
- the check alone, and PRAGMA integrity_check alone for comparison.

    python bench/bench_startup_check.py [--conversations 100000] [--turns 4] [--repeat 3]

The file is in the OS page cache after being built (warm); a cold start after a reboot
reads it from disk once more, at the disk's sequential speed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_storage import ANSWER, analysis
from leavewell.storage import sqlite as sqlite_module
from leavewell.storage.sqlite import SqliteStore
from leavewell.storage.sqlite_check import check_existing


def build(path: Path, conversations: int, turns: int) -> None:
    asyncio.run(_migrate(path))
    state = json.dumps({"stage": "after_feedback", "situation": "laid_off", "lang": "en",
                        "answers": [ANSWER[:300]], "followups": ["why_now", "lesson"],
                        "scores": [61, 74]})
    profile = json.dumps({"lang": "en", "role": "Data analyst", "company": "Acme"})
    result = json.dumps(analysis())
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA synchronous = OFF")
        for start in range(0, conversations, 5_000):
            keys = range(start, min(start + 5_000, conversations))
            conn.executemany("INSERT INTO users VALUES (?, ?, 0, 0)",
                             [(f"tg:{n}", profile) for n in keys])
            conn.executemany("INSERT INTO conversations VALUES (?, ?, ?, NULL, ?, 0)",
                             [(f"tg:{n}:{n}:0", f"tg:{n}", state, f"tg:{n}:{n}:0")
                              for n in keys])
            conn.executemany(
                "INSERT INTO turns (conversation_key, user_key, seq, at, kind, text, analysis,"
                " meta) VALUES (?, ?, ?, 0, ?, ?, ?, '{}')",
                [(f"tg:{n}:{n}:0", f"tg:{n}", seq, "answer" if seq % 2 else "choice",
                  ANSWER if seq % 2 else "laid_off", result if seq % 2 else None)
                 for n in keys for seq in range(1, turns + 1)])
    conn.close()


async def _migrate(path: Path) -> None:
    store = SqliteStore(path)
    await store.open()
    await store.close()


def _open_close(path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(path)
        await store.open()
        await store.close()

    asyncio.run(run())


def _integrity_check(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def timed(action: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "check.db"
        start = time.perf_counter()
        build(path, args.conversations, args.turns)
        size = os.path.getsize(path)
        print(f"{args.conversations:,} conversations, {args.turns} turns each: "
              f"{size / 1e6:.0f} MB, built in {time.perf_counter() - start:.1f} s")
        timed(lambda: check_existing(str(path)), 1)  # warm the page cache

        def unchecked() -> None:
            with mock.patch.object(sqlite_module, "prepare_file", lambda _path: False):
                _open_close(path)

        rows = [
            ("open+close, no check", timed(unchecked, args.repeat)),
            ("open+close, with the check", timed(lambda: _open_close(path), args.repeat)),
            ("the check alone (quick_check)",
             timed(lambda: check_existing(str(path)), args.repeat)),
            ("integrity_check alone", timed(lambda: _integrity_check(path), args.repeat)),
        ]
        base = rows[0][1]
        for name, seconds in rows:
            print(f"  {name:32} {seconds * 1000:8.1f} ms   ×{seconds / base:.1f}   "
                  f"{size / 1e6 / seconds:6.0f} MB/s")


if __name__ == "__main__":
    main()
