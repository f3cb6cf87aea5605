"""Numbered SQL migrations and the one runner every engine uses.

Each engine keeps its own folder, `storage/migrations/<dialect>/`, of files named
`NNNN_name.sql` numbered 1, 2, 3 ... without gaps. The engine's store applies the
pending ones at `open()` through `apply_migrations` and refuses a database written by
newer code. Each migration is applied in its own transaction together with the bump of
the recorded version: a migration that fails leaves the database at the version before
it, with everything earlier still applied. The engine only says how to run a statement,
open a transaction and read and record the version (`MigrationTarget`).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Protocol

from leavewell.storage.errors import MigrationError, SchemaTooNewError

__all__ = ["Migration", "MigrationError", "MigrationTarget", "SchemaTooNewError",
           "apply_migrations", "load_migrations", "split_statements"]

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def load_migrations(
    source: Traversable | Path | None = None, *, dialect: str = "sqlite"
) -> list[Migration]:
    """Read `NNNN_name.sql` files from `source` (default: the packaged ones of `dialect`).

    Versions must run 1, 2, 3 ... without gaps or duplicates.
    """
    if source is None:
        source = resources.files("leavewell.storage") / "migrations" / dialect

    migrations: list[Migration] = []
    for entry in source.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"migration file name {entry.name!r} is not NNNN_name.sql")
        text = entry.read_text(encoding="utf-8")
        migrations.append(Migration(int(match.group(1)), entry.name, split_statements(text)))
    migrations.sort(key=lambda m: m.version)
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migration versions must be 1..{len(migrations)} without gaps or duplicates;"
                f" found {[m.name for m in migrations]}"
            )
    return migrations


def split_statements(sql: str) -> tuple[str, ...]:
    """Split a SQL script into statements (a statement ends with ';' at a line end).

    SQLite's tokenizer decides where a statement ends; that serves PostgreSQL's plain DDL
    too, as long as a migration uses no dollar-quoted function bodies."""
    statements: list[str] = []
    buffer = ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = [
        line for line in buffer.splitlines() if line.strip() and not line.strip().startswith("--")
    ]
    if leftover:
        raise MigrationError(f"incomplete SQL statement at the end: {buffer.strip()[:200]!r}")
    return tuple(statements)


def check_not_too_new(version: int, latest: int, where: str) -> None:
    if version > latest:
        raise SchemaTooNewError(
            f"database {where} has schema version {version}, but this code only knows "
            f"versions up to {latest}; upgrade leavewell or use another database"
        )


class MigrationTarget(Protocol):
    """One engine's connection, as the runner sees it."""

    where: str  # the database, for messages (no password)
    errors: tuple[type[BaseException], ...]  # what a failing statement raises

    async def version(self) -> int:
        """The schema version recorded in the database (0: none yet)."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[None]:
        """A write transaction: committed on a clean exit, rolled back on an error. It
        keeps other processes from migrating at the same time (or the engine does that
        around the whole run)."""
        ...

    async def execute(self, statement: str) -> None: ...

    async def record(self, migration: Migration) -> None:
        """Record `migration.version` as the schema version (inside the transaction)."""
        ...


async def apply_migrations(target: MigrationTarget,
                           migrations: list[Migration]) -> tuple[int, ...]:
    """Apply the migrations the database lacks, each in its own transaction with its
    version bump. Returns the versions applied (none when another process applied them
    first). Raises SchemaTooNewError for a database newer than `migrations`, and
    MigrationError naming the file whose statement failed."""
    latest = migrations[-1].version if migrations else 0
    version = await target.version()
    check_not_too_new(version, latest, target.where)
    applied: list[int] = []
    while version < latest:
        async with target.transaction():
            version = await target.version()  # another process may have migrated meanwhile
            check_not_too_new(version, latest, target.where)
            if version >= latest:
                break
            migration = migrations[version]
            for statement in migration.statements:
                try:
                    await target.execute(statement)
                except target.errors as exc:
                    raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            await target.record(migration)
        applied.append(migration.version)
        version = migration.version
    if applied:
        log.info("migrated %s to schema version %d", target.where, latest)
    return tuple(applied)
