"""One more engine for the storage contract suite, named by LEAVEWELL_CONTRACT_DATABASE_URL.

- a PostgreSQL URL (`postgresql://user@host:5433/postgres`): each test gets a fresh
  database on that server (created and dropped, like tests/support/postgres.py), so the
  role needs CREATEDB;
- a SQLite URL or plain path (`sqlite:////mnt/nfs/x.db`, `/mnt/nfs/x.db`): each test gets
  a fresh file beside it, removed afterwards; the named file itself is never touched.

Unset, the suite runs on its three usual engines only. Set, the extra engine is never
skipped: a server that does not answer fails the tests, since it was asked for.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.support.postgres import throwaway_database

ENV = "LEAVEWELL_CONTRACT_DATABASE_URL"
_POSTGRES = {"postgres", "postgresql", "postgresql+asyncpg", "postgres+asyncpg"}


def contract_database_url() -> str | None:
    return os.environ.get(ENV, "").strip() or None


@asynccontextmanager
async def fresh_store_url(url: str) -> AsyncIterator[str]:
    """A storage URL (for storage.factory.make_store) of an empty database of `url`'s
    engine, where `url` says; gone afterwards."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in _POSTGRES:
        async with throwaway_database(f"postgresql://{rest}") as fresh:
            yield fresh
        return
    if sep and scheme.lower() != "sqlite":
        raise ValueError(f"{ENV}={url!r}: use a postgresql:// URL, a sqlite:/// URL or a path")
    named = Path(rest[1:] if sep else url).absolute()  # sqlite:///x.db -> x.db
    fresh_path = named.with_name(f"{named.stem}-contract-{secrets.token_hex(6)}.db")
    try:
        yield f"sqlite:///{fresh_path}"
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{fresh_path}{suffix}")
