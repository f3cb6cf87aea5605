"""SqliteStore: the embedded default backend (aiosqlite, WAL, group commit).

Writes go through one writer task. `commit()` validates and encodes the step on the
caller's side, queues it and awaits a future; the writer drains the queue and applies
up to `max_batch` queued jobs in ONE `BEGIN IMMEDIATE ... COMMIT`, with rows batched
per table (executemany). Every future is resolved only after COMMIT succeeded. If a
batch fails, its jobs are retried one transaction each, so one bad step fails alone.

Reads use a second, query-only connection (WAL lets it read while the writer writes),
so they never queue behind a batch. An in-memory database (":memory:") cannot be
shared by two connections: there the reads use the writer's connection, under a lock
that keeps them out of the writer's open transactions.

Migrations are numbered SQL files in `storage/migrations/sqlite/` (`0001_initial.sql`,
...), applied at `open()` by the shared runner (`storage.migrate`), each in its own
transaction with its `PRAGMA user_version`; a database newer than the code is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import aiosqlite

from leavewell.storage._codec import (
    EncodedStep,
    conversation_from_row,
    dump_json,
    encode_settings,
    encode_step,
    load_json,
    round_from_row,
)
from leavewell.storage.base import (
    ConversationRecord,
    HeldCommit,
    OutboxItem,
    RoundRecord,
    StepRecord,
    TurnRecord,
    UserRecord,
)
from leavewell.storage.errors import StoreClosedError, open_error
from leavewell.storage.export import export_dict
from leavewell.storage.held import commit_then_look
from leavewell.storage.locks import KeyedLocks
from leavewell.storage.migrate import (  # re-exported: the SQLite names predate the shared runner
    Migration,
    MigrationError,
    SchemaTooNewError,
    apply_migrations,
    check_not_too_new,
    load_migrations,
    split_statements,
)
from leavewell.storage.sqlite_check import prepare_file

__all__ = [
    "MEMORY",
    "SYNCHRONOUS_MODES",
    "Migration",
    "MigrationError",
    "SchemaTooNewError",
    "SqliteStore",
    "load_migrations",
    "split_statements",
]

log = logging.getLogger(__name__)

MEMORY = ":memory:"
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_MAX_PARAMS = 500  # per IN (...) list; far below SQLite's variable limit


# --------------------------------------------------------------------------- SQL

_LOAD = """
SELECT u.user_key, u.profile, c.user_key, c.state, c.deadline, c.address
FROM (SELECT 1) AS one
LEFT JOIN users AS u ON u.user_key = ?1
LEFT JOIN conversations AS c ON c.conversation_key = ?2
"""
_SEEN_EVENTS = "SELECT event_id FROM processed_events WHERE event_id IN ({})"
_UPSERT_USER = """
INSERT INTO users (user_key, profile, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
ON CONFLICT (user_key) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at
"""
_UPSERT_CONVERSATION = """
INSERT INTO conversations (conversation_key, user_key, state, deadline, address, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (conversation_key) DO UPDATE SET
    user_key = excluded.user_key, state = excluded.state, deadline = excluded.deadline,
    address = excluded.address, updated_at = excluded.updated_at
"""
_INSERT_TURN = """
INSERT INTO turns (conversation_key, user_key, at, kind, text, analysis, meta)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
_INSERT_OUTBOX = """
INSERT INTO outbox (conversation_key, platform, address, payload, created_at)
VALUES (?, ?, ?, ?, ?)
"""
_INSERT_EVENT = "INSERT INTO processed_events (event_id, at) VALUES (?, ?)"
_FORGET = (
    """
    DELETE FROM outbox WHERE conversation_key IN (
        SELECT conversation_key FROM conversations WHERE user_key = ?1
        UNION SELECT conversation_key FROM turns WHERE user_key = ?1)
    """,
    "DELETE FROM turns WHERE user_key = ?1",
    "DELETE FROM conversations WHERE user_key = ?1",
    "DELETE FROM users WHERE user_key = ?1",
)
_MARK_SENT = "UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL"
_INBOX_PUT = (
    "INSERT OR IGNORE INTO inbox (event_id, payload, received_at) SELECT ?1, ?2, ?3 "
    "WHERE NOT EXISTS (SELECT 1 FROM processed_events WHERE event_id = ?1)"
)
_INBOX_DELETE = "DELETE FROM inbox WHERE event_id = ?"
_INBOX_PENDING = (
    "SELECT event_id, payload FROM inbox WHERE event_id >= ? AND event_id < ? "
    "ORDER BY received_at, rowid LIMIT ?"
)
_PRUNE_SENT = "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?"
_PENDING_OUTBOX = """
SELECT id, conversation_key, platform, address, payload, created_at
FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?
"""
_PENDING_OUTBOX_OF = """
SELECT id, conversation_key, platform, address, payload, created_at
FROM outbox WHERE sent_at IS NULL AND conversation_key = ? ORDER BY id LIMIT ?
"""
_CONVERSATION_COLUMNS = "conversation_key, user_key, state, deadline, address"
_DUE = f"""
SELECT {_CONVERSATION_COLUMNS} FROM conversations
WHERE deadline <= ? ORDER BY deadline, conversation_key LIMIT ?
"""
_OPEN_CONVERSATIONS = f"""
SELECT {_CONVERSATION_COLUMNS} FROM conversations
WHERE deadline IS NOT NULL AND json_extract(address, '$.platform') = ?
ORDER BY deadline, conversation_key LIMIT ?
"""
_NEXT_DEADLINE = """
SELECT MIN(d) FROM (
    SELECT MIN(deadline) AS d FROM conversations WHERE deadline IS NOT NULL
    UNION ALL SELECT MIN(deadline) FROM rounds WHERE deadline IS NOT NULL)
"""
_UPSERT_ROUND = """
INSERT INTO rounds (round_id, group_key, state, deadline, is_open, updated_at)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (round_id) DO UPDATE SET
    group_key = excluded.group_key, state = excluded.state, deadline = excluded.deadline,
    is_open = excluded.is_open, updated_at = excluded.updated_at
"""
_ROUND_COLUMNS = "round_id, group_key, state, deadline, is_open"
_LOAD_ROUND = f"SELECT {_ROUND_COLUMNS} FROM rounds WHERE round_id = ?"
_OPEN_ROUND = f"""
SELECT {_ROUND_COLUMNS} FROM rounds WHERE group_key = ? AND is_open = 1
ORDER BY updated_at DESC LIMIT 1
"""
_DUE_ROUNDS = f"""
SELECT {_ROUND_COLUMNS} FROM rounds WHERE deadline <= ? ORDER BY deadline, round_id LIMIT ?
"""
_LOAD_SETTINGS = "SELECT values_json FROM settings WHERE scope_key = ?"
_SAVE_SETTINGS = """
INSERT INTO settings (scope_key, values_json, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
ON CONFLICT (scope_key) DO UPDATE SET
    values_json = excluded.values_json, updated_at = excluded.updated_at
"""
_TURN_COLUMNS = "conversation_key, user_key, at, kind, text, analysis, meta"
_TURNS = f"SELECT {_TURN_COLUMNS} FROM turns WHERE conversation_key = ? ORDER BY id"
_EXPORT_USER = "SELECT profile FROM users WHERE user_key = ?"
_EXPORT_CONVERSATIONS = f"""
SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_key = ? ORDER BY conversation_key
"""
# A turn's number in its conversation is its rank by id (ids come from AUTOINCREMENT).
_EXPORT_TURNS = f"""
SELECT {_TURN_COLUMNS},
       row_number() OVER (PARTITION BY conversation_key ORDER BY id) AS seq
FROM turns WHERE user_key = ? ORDER BY id
"""


# --------------------------------------------------------------------------- connecting


async def _connect(path: str) -> aiosqlite.Connection:
    """aiosqlite.connect(), minus its failure mode: when the open fails, its worker
    thread reports that to the event loop later, after a start-up error may have closed
    the loop ("RuntimeError: Event loop is closed" on stderr). Opening the sqlite3
    connection first means the worker thread only starts for a connection that works."""
    raw = await asyncio.to_thread(sqlite3.connect, path, isolation_level=None,
                                  check_same_thread=False)
    return await aiosqlite.Connection(lambda: raw, iter_chunk_size=64)


def _remove_if(created: bool, path: str) -> None:
    """Remove the empty database file (and journals) this open created, after a failure."""
    if not created:
        return
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(OSError):
            os.remove(name)


# --------------------------------------------------------------------------- writer jobs


@dataclass(slots=True)
class _Job:
    """One queued write: a step, a mark_sent, a prune_sent, inbox rows or settings."""

    future: asyncio.Future[Any]
    step: EncodedStep | None = None
    sent_ids: tuple[int, ...] = ()
    sent_at: float = 0.0
    prune_before: float | None = None
    inbox_rows: tuple[tuple[str, str, float], ...] = ()  # (event id, payload JSON, time)
    inbox_drop: tuple[str, ...] = ()
    settings: tuple[tuple[str, str, float], ...] = ()  # (scope key, values JSON, time)


@dataclass(slots=True)
class WriterStats:
    """Counters of the group-commit writer, for benchmarks and tests."""

    transactions: int = 0  # committed transactions (batches and fallback singles)
    jobs: int = 0  # jobs committed
    largest_batch: int = 0
    fallbacks: int = 0  # batches that failed and were retried one job at a time


@dataclass(slots=True)
class _Rows:
    """Rows accumulated for one executemany per table."""

    users: list[tuple[Any, ...]] = field(default_factory=list)
    conversations: list[tuple[Any, ...]] = field(default_factory=list)
    turns: list[tuple[Any, ...]] = field(default_factory=list)
    # (row, the step's items, index): the row's id comes from the insert, into its item
    outbox: list[tuple[tuple[Any, ...], list[OutboxItem], int]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    rounds: list[tuple[Any, ...]] = field(default_factory=list)


class _NoLock:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


# --------------------------------------------------------------------------- the store


class SqliteStore:
    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: str = "FULL",
        busy_timeout_ms: int = 5000,
        max_batch: int = 512,
        migrations: Traversable | Path | None = None,
    ) -> None:
        raw = os.fspath(path)
        self.path = raw if raw == MEMORY else os.path.abspath(raw)
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}, got {synchronous!r}")
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self.synchronous = mode
        self.busy_timeout_ms = int(busy_timeout_ms)
        self.max_batch = max_batch
        self._migrations = load_migrations(migrations)
        self.latest_version = self._migrations[-1].version if self._migrations else 0
        self.applied_migrations: tuple[int, ...] = ()  # by the last open()
        self.stats = WriterStats()
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._read_lock: asyncio.Lock | _NoLock = _NoLock()
        self._write_lock: asyncio.Lock | _NoLock = _NoLock()
        self._queue: deque[_Job] = deque()
        self._wakeup = asyncio.Event()
        self._writer_task: asyncio.Task[None] | None = None
        self._closing = False
        self._writer_error: BaseException | None = None
        self._locks = KeyedLocks()

    # ----------------------------------------------------------------- lifecycle

    async def open(self) -> None:
        """Check the file (read-only: a damaged or foreign one is refused and left
        untouched), then connect and migrate. Raises StoreOpenError naming the cause."""
        if self._writer is not None:
            raise RuntimeError("the store is already open")
        created = False
        if self.path != MEMORY:
            created = await asyncio.to_thread(prepare_file, self.path)
        try:
            writer = await _connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            _remove_if(created, self.path)
            raise open_error(self.path, exc, "cannot open the database") from exc
        reader = writer
        try:
            await self._configure(writer, query_only=False)
            self.applied_migrations = await self._migrate(writer)
            if self.path != MEMORY:
                reader = await _connect(self.path)
                await self._configure(reader, query_only=True)
        except BaseException as exc:
            if reader is not writer:
                await reader.close()
            await writer.close()
            _remove_if(created, self.path)
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise open_error(self.path, exc) from exc
            raise
        self._writer, self._reader = writer, reader
        self._read_lock = asyncio.Lock()
        # One connection for both: reads must not run inside the writer's transaction.
        self._write_lock = self._read_lock if reader is writer else _NoLock()
        self._queue = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._writer_error = None
        self._writer_task = asyncio.create_task(self._writer_loop(), name="sqlite-store-writer")

    async def close(self) -> None:
        """Commit everything already queued, then close both connections."""
        if self._writer is None:
            return
        self._closing = True
        self._wakeup.set()
        task, self._writer_task = self._writer_task, None
        if task is not None:
            # wait() neither raises the task's error (already recorded in _writer_error,
            # and its futures failed) nor cancels the task if close() itself is cancelled.
            await asyncio.wait([task])
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        if reader is not None and reader is not writer:
            await reader.close()
        try:
            await writer.execute("PRAGMA optimize")
        except sqlite3.Error:
            log.debug("PRAGMA optimize failed", exc_info=True)
        await writer.close()

    async def schema_version(self) -> int:
        rows = await self._read("PRAGMA user_version", ())
        return int(rows[0][0])

    @contextlib.asynccontextmanager
    async def lock(self, key: str, *more: str) -> AsyncIterator[None]:
        """One process writes the file: an in-process lock per key is enough."""
        if self._writer is None:
            raise StoreClosedError("the store is not open")
        async with self._locks.hold(key, *more):
            yield

    async def _configure(self, conn: aiosqlite.Connection, *, query_only: bool) -> None:
        await conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        if self.path != MEMORY:
            rows = list(await conn.execute_fetchall("PRAGMA journal_mode = WAL"))
            if str(rows[0][0]).lower() != "wal":
                raise RuntimeError(f"could not switch {self.path} to WAL mode: {rows[0][0]}")
        await conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if query_only:
            await conn.execute("PRAGMA query_only = ON")

    async def _migrate(self, conn: aiosqlite.Connection) -> tuple[int, ...]:
        return await apply_migrations(_SqliteTarget(conn, self.path), self._migrations)

    def _check_not_too_new(self, version: int) -> None:
        check_not_too_new(version, self.latest_version, self.path)

    # ----------------------------------------------------------------- writes

    async def commit(self, step: StepRecord) -> list[OutboxItem] | None:
        """Apply the step atomically (see storage.base.Store.commit).

        Validation and JSON encoding happen here, before queueing: a bad step raises
        TypeError/ValueError at once and never joins a batch.
        """
        self._check_writable()
        encoded = encode_step(step)
        result: list[OutboxItem] | None = await self._submit(_Job(self._future(), step=encoded))
        return result

    async def commit_held(self, step: StepRecord, lease_seconds: float) -> HeldCommit | None:
        """`commit`, then whether an older row of the conversation is unsent: one process
        owns the data, so there is no claim to hold (see storage.held)."""
        return await commit_then_look(self, step)

    def mark_sent(self, outbox_ids: list[int]) -> Awaitable[None]:
        """Queued for the writer at the call, not when awaited: a reply is marked in the
        very next group commit after its platform confirmed it."""
        self._check_writable()
        job = _Job(self._future(), sent_ids=tuple(int(i) for i in outbox_ids),
                   sent_at=time.time())
        if not job.sent_ids:
            job.future.set_result(None)
            return job.future
        self._queue.append(job)
        self._wakeup.set()
        return job.future

    async def inbox_put(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Durably keep raw updates until processed; already processed ids are ignored."""
        self._check_writable()
        if not items:
            return
        now = time.time()
        rows = tuple((event_id, dump_json(payload), now) for event_id, payload in items)
        await self._submit(_Job(self._future(), inbox_rows=rows))

    async def inbox_drop(self, event_ids: list[str]) -> None:
        """Give up on updates that cannot be processed, so they are not replayed forever."""
        self._check_writable()
        if event_ids:
            await self._submit(_Job(self._future(), inbox_drop=tuple(event_ids)))

    async def save_settings(self, scope_key: str, values: dict[str, Any], at: float) -> None:
        self._check_writable()
        row = encode_settings(scope_key, values, at)
        await self._submit(_Job(self._future(), settings=(row,)))

    async def inbox_pending(self, prefix: str, limit: int = 1000) -> list[tuple[str, Any]]:
        rows = await self._read(_INBOX_PENDING, (prefix, prefix + "\uffff", limit))
        return [(event_id, load_json(payload)) for event_id, payload in rows]

    async def prune_sent(self, older_than: float) -> int:
        """Delete outbox rows sent before `older_than`; returns how many were deleted."""
        self._check_writable()
        deleted: int = await self._submit(_Job(self._future(), prune_before=float(older_than)))
        return deleted

    def _check_writable(self) -> None:
        if self._writer is None or self._closing:
            raise StoreClosedError("the store is not open")
        if self._writer_error is not None:
            raise StoreClosedError("the store's writer has stopped") from self._writer_error

    def _future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job) -> Any:
        self._queue.append(job)
        self._wakeup.set()
        return await job.future

    async def _writer_loop(self) -> None:
        try:
            while True:
                if not self._queue:
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                await self._drain()
        except BaseException as exc:
            self._writer_error = exc
            queued = list(self._queue)
            self._queue.clear()
            _fail(queued, lambda: StoreClosedError("the store's writer stopped"))
            raise

    async def _drain(self) -> None:
        """Commit the queued jobs on the SQLite thread, in batches, in one hop: the thread
        takes the next batch itself as soon as one commits, so no batch waits for the event
        loop. Under load an iteration of the loop takes tens of milliseconds, and a reply's
        mark used to wait two of them; a crash then re-sent every reply in that window."""
        conn = self._writer
        if conn is None:
            raise StoreClosedError("the store is not open")
        loop = asyncio.get_running_loop()
        # On a shared connection (":memory:") reads get their turn between batches.
        keep_going = self._reader is not self._writer
        async with self._write_lock:
            await _on_connection_thread(conn, self._drain_on_thread, loop, keep_going)

    def _drain_on_thread(self, db: sqlite3.Connection, loop: asyncio.AbstractEventLoop,
                         keep_going: bool) -> None:
        while self._queue:  # only this thread takes jobs; the loop only appends
            jobs = [self._queue.popleft() for _ in range(min(len(self._queue), self.max_batch))]
            try:
                outcomes = self._commit_batch(db, jobs)
            except BaseException:
                loop.call_soon_threadsafe(
                    _fail, jobs, lambda: StoreClosedError("the store's writer stopped"))
                raise
            loop.call_soon_threadsafe(_settle, jobs, outcomes)
            if not keep_going:
                return

    def _commit_batch(self, db: sqlite3.Connection,
                      jobs: list[_Job]) -> list[tuple[bool, Any]]:
        """One transaction for the batch; if it fails, one per job, so a bad job fails alone.
        Returns (succeeded, result or error) per job."""
        try:
            outcomes: list[tuple[bool, Any]] = [
                (True, r) for r in _apply_in_transaction(db, jobs)]
            self.stats.transactions += 1
        except Exception as exc:
            if len(jobs) == 1:
                return [(False, exc)]
            self.stats.fallbacks += 1
            log.warning("a batch of %d writes failed (%s); retrying one by one", len(jobs), exc)
            outcomes = []
            for job in jobs:
                try:
                    (result,) = _apply_in_transaction(db, [job])
                    outcomes.append((True, result))
                    self.stats.transactions += 1
                except Exception as single_exc:
                    outcomes.append((False, single_exc))
        self.stats.jobs += sum(ok for ok, _ in outcomes)
        self.stats.largest_batch = max(self.stats.largest_batch, len(jobs))
        return outcomes

    # ----------------------------------------------------------------- reads

    async def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        conn = self._reader
        if conn is None:
            raise StoreClosedError("the store is not open")
        async with self._read_lock:
            return list(await conn.execute_fetchall(sql, params))

    async def load(
        self, conversation_key: str, user_key: str
    ) -> tuple[UserRecord | None, ConversationRecord | None]:
        ((u_key, profile, c_user, state, deadline, address),) = await self._read(
            _LOAD, (user_key, conversation_key)
        )
        user = None if u_key is None else UserRecord(u_key, load_json(profile))
        conv = None
        if c_user is not None:
            conv = ConversationRecord(
                conversation_key, c_user, load_json(state), deadline, load_json(address)
            )
        return user, conv

    async def pending_outbox(self, limit: int = 100,
                             conversation_key: str | None = None) -> list[OutboxItem]:
        if conversation_key is None:
            rows = await self._read(_PENDING_OUTBOX, (max(limit, 0),))
        else:
            rows = await self._read(_PENDING_OUTBOX_OF, (conversation_key, max(limit, 0)))
        return [
            OutboxItem(row[0], row[1], row[2], load_json(row[3]), load_json(row[4]), row[5])
            for row in rows
        ]

    async def due_deadlines(self, now: float, limit: int = 100) -> list[ConversationRecord]:
        rows = await self._read(_DUE, (now, max(limit, 0)))
        return [conversation_from_row(row) for row in rows]

    async def open_conversations(self, platform: str,
                                 limit: int = 10_000) -> list[ConversationRecord]:
        rows = await self._read(_OPEN_CONVERSATIONS, (platform, max(limit, 0)))
        return [conversation_from_row(row) for row in rows]

    async def next_deadline(self) -> float | None:
        ((deadline,),) = await self._read(_NEXT_DEADLINE, ())
        return None if deadline is None else float(deadline)

    async def load_settings(self, scope_key: str) -> dict[str, Any]:
        rows = await self._read(_LOAD_SETTINGS, (scope_key,))
        values: dict[str, Any] = load_json(rows[0][0]) if rows else {}
        return values

    async def load_round(self, round_id: str) -> RoundRecord | None:
        rows = await self._read(_LOAD_ROUND, (round_id,))
        return round_from_row(rows[0]) if rows else None

    async def open_round(self, group_key: str) -> RoundRecord | None:
        rows = await self._read(_OPEN_ROUND, (group_key,))
        return round_from_row(rows[0]) if rows else None

    async def due_rounds(self, now: float, limit: int = 100) -> list[RoundRecord]:
        return [round_from_row(row) for row in await self._read(_DUE_ROUNDS, (now, max(limit, 0)))]

    async def turns(self, conversation_key: str) -> list[TurnRecord]:
        return [_turn(row) for row in await self._read(_TURNS, (conversation_key,))]

    async def export_user(self, user_key: str) -> dict[str, Any]:
        conn = self._reader
        if conn is None:
            raise StoreClosedError("the store is not open")
        async with self._read_lock:  # one read transaction: a consistent snapshot
            await conn.execute("BEGIN")
            try:
                users = list(await conn.execute_fetchall(_EXPORT_USER, (user_key,)))
                convs = list(await conn.execute_fetchall(_EXPORT_CONVERSATIONS, (user_key,)))
                turns = list(await conn.execute_fetchall(_EXPORT_TURNS, (user_key,)))
            finally:
                await _rollback_quietly(conn)
        return export_dict(user_key, load_json(users[0][0]) if users else None,
                           map(conversation_from_row, convs),
                           ((_turn(row), row[7]) for row in turns))


# --------------------------------------------------------------------------- helpers


@dataclass(slots=True)
class _SqliteTarget:
    """The migration runner's view of the writer connection: a migration and its
    `PRAGMA user_version` commit together (BEGIN IMMEDIATE keeps other processes out)."""

    conn: aiosqlite.Connection
    where: str
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    async def version(self) -> int:
        return await _user_version(self.conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            await self.conn.execute("COMMIT")
        except BaseException:
            await _rollback_quietly(self.conn)
            raise

    async def execute(self, statement: str) -> None:
        await self.conn.execute(statement)

    async def record(self, migration: Migration) -> None:
        await self.conn.execute(f"PRAGMA user_version = {int(migration.version)}")


async def _user_version(conn: aiosqlite.Connection) -> int:
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def _rollback_quietly(conn: aiosqlite.Connection) -> None:
    try:
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
    except (sqlite3.Error, ValueError):
        log.debug("rollback failed", exc_info=True)


def _on_connection_thread(conn: aiosqlite.Connection, fn: Callable[..., Any],
                          *args: Any) -> Awaitable[Any]:
    """Run `fn(sqlite3_connection, *args)` on the connection's own thread, in one hop.

    A whole transaction (BEGIN, every statement, COMMIT) costs one round trip between the
    event loop and the SQLite thread instead of one per statement (about 16 per step):
    under load each hop waits for a busy event loop, and the replies marked sent waited
    with it. aiosqlite offers no public way to run a callable on its thread, hence its
    internals, kept to this one function."""
    return conn._execute(lambda: fn(conn._conn, *args))


def _apply_in_transaction(db: sqlite3.Connection, jobs: list[_Job]) -> list[Any]:
    db.execute("BEGIN IMMEDIATE")
    try:
        results = _apply(db, jobs)
        db.execute("COMMIT")
    except BaseException:
        try:
            if db.in_transaction:
                db.execute("ROLLBACK")
        except sqlite3.Error:
            log.debug("rollback failed", exc_info=True)
        raise
    return results


def _apply(db: sqlite3.Connection, jobs: list[_Job]) -> list[Any]:
    """Apply `jobs` in order inside the open transaction; one result per job."""
    steps = [job.step for job in jobs if job.step is not None]
    seen = _seen_events(db, [s.step.event_id for s in steps if s.step.event_id])

    results: list[Any] = []
    acc = _Rows()
    for job in jobs:
        encoded = job.step
        if encoded is None:
            results.append(None)
            continue
        step = encoded.step
        if step.event_id is not None:
            if step.event_id in seen:
                results.append(None)  # already committed: change nothing
                continue
            seen.add(step.event_id)
            acc.events.append((step.event_id, float(step.at)))
        if step.forget_user_key is not None:
            _flush(db, acc)  # earlier steps' rows go in before the delete
            for statement in _FORGET:
                db.execute(statement, (step.forget_user_key,))
        results.append(_collect(acc, encoded))
    _flush(db, acc)

    # A processed event leaves the inbox in the transaction that records it.
    processed = [(s.step.event_id,) for s in steps if s.step.event_id]
    dropped = [(event_id,) for job in jobs for event_id in job.inbox_drop]
    if processed or dropped:
        db.executemany(_INBOX_DELETE, processed + dropped)
    settings = [row for job in jobs for row in job.settings]
    if settings:
        db.executemany(_SAVE_SETTINGS, settings)
    inbox = [row for job in jobs for row in job.inbox_rows]
    if inbox:
        db.executemany(_INBOX_PUT, inbox)
    sent = [(job.sent_at, i) for job in jobs for i in job.sent_ids]
    if sent:
        db.executemany(_MARK_SENT, sent)
    for index, job in enumerate(jobs):
        if job.prune_before is not None:
            cursor = db.execute(_PRUNE_SENT, (job.prune_before,))
            results[index] = max(cursor.rowcount, 0)
    return results


def _seen_events(db: sqlite3.Connection, event_ids: list[str]) -> set[str]:
    """The subset of `event_ids` already in processed_events (one query per 500 ids)."""
    unique = list(dict.fromkeys(event_ids))
    seen: set[str] = set()
    for start in range(0, len(unique), _MAX_PARAMS):
        chunk = unique[start : start + _MAX_PARAMS]
        sql = _SEEN_EVENTS.format(", ".join("?" * len(chunk)))
        seen.update(row[0] for row in db.execute(sql, chunk))
    return seen


def _collect(acc: _Rows, encoded: EncodedStep) -> list[OutboxItem]:
    """Add the step's rows to `acc`; returns its outbox items, whose ids the inserts fill
    in (`_flush`): the database numbers them, in the order of the rows."""
    step = encoded.step
    at = float(step.at)
    if step.user is not None:
        acc.users.append((step.user.user_key, encoded.profile, at))
    conv = step.conversation
    if conv is not None:
        deadline = None if conv.deadline is None else float(conv.deadline)
        row = (conv.conversation_key, conv.user_key, encoded.state, deadline)
        acc.conversations.append((*row, encoded.conversation_address, at))
    for t in encoded.turns:
        acc.turns.append((t.conversation_key, t.user_key, t.at, t.kind, t.text, t.analysis, t.meta))
    for r in encoded.rounds:
        acc.rounds.append((r.round_id, r.group_key, r.state, r.deadline, int(r.is_open), at))
    items: list[OutboxItem] = []
    if encoded.payloads:
        key = encoded.conversation_key
        assert key is not None  # encode_step guarantees it when there are payloads
        # The caller's own dicts (already validated as JSON) rather than decoding them back.
        address = dict(step.address)
        for payload_json, payload in zip(encoded.payloads, step.outbox, strict=True):
            row = (key, step.platform, encoded.outbox_address, payload_json, at)
            acc.outbox.append((row, items, len(items)))
            items.append(OutboxItem(0, key, step.platform, address, payload, at))
    for routed, raw in zip(encoded.routed, step.routed, strict=True):
        row = (routed.conversation_key, routed.platform, routed.address, routed.payload, at)
        acc.outbox.append((row, items, len(items)))
        items.append(OutboxItem(0, raw.conversation_key, raw.platform, dict(raw.address),
                                raw.payload, at))
    return items


def _flush(db: sqlite3.Connection, acc: _Rows) -> None:
    batches: Iterable[tuple[str, list[tuple[Any, ...]]]] = (
        (_UPSERT_USER, acc.users),
        (_UPSERT_CONVERSATION, acc.conversations),
        (_INSERT_TURN, acc.turns),
        (_INSERT_EVENT, acc.events),
        (_UPSERT_ROUND, acc.rounds),
    )
    for sql, rows in batches:
        if rows:
            db.executemany(sql, rows)
            rows.clear()
    # One insert per reply: its id is the one SQLite gives it (AUTOINCREMENT: increasing,
    # never reused), read back from the cursor rather than computed here.
    for row, items, index in acc.outbox:
        outbox_id = db.execute(_INSERT_OUTBOX, row).lastrowid
        assert outbox_id is not None
        items[index] = replace(items[index], id=outbox_id)
    acc.outbox.clear()


def _turn(row: Sequence[Any]) -> TurnRecord:
    key, user_key, at, kind, text, analysis, meta = row[:7]
    return TurnRecord(key, user_key, at, kind, text, load_json(analysis), load_json(meta))


def _settle(jobs: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
    for job, (ok, value) in zip(jobs, outcomes, strict=True):
        if ok:
            _set_result(job.future, value)
        else:
            _set_exception(job.future, value)


def _set_result(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _set_exception(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _fail(jobs: Iterable[_Job], make_error: Callable[[], BaseException]) -> None:
    for job in jobs:
        _set_exception(job.future, make_error())
