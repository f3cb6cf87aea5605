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
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from leavewell.storage.base import Store
from leavewell.storage.memory import MemoryStore
from leavewell.storage.sqlite import SYNCHRONOUS_MODES, SqliteStore

_POSTGRES_SCHEMES = {"postgres", "postgresql"}


async def open_store(url: str, *, pool_min: int = 1, pool_max: int = 10) -> Store:
    """Create the store named by `url`, open it (applying migrations) and return it.
    `pool_min`/`pool_max` size PostgreSQL's connection pool; other engines ignore them."""
    store = make_store(url, pool_min=pool_min, pool_max=pool_max)
    await store.open()
    return store


def make_store(url: str, *, pool_min: int = 1, pool_max: int = 10) -> Store:
    """Create (but do not open) the store named by `url`. Raises ValueError if unknown."""
    if not isinstance(url, str) or "://" not in url:
        raise ValueError(
            f"storage URL {url!r} has no scheme; use sqlite:///path.db, sqlite:///:memory:,"
            " postgresql://host/db or memory://"
        )
    scheme, rest = url.split("://", 1)
    scheme = scheme.lower()
    base_scheme = scheme.split("+", 1)[0]  # postgresql+asyncpg -> postgresql
    if base_scheme in _POSTGRES_SCHEMES and scheme in (base_scheme, f"{base_scheme}+asyncpg"):
        return _postgres_store("postgresql://" + rest, pool_min, pool_max)
    if scheme == "memory":
        if rest not in ("", "/"):
            raise ValueError(f"memory:// takes no path, got {url!r}")
        return MemoryStore()
    if scheme == "sqlite":
        return _sqlite_store(url, rest)
    raise ValueError(
        f"unsupported storage URL scheme {scheme!r} in {url!r};"
        " use sqlite:///path.db, sqlite:///:memory:, postgresql://host/db or memory://"
    )


def _postgres_store(dsn: str, pool_min: int, pool_max: int) -> Store:
    try:
        from leavewell.storage.postgres import PostgresStore
    except ImportError as exc:  # asyncpg is an extra: SQLite users do not need it
        raise ValueError(
            "PostgreSQL needs asyncpg: pip install 'leavewell[postgres]'") from exc
    return PostgresStore(dsn, pool_min=pool_min, pool_max=pool_max)


def _sqlite_store(url: str, rest: str) -> SqliteStore:
    parts = urlsplit("sqlite://" + rest)
    if parts.netloc:
        raise ValueError(
            f"{url!r}: SQLite URLs have no host; use sqlite:///relative.db or sqlite:////abs.db"
        )
    if not parts.path.startswith("/") or parts.path == "/":
        raise ValueError(f"{url!r} names no database file; use sqlite:///path.db")
    path = parts.path[1:]  # sqlite:///x.db -> "x.db", sqlite:////abs/x.db -> "/abs/x.db"
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    synchronous = options.pop("synchronous", "FULL").upper()
    if options:
        raise ValueError(f"{url!r}: unknown option(s) {sorted(options)}; only synchronous")
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"{url!r}: synchronous must be one of {SYNCHRONOUS_MODES}")
    return SqliteStore(path, synchronous=synchronous)  # open() checks and creates the folder
