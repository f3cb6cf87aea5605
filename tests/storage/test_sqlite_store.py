"""SQLite-only behaviour: group commit and its fallback, connections, the URL factory."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leavewell.storage import open_store
from leavewell.storage.errors import StoreClosedError
from leavewell.storage.memory import MemoryStore
from leavewell.storage.sqlite import SqliteStore
from tests.storage.test_contract import T0, conv_key, make_step, user_key


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "s.db")
    await opened.open()
    yield opened
    await opened.close()


async def test_connection_settings(store: SqliteStore) -> None:
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    writer = store._writer
    assert writer is not None
    for pragma, expected in [("synchronous", 2), ("foreign_keys", 1), ("busy_timeout", 5000)]:
        rows = list(await writer.execute_fetchall(f"PRAGMA {pragma}"))
        assert rows[0][0] == expected, pragma


async def test_concurrent_commits_share_transactions(store: SqliteStore) -> None:
    steps = [make_step(f"e{n}", conv=conv_key(n), user=user_key(n)) for n in range(300)]
    results = await asyncio.gather(*(store.commit(s) for s in steps))
    assert all(r is not None for r in results)
    assert store.stats.jobs == 300
    assert store.stats.transactions < 10  # grouped, not one transaction per step
    assert store.stats.largest_batch > 50


async def test_a_database_error_in_a_batch_fails_only_its_step(store: SqliteStore) -> None:
    # A real SQLite error in the middle of a batch: the trigger aborts one turn's insert.
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON turns WHEN NEW.text = 'poison'"
            " BEGIN SELECT RAISE(ABORT, 'poisoned turn'); END"
        )
    texts = ["ok"] * 10
    texts[4] = "poison"
    steps = [
        make_step(f"e{n}", conv=conv_key(n), user=user_key(n), texts=(text,))
        for n, text in enumerate(texts)
    ]
    results = await asyncio.gather(*(store.commit(s) for s in steps), return_exceptions=True)

    assert isinstance(results[4], sqlite3.DatabaseError) and "poisoned" in str(results[4])
    assert all(isinstance(r, list) for i, r in enumerate(results) if i != 4)
    assert store.stats.fallbacks == 1
    assert await store.load(conv_key(4), user_key(4)) == (None, None)  # nothing half-written
    assert len(await store.pending_outbox()) == 9
    for n in range(10):
        assert len(await store.turns(conv_key(n))) == (0 if n == 4 else 1)
    # Its event id was not recorded, so the retry after the fix is applied.
    with sqlite3.connect(store.path) as conn:
        conn.execute("DROP TRIGGER poison")
    assert await store.commit(steps[4]) is not None


async def test_reads_do_not_wait_for_another_writer(store: SqliteStore) -> None:
    await store.commit(make_step("e1"))
    blocker = sqlite3.connect(store.path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # holds the write lock, like a long batch
        blocker.execute("DELETE FROM conversations")
        user, conversation = await asyncio.wait_for(store.load("tg:1:1:0", "tg:1"), 2)
        assert user is not None and conversation is not None  # WAL: the committed snapshot
        assert len(await store.pending_outbox()) == 1
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


async def test_close_drains_queued_commits(tmp_path: Path) -> None:
    path = tmp_path / "drain.db"
    store = SqliteStore(path)
    await store.open()
    tasks = [
        asyncio.create_task(store.commit(make_step(f"e{n}", texts=(f"t{n}",)))) for n in range(50)
    ]
    await asyncio.sleep(0)  # let them queue
    await store.close()
    assert all(t.done() and t.result() is not None for t in tasks)
    with pytest.raises(StoreClosedError):
        await store.commit(make_step("late"))
    with pytest.raises(StoreClosedError):
        await store.load("tg:1:1:0", "tg:1")

    reopened = SqliteStore(path)
    await reopened.open()
    try:
        assert [t.text for t in await reopened.turns("tg:1:1:0")] == [f"t{n}" for n in range(50)]
    finally:
        await reopened.close()


async def test_in_memory_database_shares_one_connection_for_reads_and_writes() -> None:
    store = await open_store("sqlite:///:memory:")
    assert isinstance(store, SqliteStore)
    try:

        async def write(n: int) -> None:
            for i in range(3):
                await store.commit(
                    make_step(f"e{n}:{i}", conv=conv_key(n), user=user_key(n), texts=("a", "b"))
                )

        async def read() -> None:
            for _ in range(20):
                for n in range(20):
                    turns = await store.turns(conv_key(n))
                    assert len(turns) % 2 == 0  # both turns of a step, or neither
                await asyncio.sleep(0)

        await asyncio.gather(*(write(n) for n in range(20)), read())
        assert await store.schema_version() == store.latest_version
        assert len(await store.pending_outbox(limit=1000)) == 60
    finally:
        await store.close()


async def test_factory_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memory = await open_store("memory://")
    assert isinstance(memory, MemoryStore)
    await memory.close()

    absolute = tmp_path / "deep" / "er" / "bot.db"
    store = await open_store(f"sqlite:///{absolute}")  # sqlite:////abs/path: four slashes
    assert isinstance(store, SqliteStore) and store.path == str(absolute)
    await store.commit(make_step("e1", at=T0))
    await store.close()
    assert absolute.exists()

    monkeypatch.chdir(tmp_path)
    relative = await open_store("sqlite:///data/relative.db?synchronous=full")
    assert isinstance(relative, SqliteStore)
    assert relative.path == str(tmp_path / "data" / "relative.db")
    assert relative.synchronous == "FULL"
    await relative.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql+psycopg://bot@db/leavewell", "unsupported storage URL scheme"),
        ("mysql://x/y", "unsupported storage URL scheme 'mysql'"),
        ("leavewell.db", "has no scheme"),
        ("sqlite://host/x.db", "no host"),
        ("sqlite:///", "names no database file"),
        ("sqlite:///x.db?journal=off", "unknown option"),
        ("sqlite:///x.db?synchronous=sometimes", "synchronous must be one of"),
    ],
)
async def test_factory_refuses_unknown_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        await open_store(url)
