"""A throwaway PostgreSQL database per test, on the server this machine and CI run.

The server is `LEAVEWELL_TEST_POSTGRES_URL` (default: user postgres, trust auth, on
127.0.0.1:5432). Each database gets a random name and is dropped afterwards. Where no
server answers, the test is skipped with the reason, never passed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

ADMIN_URL = os.environ.get(
    "LEAVEWELL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_unreachable: list[str] = []  # the reason, once a connection attempt has failed


async def _skip_unless_reachable() -> None:
    asyncpg = pytest.importorskip(
        "asyncpg", reason="asyncpg is not installed (pip install 'leavewell[postgres]')")
    if _unreachable:
        pytest.skip(_unreachable[0])
    try:
        await (await asyncpg.connect(ADMIN_URL, timeout=3)).close()
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        _unreachable.append(f"no PostgreSQL server at {ADMIN_URL}: {type(exc).__name__}: {exc}")
        pytest.skip(_unreachable[0])


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """Create an empty database, yield its URL, drop it (closing what is still connected)."""
    await _skip_unless_reachable()
    async with throwaway_database(ADMIN_URL) as url:
        yield url


@asynccontextmanager
async def throwaway_database(admin_url: str = ADMIN_URL) -> AsyncIterator[str]:
    """The same without pytest (benchmarks): errors propagate."""
    import asyncpg

    admin = await asyncpg.connect(admin_url, timeout=3)
    name = f"leavewell_test_{secrets.token_hex(6)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base, _, _ = admin_url.rpartition("/")
            yield f"{base}/{name}"
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def two_replicas(url: str) -> AsyncIterator[tuple[Any, Any]]:
    """Two PostgresStores open on one database, as two replicas would have them."""
    from leavewell.storage.postgres import PostgresStore  # asyncpg: only where it is used

    first, second = PostgresStore(url, pool_max=4), PostgresStore(url, pool_max=4)
    await first.open()
    await second.open()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()
