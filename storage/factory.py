"""Pick, open and migrate a store from a URL.

- `sqlite:///relative/path.db`   a file relative to the working directory
- `sqlite:////abs/path.db`       an absolute file (four slashes, as in SQLAlchemy)
- `sqlite:///:memory:`           an in-memory SQLite database (gone when closed)
- `memory://`                    the pure-Python MemoryStore (for tests)
- `postgresql://user:password@host:5432/db` (or `postgres://`, `postgresql+asyncpg://`)
                                 PostgresStore, for several replicas; needs
                                 `pip install 'leavewell[postgres]'` (asyncpg)

SQLite URLs accept `?synchronous=NORMAL|FULL` (default FULL: durable against a
crashed process and against power loss; group commit makes its fsync per batch
cheap. NORMAL survives a crashed process only).

`schema_status(url)` reads where a database's schema stands without changing it, and
`migrate_database(url)` applies the pending migrations (`leavewell migrate`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from leavewell.storage.base import Store
from leavewell.storage.memory import MemoryStore
from leavewell.storage.sqlite import MEMORY, SYNCHRONOUS_MODES, SqliteStore
from leavewell.storage.sqlite_check import check_existing

_POSTGRES_SCHEMES = {"postgres", "postgresql"}


async def open_store(url: str, *, pool_min: int = 1, pool_max: int = 10,
                     lock_pool_max: int = 10) -> Store:
    """Create the store named by `url`, open it (applying migrations) and return it.
    `pool_min`/`pool_max` size PostgreSQL's connection pool and `lock_pool_max` the pool
    its `Store.lock` keys are held on; other engines ignore them."""
    store = make_store(url, pool_min=pool_min, pool_max=pool_max, lock_pool_max=lock_pool_max)
    await store.open()
    return store


def make_store(url: str, *, pool_min: int = 1, pool_max: int = 10,
               lock_pool_max: int = 10) -> Store:
    """Create (but do not open) the store named by `url`. Raises ValueError if unknown."""
    return _plan(url)(pool_min, pool_max, lock_pool_max)


def check_url(url: str) -> str:
    """`url` unchanged if `make_store` accepts it; else ValueError saying why (never with
    the URL's password). The settings validate LEAVEWELL_DATABASE_URL with this, so no URL
    passes them that the factory then refuses."""
    _plan(url)
    return url


_Build = Callable[[int, int, int], Store]  # (pool_min, pool_max, lock_pool_max) -> store
_USE = "use sqlite:///path.db, sqlite:///:memory:, postgresql://host/db or memory://"


def _plan(url: str) -> _Build:
    """Check `url` completely and say how to build its store; nothing is created."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(f"storage URL {_shown(url)} has no scheme; {_USE}")
    scheme, rest = url.split("://", 1)
    scheme = scheme.lower()
    base_scheme = scheme.split("+", 1)[0]  # postgresql+asyncpg -> postgresql
    if base_scheme in _POSTGRES_SCHEMES and scheme in (base_scheme, f"{base_scheme}+asyncpg"):
        if importlib.util.find_spec("asyncpg") is None:  # an extra: SQLite users need none
            raise ValueError(_NEEDS_ASYNCPG)
        dsn = "postgresql://" + rest
        return lambda pool_min, pool_max, lock_pool_max: _postgres_store(
            dsn, pool_min, pool_max, lock_pool_max)
    if scheme == "memory":
        if rest not in ("", "/"):
            raise ValueError(f"memory:// takes no path, got {_shown(url)}")
        return lambda *_: MemoryStore()
    if scheme == "sqlite":
        path, synchronous = _sqlite_options(url, rest)
        return lambda *_: SqliteStore(path, synchronous=synchronous)  # open() makes the folder
    raise ValueError(f"unsupported storage URL scheme {scheme!r} in {_shown(url)}; {_USE}")


_NEEDS_ASYNCPG = "PostgreSQL needs asyncpg: pip install 'leavewell[postgres]'"


def _postgres_store(dsn: str, pool_min: int, pool_max: int, lock_pool_max: int) -> Store:
    try:
        from leavewell.storage.postgres import PostgresStore
    except ImportError as exc:  # asyncpg is an extra: SQLite users do not need it
        raise ValueError(_NEEDS_ASYNCPG) from exc
    return PostgresStore(dsn, pool_min=pool_min, pool_max=pool_max,
                         lock_pool_max=lock_pool_max)


def _sqlite_options(url: str, rest: str) -> tuple[str, str]:
    """(path, synchronous mode) of a sqlite:// URL."""
    parts = urlsplit("sqlite://" + rest)
    if parts.netloc:
        raise ValueError(
            f"{_shown(url)}: SQLite URLs have no host;"
            " use sqlite:///relative.db or sqlite:////abs.db")
    if not parts.path.startswith("/") or parts.path == "/":
        raise ValueError(f"{_shown(url)} names no database file; use sqlite:///path.db")
    path = parts.path[1:]  # sqlite:///x.db -> "x.db", sqlite:////abs/x.db -> "/abs/x.db"
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    synchronous = options.pop("synchronous", "FULL").upper()
    if options:
        raise ValueError(
            f"{_shown(url)}: unknown option(s) {sorted(options)}; only synchronous")
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"{_shown(url)}: synchronous must be one of {SYNCHRONOUS_MODES}")
    return path, synchronous


