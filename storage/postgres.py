"""PostgresStore: the backend for several bot replicas on one database (asyncpg).

The same contract as SqliteStore, but nothing may rely on being the only process:

- Ids come from identity columns; a turn's number in its conversation is its rank by id,
  computed when read, so no writer ever reads MAX(...) + 1.
- Each step is one transaction, and usually one statement (one round trip to the
  server). It first takes a transaction-scoped advisory lock on its conversation (and on
  each round it changes), so two replicas never interleave one conversation's writes,
  then records its event id with ON CONFLICT DO NOTHING: an update delivered twice, even
  to two replicas at the same moment, is applied once (the second insert waits for the
  first transaction and then finds the row).
- Within one process, steps that share a conversation, user, event id or round are
  applied in the order `commit()` was called, as SQLite's single writer does.
- Work any replica may take (unsent replies, due timeouts, due rounds) is claimed with
  `FOR UPDATE SKIP LOCKED` and a lease (`claimed_until`, database clock): two replicas
  never claim the same row at once, and a dead replica's claims run out.
- Serialization failures, deadlocks and dropped connections are retried with bounded,
  jittered exponential backoff. A step whose COMMIT was lost with its connection may
  have committed: its retry then finds the event id and returns None, and the replies
  it stored are picked up by the outbox sweep (at least once, as documented). A step
  without an event id is not repeated in that case; the error reaches the caller.

Migrations are `storage/migrations/postgres/NNNN_name.sql`, applied at `open()` by the
shared runner (`storage.migrate`) one per transaction, recorded in `schema_version`,
under an advisory lock so replicas starting together migrate once. A database newer than
the code is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

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
from leavewell.storage.errors import StoreClosedError
from leavewell.storage.export import export_dict
from leavewell.storage.locks import KeyedLocks
from leavewell.storage.migrate import Migration, apply_migrations, load_migrations

log = logging.getLogger(__name__)

T = TypeVar("T")

# Any constant unlikely to collide with an application's own advisory locks.
_MIGRATION_LOCK = 0x6C65_6176_6577  # "leavew"
DEFAULT_LEASE_SECONDS = 30.0
# Store.lock(keys) takes the session locks hashtextextended(key, _LOCK_SEED), all in one
# query, in hash order (two callers taking several never wait on each other); a step's
# transaction locks hash their keys with seed 0, so the two never share a lock id.
_LOCK_SEED = 0x6C6F_636B  # "lock"
_LOCK_IDS = f"SELECT DISTINCT hashtextextended(k, {_LOCK_SEED}) AS h FROM unnest($1::text[]) AS k"
_LOCK = f"SELECT count(pg_advisory_lock(h)) FROM ({_LOCK_IDS} ORDER BY h) AS ordered"
_UNLOCK = f"SELECT count(pg_advisory_unlock(h)) FROM ({_LOCK_IDS}) AS held"
_LOCK_POOL_CLOSE_SECONDS = 5.0

class _ConnectionLost(ConnectionError):
    """The connection turned out to be closed under a query."""


# Worth another attempt on a fresh connection. Rolled back: the work left no trace.
_ROLLED_BACK: tuple[type[BaseException], ...] = (
    asyncpg.TransactionRollbackError,  # serialization failure, deadlock
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)
# Connection lost: if it happened while the work ran, its COMMIT may or may not have
# happened, so only work that is safe to repeat is repeated (see `_run`).
_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # includes "connection does not exist"
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    ConnectionError,
    TimeoutError,
)

# --------------------------------------------------------------------------- SQL

_NOW = "extract(epoch from clock_timestamp())"
_SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
_SCHEMA_VERSION = "SELECT COALESCE(MAX(version), 0) FROM schema_version"
_RECORD_MIGRATION = "INSERT INTO schema_version (version, name) VALUES ($1, $2)"

_LOAD = """
SELECT u.user_key, u.profile, c.user_key, c.state, c.deadline, c.address
FROM (SELECT 1) AS one
LEFT JOIN users AS u ON u.user_key = $1
LEFT JOIN conversations AS c ON c.conversation_key = $2
"""
# Locks in hash order, so two steps locking the same keys cannot deadlock each other.
_LOCKS = """
SELECT count(pg_advisory_xact_lock(h)) AS n FROM (
    SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h
) AS ordered
"""
# The locks first (the INSERT reads from them), then the event id: a row only when new.
# A processed event leaves the inbox in the same transaction.
_LOCK_AND_RECORD_EVENT = f"""
WITH locks AS ({_LOCKS}),
     leaving_inbox AS (DELETE FROM inbox WHERE event_id = $2 AND (SELECT n FROM locks) >= 0)
