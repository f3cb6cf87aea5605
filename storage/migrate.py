"""Numbered SQL migrations, shared by every engine.

Each engine keeps its own folder, `storage/migrations/<dialect>/`, of files named
`NNNN_name.sql` numbered 1, 2, 3 ... without gaps. The engine's store applies the
pending ones at `open()` and refuses a database written by newer code.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from leavewell.storage.errors import MigrationError, SchemaTooNewError

__all__ = ["Migration", "MigrationError", "SchemaTooNewError", "load_migrations",
           "split_statements"]

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