def _shown(url: object) -> str:
    """`url` for a message: quoted, its password (if any) replaced."""
    if not isinstance(url, str):
        return repr(url)
    try:
        return repr(without_password(url))
    except ValueError:  # not even parseable as a URL: nothing in it is shown
        return "(unparseable)"


# --------------------------------------------------------------------------- migrations


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """Where a database's schema stands against the migrations this code carries."""

    database: str  # the URL without its password, for messages
    current: int
    latest: int

    @property
    def pending(self) -> int:
        return max(0, self.latest - self.current)

    @property
    def too_new(self) -> bool:
        return self.current > self.latest


def without_password(url: str) -> str:
    """`url` with any password replaced by `***`, fit for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


async def schema_status(url: str) -> SchemaStatus:
    """Read the database's schema version without changing anything: a SQLite file that
    does not exist yet is version 0 (and is not created); a damaged or foreign file is
    refused (StoreOpenError). Raises ValueError for a URL with nothing to migrate."""
    store = make_store(url, pool_min=0, pool_max=1)
    where = without_password(url)
    if isinstance(store, SqliteStore):
        if store.path == MEMORY:
            raise ValueError(f"{url} is an in-memory database: nothing to migrate")
        current = await asyncio.to_thread(_sqlite_version, store.path)
    elif isinstance(store, MemoryStore):
        raise ValueError(f"{url} keeps nothing after the process ends: nothing to migrate")
    else:
        current = await _postgres_version(store.dsn)  # type: ignore[attr-defined]
    return SchemaStatus(where, current, store.latest_version)  # type: ignore[attr-defined]


async def migrate_database(
    url: str, before: SchemaStatus | None = None,
) -> tuple[SchemaStatus, SchemaStatus, tuple[int, ...]]:
    """Apply the pending migrations through the store's own runner (the one every
    replica runs at start, under the same lock). Returns the status before (`before`,
    when the caller has just read it) and after, and the versions this call applied
    (none when another process applied them first)."""
    before = before or await schema_status(url)
    store = await open_store(url, pool_min=0, pool_max=1)
    try:
        current = await store.schema_version()
        applied = tuple(getattr(store, "applied_migrations", ()))
    finally:
        await store.close()
    return before, SchemaStatus(before.database, current, before.latest), applied


def _sqlite_version(path: str) -> int:
    if not os.path.exists(path):
        return 0
    check_existing(path)  # read-only: refuses a damaged or foreign file, leaves it as it is
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


async def _postgres_version(dsn: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
            return 0
        return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version"))
    finally:
        await conn.close()