INSERT INTO processed_events (event_id, at) SELECT $2::text, $3::float8 FROM locks
ON CONFLICT (event_id) DO NOTHING RETURNING event_id
"""
# A whole step in ONE statement, so one round trip (a statement is its own transaction):
# the locks, then the event id (the CTEs below read from `go`, which reads from both, so
# they run after them), then every write. Each write reads nothing a concurrent step could
# change: upserts resolve conflicts on the latest row, ids come from identity columns.
# $1 lock keys; $2 event id or NULL; $3 time; $4-$5 user (NULL key: unchanged);
# $6-$10 conversation (NULL key: unchanged); $11-$17 turns; $18-$21 outbox rows;
# $22-$26 rounds. Arrays may be empty. $27 the step's own conversation and $28 a lease
# (Store.commit_held; both NULL for commit): its new rows are inserted claimed for the
# lease, and `older` tells whether a row of it was unsent before (the statement's
# snapshot does not include its own inserts).
_STEP = f"""
WITH locks AS ({_LOCKS}),
event AS (
    INSERT INTO processed_events (event_id, at) SELECT $2::text, $3::float8 FROM locks
    WHERE $2::text IS NOT NULL
    ON CONFLICT (event_id) DO NOTHING RETURNING event_id),
go AS (SELECT 1 AS one FROM locks WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM event)),
left_inbox AS (DELETE FROM inbox WHERE event_id = $2::text AND EXISTS (SELECT 1 FROM go)),
user_row AS (
    INSERT INTO users (user_key, profile, created_at, updated_at)
    SELECT $4::text, $5::text, $3, $3 FROM go WHERE $4::text IS NOT NULL
    ON CONFLICT (user_key) DO UPDATE SET
        profile = excluded.profile, updated_at = excluded.updated_at),
conversation_row AS (
    INSERT INTO conversations (conversation_key, user_key, state, deadline, address, updated_at)
    SELECT $6::text, $7::text, $8::text, $9::float8, $10::text, $3 FROM go
    WHERE $6::text IS NOT NULL
    ON CONFLICT (conversation_key) DO UPDATE SET
        user_key = excluded.user_key, state = excluded.state, deadline = excluded.deadline,
        address = excluded.address, updated_at = excluded.updated_at, claimed_until = NULL),
turn_rows AS (
    INSERT INTO turns (conversation_key, user_key, at, kind, body, analysis, meta)
    SELECT k, u, a, kind, body, analysis, meta FROM go, unnest(
        $11::text[], $12::text[], $13::float8[], $14::text[], $15::bytea[], $16::text[],
        $17::text[]) WITH ORDINALITY AS t (k, u, a, kind, body, analysis, meta, ord)
    ORDER BY ord),
outbox_rows AS (
    INSERT INTO outbox (conversation_key, platform, address, payload, created_at, claimed_until)
    SELECT k, p, a, b, $3, CASE WHEN k = $27::text THEN {_NOW} + $28::float8 END
    FROM go, unnest($18::text[], $19::text[], $20::text[], $21::text[])
        WITH ORDINALITY AS o (k, p, a, b, ord)
    ORDER BY ord
    RETURNING id),
round_rows AS (
    INSERT INTO rounds (round_id, group_key, state, deadline, is_open, updated_at)
    SELECT r, g, st, d, op, $3 FROM go, unnest(
        $22::text[], $23::text[], $24::text[], $25::float8[], $26::bool[]) AS r (r, g, st, d, op)
    ON CONFLICT (round_id) DO UPDATE SET
        group_key = excluded.group_key, state = excluded.state, deadline = excluded.deadline,
        is_open = excluded.is_open, updated_at = excluded.updated_at, claimed_until = NULL)
SELECT EXISTS (SELECT 1 FROM go) AS applied, ARRAY(SELECT id FROM outbox_rows ORDER BY id) AS ids,
       EXISTS (SELECT 1 FROM outbox WHERE conversation_key = $27::text AND sent_at IS NULL)
           AS older
