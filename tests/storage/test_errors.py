"""Which storage errors mean "try again later" and which mean "never"."""

from __future__ import annotations

import sqlite3

import pytest

from leavewell.storage.errors import (
    MigrationError,
    SchemaTooNewError,
    StorageError,
    StorageUnavailable,
    StoreClosedError,
    StoreOpenError,
    is_transient,
)


@pytest.mark.parametrize("error", [
    StoreClosedError("closed"),
    StorageUnavailable("away"),
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError("database or disk is full"),
    OSError(28, "No space left on device"),
    ConnectionResetError("reset by peer"),
])
def test_the_database_being_away_is_worth_a_retry(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize("error", [
    SchemaTooNewError("schema version 99"),
    MigrationError("0007 failed"),
    StoreOpenError("not an SQLite database"),
    sqlite3.IntegrityError("UNIQUE constraint failed"),
    sqlite3.ProgrammingError("closed cursor"),
    ValueError("a bug"),
    KeyError("state"),
])
def test_a_permanent_failure_is_not_retried(error: BaseException) -> None:
    assert not is_transient(error)


def test_every_store_error_is_one_family() -> None:
    for kind in (StorageUnavailable, StoreClosedError, StoreOpenError, MigrationError,
                 SchemaTooNewError):
        assert issubclass(kind, StorageError)


def test_postgres_errors_are_judged_by_their_class() -> None:
    asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed")
    assert is_transient(asyncpg.SerializationError("could not serialize"))
    assert is_transient(asyncpg.DeadlockDetectedError("deadlock"))
    assert is_transient(asyncpg.CannotConnectNowError("starting up"))
    assert is_transient(asyncpg.DiskFullError("no space"))
    assert not is_transient(asyncpg.UniqueViolationError("duplicate"))
    assert not is_transient(asyncpg.UndefinedTableError("no table"))
