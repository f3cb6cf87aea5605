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


async def _admin() -> Any:
    asyncpg = pytest.importorskip(
        "asyncpg", reason="asyncpg is not installed (pip install 'leavewell[postgres]')")
    if _unreachable:
        pytest.skip(_unreachable[0])
    try:
        return await asyncpg.connect(ADMIN_URL, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        _unreachable.append(f"no PostgreSQL server at {ADMIN_URL}: {type(exc).__name__}: {exc}")
        pytest.skip(_unreachable[0])


def database_url(name: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """Create an empty database, yield its URL, drop it (closing what is still connected)."""
    admin = await _admin()
    name = f"leavewell_test_{secrets.token_hex(6)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield database_url(name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