"""
_FORGET = (
    """
    DELETE FROM outbox WHERE conversation_key IN (
        SELECT conversation_key FROM conversations WHERE user_key = $1
        UNION SELECT conversation_key FROM turns WHERE user_key = $1)
    """,
    "DELETE FROM turns WHERE user_key = $1",
    "DELETE FROM conversations WHERE user_key = $1",
    "DELETE FROM users WHERE user_key = $1",
)
_MARK_SENT = "UPDATE outbox SET sent_at = $2 WHERE id = ANY($1::bigint[]) AND sent_at IS NULL"
_PRUNE_SENT = "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1"
_INBOX_PUT = """
INSERT INTO inbox (event_id, payload, received_at) SELECT $1::text, $2::text, $3::float8
WHERE NOT EXISTS (SELECT 1 FROM processed_events WHERE event_id = $1)
ON CONFLICT (event_id) DO NOTHING
"""
_INBOX_DROP = "DELETE FROM inbox WHERE event_id = ANY($1::text[])"
_INBOX_PENDING = """
SELECT event_id, payload FROM inbox WHERE event_id >= $1 AND event_id < $2
ORDER BY arrival LIMIT $3
"""
_OUTBOX_COLUMNS = "id, conversation_key, platform, address, payload, created_at"
_PENDING_OUTBOX = f"""
SELECT {_OUTBOX_COLUMNS} FROM outbox
WHERE sent_at IS NULL AND ($2::text IS NULL OR conversation_key = $2) ORDER BY id LIMIT $1
"""
_CLAIM_OUTBOX = f"""
UPDATE outbox SET claimed_until = {_NOW} + $3 WHERE id IN (
    SELECT id FROM outbox
    WHERE sent_at IS NULL AND ($2::text IS NULL OR conversation_key = $2)
      AND (claimed_until IS NULL OR claimed_until < {_NOW})
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING {_OUTBOX_COLUMNS}
"""

# One conversation's unsent rows claimed in order: those free (no live lease, not locked by
# a claimer right now) or held by the caller ($4), oldest first, up to the first row that is
# neither (returned as `blocked`: it and all after it wait). Always one row at least.
_CLAIM_IN_ORDER = f"""
WITH free AS (
    SELECT id FROM outbox
    WHERE conversation_key = $1 AND sent_at IS NULL
      AND (claimed_until IS NULL OR claimed_until < {_NOW} OR id = ANY($4::bigint[]))
    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED),
blocker AS (
    SELECT min(id) AS id FROM outbox
    WHERE conversation_key = $1 AND sent_at IS NULL AND id NOT IN (SELECT id FROM free)),
claimed AS (
    UPDATE outbox SET claimed_until = {_NOW} + $3
    WHERE id IN (SELECT id FROM free)
      AND id < COALESCE((SELECT id FROM blocker), 9223372036854775807)
    RETURNING {_OUTBOX_COLUMNS})
SELECT b.id AS blocked, c.* FROM blocker AS b LEFT JOIN claimed AS c ON true
"""

def _claim_due_sql(table: str, key: str, columns: str) -> str:
    """Claim rows due by $1 (at most $2) that no live lease holds, for $3 seconds."""
    return f"""
UPDATE {table} SET claimed_until = {_NOW} + $3 WHERE {key} IN (
    SELECT {key} FROM {table}
    WHERE deadline <= $1 AND (claimed_until IS NULL OR claimed_until < {_NOW})
    ORDER BY deadline, {key} LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING {columns}
"""


_CONVERSATION_COLUMNS = "conversation_key, user_key, state, deadline, address"
_DUE = f"""
SELECT {_CONVERSATION_COLUMNS} FROM conversations
WHERE deadline <= $1 ORDER BY deadline, conversation_key LIMIT $2
"""
_OPEN_CONVERSATIONS = f"""
SELECT {_CONVERSATION_COLUMNS} FROM conversations
WHERE deadline IS NOT NULL AND address::jsonb ->> 'platform' = $1
ORDER BY deadline, conversation_key LIMIT $2
"""
_CLAIM_DUE = _claim_due_sql("conversations", "conversation_key", _CONVERSATION_COLUMNS)
_NEXT_DEADLINE = """
SELECT LEAST((SELECT MIN(deadline) FROM conversations WHERE deadline IS NOT NULL),
             (SELECT MIN(deadline) FROM rounds WHERE deadline IS NOT NULL))
"""
_ROUND_COLUMNS = "round_id, group_key, state, deadline, is_open"
_LOAD_ROUND = f"SELECT {_ROUND_COLUMNS} FROM rounds WHERE round_id = $1"
_OPEN_ROUND = f"""
SELECT {_ROUND_COLUMNS} FROM rounds WHERE group_key = $1 AND is_open
ORDER BY updated_at DESC LIMIT 1
"""
_DUE_ROUNDS = f"""
SELECT {_ROUND_COLUMNS} FROM rounds WHERE deadline <= $1 ORDER BY deadline, round_id LIMIT $2
"""
_CLAIM_DUE_ROUNDS = _claim_due_sql("rounds", "round_id", _ROUND_COLUMNS)
_LOAD_SETTINGS = "SELECT values_json FROM settings WHERE scope_key = $1"
_SAVE_SETTINGS = """
INSERT INTO settings (scope_key, values_json, created_at, updated_at) VALUES ($1, $2, $3, $3)
ON CONFLICT (scope_key) DO UPDATE SET
    values_json = excluded.values_json, updated_at = excluded.updated_at
"""
_TURN_COLUMNS = "conversation_key, user_key, at, kind, body, analysis, meta"
_TURNS = f"SELECT {_TURN_COLUMNS} FROM turns WHERE conversation_key = $1 ORDER BY id"
_EXPORT_USER = "SELECT profile FROM users WHERE user_key = $1"
_EXPORT_CONVERSATIONS = f"""
SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_key = $1 ORDER BY conversation_key
"""
_EXPORT_TURNS = f"""
SELECT {_TURN_COLUMNS},
       row_number() OVER (PARTITION BY conversation_key ORDER BY id) AS seq
FROM turns WHERE user_key = $1 ORDER BY id
"""


# --------------------------------------------------------------------------- helpers


@dataclass(slots=True)
class PostgresStats:
    """Counters for benchmarks and tests."""

    calls: int = 0  # database calls that succeeded (a step is one, or a few if it forgets)
    retries: int = 0


class _FifoKeys:
    """Per-key FIFO order inside one process: a job waits for every earlier job that shares
    a key with it. Keys are taken at the call, before any await, so the order is the order
    of the calls; jobs without shared keys run in parallel on the pool."""

    def __init__(self) -> None:
        self._tails: dict[str, asyncio.Future[None]] = {}

    def enter(self, keys: Iterable[str]) -> tuple[set[asyncio.Future[None]], asyncio.Future[None]]:
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        before: set[asyncio.Future[None]] = set()
        for key in keys:
            previous = self._tails.get(key)
            if previous is not None:
                before.add(previous)
            self._tails[key] = mine
        return before, mine

    def leave(self, keys: Iterable[str], mine: asyncio.Future[None],
              before: set[asyncio.Future[None]]) -> None:
        for key in keys:
            if self._tails.get(key) is mine:
                del self._tails[key]
        pending = [f for f in before if not f.done()]
        if not pending:
            mine.set_result(None)
            return
        # Cancelled while waiting: successors must still wait for our predecessors.
        asyncio.gather(*pending, return_exceptions=True).add_done_callback(
            lambda _: mine.done() or mine.set_result(None))


def _order_keys(encoded: EncodedStep) -> set[str]:
    step = encoded.step
    keys = {f"e:{step.event_id}"} if step.event_id is not None else set()
    if encoded.conversation_key is not None:
        keys.add(f"c:{encoded.conversation_key}")
    users = [step.forget_user_key, step.user.user_key if step.user else None,
             step.conversation.user_key if step.conversation else None]
    keys.update(f"u:{u}" for u in users if u is not None)
    keys.update(f"u:{t.user_key}" for t in encoded.turns)
    keys.update(f"r:{r.round_id}" for r in encoded.rounds)
    return keys


def _lock_keys(encoded: EncodedStep) -> list[str]:
    """What other replicas must not write at the same time: the conversation, its rounds."""
    keys = [f"c:{encoded.conversation_key}"] if encoded.conversation_key is not None else []
    keys += [f"r:{r.round_id}" for r in encoded.rounds]
    return keys


def _is_closed(conn: asyncpg.Connection) -> bool:
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:  # the pool already took the dead connection back
        return True


async def _nothing_to_reset(conn: asyncpg.Connection) -> None:
    return None


def _terminate(conn: asyncpg.Connection) -> None:
    with contextlib.suppress(asyncpg.InterfaceError):  # the pool already took it back
        conn.terminate()


def _rows_affected(status: str) -> int:
    """The count in a command tag such as "DELETE 3"."""
    return int(status.rsplit(" ", 1)[-1]) if status and status[-1].isdigit() else 0


def _body(text: str | None) -> bytes | None:
    return None if text is None else text.encode("utf-8")


def _text(body: bytes | None) -> str | None:
    return None if body is None else bytes(body).decode("utf-8")


def _turn(row: Sequence[Any]) -> TurnRecord:
    key, user_key, at, kind, body, analysis, meta = row[:7]
    return TurnRecord(key, user_key, at, kind, _text(body), load_json(analysis), load_json(meta))


def _outbox_item(row: Sequence[Any]) -> OutboxItem:
    return OutboxItem(row[0], row[1], row[2], load_json(row[3]), load_json(row[4]), row[5])


@dataclass(slots=True)
class _LockSession:
    """The lock-pool connection one task holds its `Store.lock` keys on."""

    conn: asyncpg.Connection
    depth: int = 0  # keys held (or being taken) on it
    broken: bool = False  # a lock query failed: the connection is closed, its locks gone


@dataclass(slots=True)
class _PostgresTarget:
    """The migration runner's view of a connection: a migration and its schema_version
    row commit together (the caller holds the migration advisory lock)."""

    conn: asyncpg.Connection
    where: str
    errors: tuple[type[BaseException], ...] = (asyncpg.PostgresError,)

    async def version(self) -> int:
        return int(await self.conn.fetchval(_SCHEMA_VERSION))

    def transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        transaction: contextlib.AbstractAsyncContextManager[None] = self.conn.transaction()
        return transaction

    async def execute(self, statement: str) -> None:
        await self.conn.execute(statement)

    async def record(self, migration: Migration) -> None:
        await self.conn.execute(_RECORD_MIGRATION, migration.version, migration.name)


# --------------------------------------------------------------------------- the store


class PostgresStore:
    def __init__(
        self,
        dsn: str,
        *,
        pool_min: int = 1,
        pool_max: int = 10,
        max_attempts: int = 5,
        backoff_base: float = 0.05,
        backoff_cap: float = 2.0,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        migrations: Traversable | Path | None = None,
        lock_pool_max: int = 10,
    ) -> None:
        if not 0 <= pool_min <= pool_max or pool_max < 1:
            raise ValueError(f"need 0 <= pool_min <= pool_max and pool_max >= 1, "
                             f"got {pool_min}..{pool_max}")
        if lock_pool_max < 1:
            raise ValueError(f"lock_pool_max must be at least 1, got {lock_pool_max}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.dsn = dsn
        self.pool_min, self.pool_max = pool_min, pool_max
        self.max_attempts = max_attempts
        self.backoff_base, self.backoff_cap = backoff_base, backoff_cap
        self.lease_seconds = lease_seconds
        self._migrations = load_migrations(migrations, dialect="postgres")
        self.latest_version = self._migrations[-1].version if self._migrations else 0
        self.applied_migrations: tuple[int, ...] = ()  # by the last open()
        self.stats = PostgresStats()
        self._pool: asyncpg.Pool | None = None
        self._order = _FifoKeys()
        self._marks: list[tuple[tuple[int, ...], float, asyncio.Future[None]]] = []
        self._mark_task: asyncio.Task[None] | None = None
        # Store.lock: a small pool of its own, so held locks never starve the steps.
        self.lock_pool_max = lock_pool_max
        self._lock_pool: asyncpg.Pool | None = None
        self._lock_sessions: dict[asyncio.Task[Any], _LockSession] = {}
        self._local_locks = KeyedLocks()

    # ----------------------------------------------------------------- lifecycle

    async def open(self) -> None:
        if self._pool is not None:
            raise RuntimeError("the store is already open")
        # No reset query on release either: asyncpg's default (unlock all advisory locks,
        # CLOSE ALL, UNLISTEN *, RESET ALL) is a round trip after every call, and this
        # store leaves none of that behind on a pooled connection: its locks are
        # transaction-scoped (the migration lock is released or its connection closed),
        # it opens no cursor, listens to nothing and sets nothing for the session. An open
        # transaction is still rolled back on release (asyncpg does it before any reset).
        pool = await asyncpg.create_pool(self.dsn, min_size=self.pool_min,
                                         max_size=self.pool_max, reset=_nothing_to_reset)
        try:
            async with pool.acquire() as conn:
                self.applied_migrations = await self._migrate(conn)
        except BaseException:
            await pool.close()
            raise
        # No reset query on release (asyncpg's default is a round trip per release): a
        # connection comes back with its keys unlocked one by one, or is closed instead.
        self._lock_pool = await asyncpg.create_pool(self.dsn, min_size=0,
                                                    max_size=self.lock_pool_max,
                                                    reset=_nothing_to_reset)
        self._pool = pool
        self._order = _FifoKeys()

    async def close(self) -> None:
        """Finish the marks already queued, then close the pool."""
        if self._pool is None:
            return
        task = self._mark_task
        if task is not None:
            await asyncio.wait([task])
        pool, self._pool = self._pool, None
        lock_pool, self._lock_pool = self._lock_pool, None
        await pool.close()
        if lock_pool is not None:
            try:  # a lock still held at close is ended with its connection
                await asyncio.wait_for(lock_pool.close(), _LOCK_POOL_CLOSE_SECONDS)
            except TimeoutError:
                lock_pool.terminate()

    async def schema_version(self) -> int:
        return int(await self._run(lambda conn: conn.fetchval(_SCHEMA_VERSION), tx=False))

    async def _migrate(self, conn: asyncpg.Connection) -> tuple[int, ...]:
        # Replicas starting together: one migrates, the others wait and find nothing to do.
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(_SCHEMA_TABLE)
            return await apply_migrations(_PostgresTarget(conn, self._where()),
                                          self._migrations)
        finally:
            try:
                await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
            except BaseException:  # the pool does not reset it: end the session instead
                _terminate(conn)
                raise

    def _where(self) -> str:
        """The DSN without a password, for messages."""
        head, sep, tail = self.dsn.rpartition("@")
        if not sep:
            return self.dsn
        scheme, _, credentials = head.partition("://")
        return f"{scheme}://{credentials.split(':', 1)[0]}@{tail}"

    # ----------------------------------------------------------------- Store.lock

    @contextlib.asynccontextmanager
    async def lock(self, key: str, *more: str) -> AsyncIterator[None]:
        """Hold the keys against every replica on this database: session advisory locks on
        a connection of the lock pool, all taken in one query and released in one. Within
        the process, tasks wanting the same key queue here first, so only one of them waits
        on the database. A task that already holds a key takes further keys on the same
        connection (nested locks never wait for the pool). A lock query that fails or is
        cancelled closes its connection, which ends the session and every lock it held,
        instead of returning it to the pool."""
        self._require_pool()
        keys = sorted({key, *more})
        async with self._local_locks.hold(*keys):
            session = await self._lock_session()
            try:
                await self._lock_query(session, _LOCK, keys, swallow=False)
                try:
                    yield
                finally:
                    await self._lock_query(session, _UNLOCK, keys, swallow=True)
            finally:
                await self._leave_lock_session(session)

    async def _lock_session(self) -> _LockSession:
        task = asyncio.current_task()
        assert task is not None
        session = self._lock_sessions.get(task)
        if session is None:
            if self._lock_pool is None:
                raise StoreClosedError("the store is not open")
            session = _LockSession(await self._lock_pool.acquire())
            self._lock_sessions[task] = session
        session.depth += 1
        return session

    async def _leave_lock_session(self, session: _LockSession) -> None:
        session.depth -= 1
        if session.depth > 0:
            return
        task = asyncio.current_task()
        if self._lock_sessions.get(task) is session:  # type: ignore[arg-type]
            del self._lock_sessions[task]  # type: ignore[arg-type]
        pool = self._lock_pool
        if pool is None:  # closed meanwhile: the pool ends its connections itself
            _terminate(session.conn)
            return
        await pool.release(session.conn)  # shielded; a closed connection is replaced

    async def _lock_query(self, session: _LockSession, sql: str, keys: list[str], *,
                          swallow: bool) -> None:
        if session.broken:
            if swallow:  # unlocking on a closed session: its locks are gone already
                return
            raise _ConnectionLost("this task's lock connection was closed")
        try:
            await session.conn.execute(sql, keys)
        except BaseException as exc:
            # Whether the lock is held is unknown now: end the session (and its locks).
            session.broken = True
            _terminate(session.conn)
            if not swallow or not isinstance(exc, Exception):
                raise
            log.warning("releasing lock %s failed (%s: %s); closed its connection instead",
                        ", ".join(map(repr, keys)), type(exc).__name__, exc)

    # ----------------------------------------------------------------- running work

    def _require_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreClosedError("the store is not open")
        return self._pool

    async def _run(self, work: Callable[[asyncpg.Connection], Awaitable[T]], *,
                   tx: bool = True, repeatable: bool = True) -> T:
        """`work` on a pooled connection (in one transaction when `tx`), retried with
        bounded, jittered backoff when it was rolled back or never started, and also when
        the connection was lost under it if the work is `repeatable` (idempotent)."""
        attempt = 1
        while True:
            pool = self._require_pool()
            started = False
            try:
                async with pool.acquire() as conn:
                    started = True
                    try:
                        if tx:
                            async with conn.transaction():
                                result = await work(conn)
                        else:
                            result = await work(conn)
                    except (asyncpg.InternalClientError, asyncpg.InterfaceError) as exc:
                        # A connection the server has just cut (a failover) can fail its next
                        # query, or the ROLLBACK after a failed one, this way.
                        if not _is_closed(conn):
                            raise
                        raise _ConnectionLost(str(exc)) from exc
                    self.stats.calls += 1
                    return result
            except (*_ROLLED_BACK, *_CONNECTION_LOST) as exc:
                unknown_outcome = started and isinstance(exc, _CONNECTION_LOST)
                if (unknown_outcome and not repeatable) or attempt >= self.max_attempts \
                        or self._pool is None:
                    raise
                delay = min(self.backoff_cap, self.backoff_base * 2 ** (attempt - 1))
                delay *= random.uniform(0.5, 1.0)  # jitter: racing replicas spread out
                log.warning("database attempt %d failed (%s: %s); retrying in %.2f s",
                            attempt, type(exc).__name__, exc, delay)
                self.stats.retries += 1
                attempt += 1
                await asyncio.sleep(delay)

    # ----------------------------------------------------------------- writes

    async def commit(self, step: StepRecord) -> list[OutboxItem] | None:
        """Apply the step in one transaction (see storage.base.Store.commit)."""
        done = await self._commit(step, None)
        return None if done is None else done.items

    async def commit_held(self, step: StepRecord, lease_seconds: float) -> HeldCommit | None:
        """Apply the step, its own conversation's new rows inserted already claimed by this
        store for `lease_seconds`, and tell whether an older row of that conversation is
        unsent: all in the step's one statement (see storage.base.Store.commit_held)."""
        return await self._commit(step, float(lease_seconds))

    async def _commit(self, step: StepRecord, lease: float | None) -> HeldCommit | None:
        self._require_pool()
        encoded = encode_step(step)  # a bad step fails here, before any SQL
        keys = _order_keys(encoded)
        before, mine = self._order.enter(keys)
        try:
            for earlier in before:
                await asyncio.shield(earlier)
            # With an event id a repeat is harmless (it finds the id and changes nothing);
            # without one, a step whose COMMIT may have happened must not run twice.
            return await self._run(lambda conn: _apply_step(conn, encoded, lease), tx=False,
                                   repeatable=step.event_id is not None)
        finally:
            self._order.leave(keys, mine, before)

    def mark_sent(self, outbox_ids: list[int]) -> Awaitable[None]:
        """Queued at the call; marks queued while one UPDATE runs go together in the next."""
        self._require_pool()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ids = tuple(int(i) for i in outbox_ids)
        if not ids:
            future.set_result(None)
            return future
        self._marks.append((ids, time.time(), future))
        if self._mark_task is None or self._mark_task.done():
            self._mark_task = asyncio.create_task(self._write_marks(), name="postgres-marks")
        return future

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            ids = [i for marked, _, _ in batch for i in marked]
            sent_at = max(at for _, at, _ in batch)
            try:
                await self._execute(_MARK_SENT, ids, sent_at)
            except Exception as exc:
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for _, _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def prune_sent(self, older_than: float) -> int:
        return _rows_affected(await self._execute(_PRUNE_SENT, float(older_than)))

    async def inbox_put(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        self._require_pool()
        if not items:
            return
        now = time.time()
        rows = [(event_id, dump_json(payload), now) for event_id, payload in items]
        await self._run(lambda conn: conn.executemany(_INBOX_PUT, rows))

    async def save_settings(self, scope_key: str, values: dict[str, Any], at: float) -> None:
        self._require_pool()
        await self._execute(_SAVE_SETTINGS, *encode_settings(scope_key, values, at))

    async def inbox_drop(self, event_ids: list[str]) -> None:
        self._require_pool()
        if event_ids:
            await self._execute(_INBOX_DROP, list(event_ids))

    # ----------------------------------------------------------------- claims (replicas)

    async def claim_outbox(self, limit: int = 100, conversation_key: str | None = None,
                           lease_seconds: float | None = None) -> list[OutboxItem]:
        """Unsent replies no other replica holds, oldest first, now held by this one until
        the lease runs out (or they are marked sent)."""
        lease = self.lease_seconds if lease_seconds is None else lease_seconds
        rows = await self._run(lambda conn: conn.fetch(
            _CLAIM_OUTBOX, max(limit, 0), conversation_key, float(lease)))
        return sorted(map(_outbox_item, rows), key=lambda item: item.id)

    async def claim_outbox_in_order(self, conversation_key: str, limit: int = 1000,
                                    lease_seconds: float | None = None,
                                    held: Sequence[int] = ()
                                    ) -> tuple[list[OutboxItem], int | None]:
        """One statement: the conversation's unsent rows this replica holds (`held`) or no
        one does, oldest first, claimed up to the first row it could not claim, whose id
        comes back too (None: nothing waits)."""
        lease = self.lease_seconds if lease_seconds is None else lease_seconds
        rows = await self._fetch(_CLAIM_IN_ORDER, conversation_key, max(limit, 0),
                                 float(lease), [int(i) for i in held])
        blocked = rows[0][0]
        items = [_outbox_item(row[1:]) for row in rows if row[1] is not None]
        return sorted(items, key=lambda item: item.id), blocked

    async def claim_due_deadlines(self, now: float, limit: int = 100,
                                  lease_seconds: float | None = None
                                  ) -> list[ConversationRecord]:
        """Due conversations no other replica holds; committing the conversation frees it."""
        rows = await self._claim(_CLAIM_DUE, now, limit, lease_seconds)
        return sorted(map(conversation_from_row, rows),
                      key=lambda c: (c.deadline, c.conversation_key))

    async def claim_due_rounds(self, now: float, limit: int = 100,
                               lease_seconds: float | None = None) -> list[RoundRecord]:
        rows = await self._claim(_CLAIM_DUE_ROUNDS, now, limit, lease_seconds)
        return sorted(map(round_from_row, rows), key=lambda r: (r.deadline, r.round_id))

    async def _claim(self, sql: str, now: float, limit: int,
                     lease_seconds: float | None) -> list[asyncpg.Record]:
        lease = self.lease_seconds if lease_seconds is None else lease_seconds
        return await self._fetch(sql, float(now), max(limit, 0), float(lease))

    # ----------------------------------------------------------------- reads

    async def _execute(self, sql: str, *args: Any) -> str:
        """One statement on its own (autocommit), retried like a transaction."""
        status: str = await self._run(lambda conn: conn.execute(sql, *args), tx=False)
        return status

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._run(
            lambda conn: conn.fetch(sql, *args), tx=False)
        return rows

    async def load(
        self, conversation_key: str, user_key: str
    ) -> tuple[UserRecord | None, ConversationRecord | None]:
        ((u_key, profile, c_user, state, deadline, address),) = await self._fetch(
            _LOAD, user_key, conversation_key)
        user = None if u_key is None else UserRecord(u_key, load_json(profile))
        conv = None
        if c_user is not None:
            conv = ConversationRecord(
                conversation_key, c_user, load_json(state), deadline, load_json(address))
        return user, conv

    async def pending_outbox(self, limit: int = 100,
                             conversation_key: str | None = None) -> list[OutboxItem]:
        rows = await self._fetch(_PENDING_OUTBOX, max(limit, 0), conversation_key)
        return [_outbox_item(row) for row in rows]

    async def due_deadlines(self, now: float, limit: int = 100) -> list[ConversationRecord]:
        rows = await self._fetch(_DUE, float(now), max(limit, 0))
        return [conversation_from_row(row) for row in rows]

    async def open_conversations(self, platform: str,
                                 limit: int = 10_000) -> list[ConversationRecord]:
        rows = await self._fetch(_OPEN_CONVERSATIONS, platform, max(limit, 0))
        return [conversation_from_row(row) for row in rows]

    async def next_deadline(self) -> float | None:
        ((deadline,),) = await self._fetch(_NEXT_DEADLINE)
        return None if deadline is None else float(deadline)

    async def load_settings(self, scope_key: str) -> dict[str, Any]:
        rows = await self._fetch(_LOAD_SETTINGS, scope_key)
        values: dict[str, Any] = load_json(rows[0][0]) if rows else {}
        return values

    async def load_round(self, round_id: str) -> RoundRecord | None:
        rows = await self._fetch(_LOAD_ROUND, round_id)
        return round_from_row(rows[0]) if rows else None

    async def open_round(self, group_key: str) -> RoundRecord | None:
        rows = await self._fetch(_OPEN_ROUND, group_key)
        return round_from_row(rows[0]) if rows else None

    async def due_rounds(self, now: float, limit: int = 100) -> list[RoundRecord]:
        rows = await self._fetch(_DUE_ROUNDS, float(now), max(limit, 0))
        return [round_from_row(row) for row in rows]

    async def turns(self, conversation_key: str) -> list[TurnRecord]:
        return [_turn(row) for row in await self._fetch(_TURNS, conversation_key)]

    async def inbox_pending(self, prefix: str, limit: int = 1000) -> list[tuple[str, Any]]:
        rows = await self._fetch(_INBOX_PENDING, prefix, prefix + "\uffff", max(limit, 0))
        return [(event_id, load_json(payload)) for event_id, payload in rows]

    async def export_user(self, user_key: str) -> dict[str, Any]:
        async def snapshot(conn: asyncpg.Connection) -> tuple[Any, ...]:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                return (await conn.fetch(_EXPORT_USER, user_key),
                        await conn.fetch(_EXPORT_CONVERSATIONS, user_key),
                        await conn.fetch(_EXPORT_TURNS, user_key))

        users, convs, turns = await self._run(snapshot, tx=False)
        return export_dict(user_key, load_json(users[0][0]) if users else None,
                           map(conversation_from_row, convs),
                           ((_turn(row), row[7]) for row in turns))


# --------------------------------------------------------------------------- one step


async def _apply_step(conn: asyncpg.Connection, encoded: EncodedStep,
                      lease: float | None) -> HeldCommit | None:
    """A step in one statement; a forgetting step (its deletes must come first and see
    nothing of its own writes) in a transaction of several. None: already done. With a
    `lease`, the step's own rows are inserted claimed (see PostgresStore.commit_held)."""
    step = encoded.step
    at = float(step.at)
    rows, made = _outbox_rows(encoded)
    held = [encoded.conversation_key if lease is not None else None, lease]
    if step.forget_user_key is None:
        applied, ids, older = await conn.fetchrow(
            _STEP, _lock_keys(encoded), step.event_id, at, *_step_arguments(encoded, rows),
            *held)
    else:
        async with conn.transaction():
            if step.event_id is not None:
                recorded = await conn.fetchval(
                    _LOCK_AND_RECORD_EVENT, _lock_keys(encoded), step.event_id, at)
                if recorded is None:
                    return None
            else:
                await conn.execute(_LOCKS, _lock_keys(encoded))
            for statement in _FORGET:
                await conn.execute(statement, step.forget_user_key)
            applied, ids, older = await conn.fetchrow(
                _STEP, [], None, at, *_step_arguments(encoded, rows), *held)
    if not applied:
        return None
    return HeldCommit([OutboxItem(outbox_id, key, platform, address, payload, at)
                       for outbox_id, (key, platform, address, payload)
                       in zip(ids, made, strict=True)], older_unsent=older)


def _step_arguments(encoded: EncodedStep, outbox: list[tuple[str, str, str, str]]) -> list[Any]:
    """$4 onwards of _STEP."""
    step = encoded.step
    user, conv = step.user, step.conversation
    turns, rounds = encoded.turns, encoded.rounds
    return [
        user.user_key if user else None, encoded.profile,
        conv.conversation_key if conv else None, conv.user_key if conv else None,
        encoded.state, None if conv is None or conv.deadline is None else float(conv.deadline),
        encoded.conversation_address,
        [t.conversation_key for t in turns], [t.user_key for t in turns], [t.at for t in turns],
        [t.kind for t in turns], [_body(t.text) for t in turns], [t.analysis for t in turns],
        [t.meta for t in turns],
        [r[0] for r in outbox], [r[1] for r in outbox], [r[2] for r in outbox],
        [r[3] for r in outbox],
        [r.round_id for r in rounds], [r.group_key for r in rounds], [r.state for r in rounds],
        [r.deadline for r in rounds], [r.is_open for r in rounds],
    ]


def _outbox_rows(encoded: EncodedStep) -> tuple[list[tuple[str, str, str, str]],
                                                 list[tuple[str, str, dict[str, Any],
                                                            dict[str, Any]]]]:
    """(conversation, platform, address JSON, payload JSON) per row to insert, and what the
    caller gets back for each: its own (already validated) dicts, not decoded copies."""
    step = encoded.step
    key = encoded.conversation_key
    rows: list[tuple[str, str, str, str]] = []
    made: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []
    if encoded.payloads:
        assert key is not None  # encode_step guarantees it when there are payloads
        for payload_json, payload in zip(encoded.payloads, step.outbox, strict=True):
            rows.append((key, step.platform, encoded.outbox_address, payload_json))
            made.append((key, step.platform, dict(step.address), payload))
    for routed, raw in zip(encoded.routed, step.routed, strict=True):
        rows.append((routed.conversation_key, routed.platform, routed.address, routed.payload))
        made.append((raw.conversation_key, raw.platform, dict(raw.address), raw.payload))
    return rows, made
