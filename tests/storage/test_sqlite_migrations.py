"""Versioned SQLite migrations: numbered files, PRAGMA user_version, refusal of the future."""

from __future__ import annotations

import shutil
import sqlite3
from importlib import resources
from pathlib import Path

import pytest

from leavewell.storage.sqlite import (
    MigrationError,
    SchemaTooNewError,
    SqliteStore,
    load_migrations,
    split_statements,
)

PACKAGED = resources.files("leavewell.storage") / "migrations" / "sqlite"


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


@pytest.fixture
def migrations_v1(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    source = PACKAGED / "0001_initial.sql"
    (folder / "0001_initial.sql").write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def with_v2(folder: Path, sql: str) -> Path:
    (folder / "0002_marker.sql").write_text(sql, encoding="utf-8")
    return folder


async def test_fresh_database_gets_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    latest = len(load_migrations())
    store = SqliteStore(path)
    await store.open()
    try:
        assert await store.schema_version() == latest == store.latest_version
        assert store.applied_migrations == tuple(range(1, latest + 1))
    finally:
        await store.close()
    assert user_version(path) == latest
    assert {"users", "conversations", "turns", "processed_events", "outbox"} <= tables(path)


async def test_a_database_from_the_future_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    store = SqliteStore(path)
    with pytest.raises(SchemaTooNewError, match=r"schema version 999.*upgrade leavewell"):
        await store.open()
    assert user_version(path) == 999  # left untouched
    assert tables(path) == set()
    with pytest.raises(RuntimeError):  # not open
        await store.schema_version()


async def test_reopening_does_not_rerun_migrations(tmp_path: Path, migrations_v1: Path) -> None:
    path = tmp_path / "reopen.db"
    folder = with_v2(
        migrations_v1,
        "CREATE TABLE marker (n INTEGER NOT NULL);\nINSERT INTO marker (n) VALUES (1);\n",
    )
    for expected_applied in [(1, 2), (), ()]:
        store = SqliteStore(path, migrations=folder)
        await store.open()
        assert store.applied_migrations == expected_applied
        assert await store.schema_version() == 2
        await store.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM marker").fetchone()[0] == 1


async def test_upgrade_applies_only_the_new_migrations(tmp_path: Path, migrations_v1: Path) -> None:
    path = tmp_path / "upgrade.db"
    old = SqliteStore(path, migrations=migrations_v1)
    await old.open()
    await old.close()
    assert user_version(path) == 1

    folder = with_v2(migrations_v1, "-- add a column\nALTER TABLE users ADD COLUMN note TEXT;\n")
    new = SqliteStore(path, migrations=folder)
    await new.open()
    try:
        assert new.applied_migrations == (2,)
        assert await new.schema_version() == 2
    finally:
        await new.close()
    # The old code (migrations read when it was built) now refuses the upgraded database.
    with pytest.raises(SchemaTooNewError):
        await old.open()


async def test_a_failing_migration_on_a_new_file_leaves_no_file(tmp_path: Path,
                                                                migrations_v1: Path) -> None:
    path = tmp_path / "broken.db"
    folder = with_v2(migrations_v1, "CREATE TABLE half (n INTEGER);\nTHIS IS NOT SQL;\n")
    store = SqliteStore(path, migrations=folder)
    with pytest.raises(MigrationError, match=r"0002_marker\.sql"):
        await store.open()
    assert not path.exists()  # the open created it, so the failed open removes it


async def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path,
                                                               migrations_v1: Path) -> None:
    path = tmp_path / "broken.db"
    first = SqliteStore(path, migrations=migrations_v1)
    await first.open()
    await first.close()
    folder = with_v2(migrations_v1, "CREATE TABLE marker (n INTEGER NOT NULL);\n")
    (folder / "0003_broken.sql").write_text(
        "CREATE TABLE half (n INTEGER);\nINSERT INTO marker (n) VALUES (1);\nTHIS IS NOT SQL;\n")
    with pytest.raises(MigrationError, match=r"0003_broken\.sql"):
        await SqliteStore(path, migrations=folder).open()
    assert user_version(path) == 2  # 0002 committed with its version; 0003 rolled back whole
    assert "marker" in tables(path) and "half" not in tables(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM marker").fetchone()[0] == 0

    (folder / "0003_broken.sql").write_text("CREATE TABLE half (n INTEGER);\n")
    fixed = SqliteStore(path, migrations=folder)
    await fixed.open()
    try:
        assert fixed.applied_migrations == (3,)
        assert await fixed.schema_version() == 3
    finally:
        await fixed.close()


def test_migration_files_must_be_numbered_without_gaps(tmp_path: Path) -> None:
    folder = tmp_path / "gap"
    folder.mkdir()
    shutil.copy(str(PACKAGED / "0001_initial.sql"), folder / "0001_initial.sql")
    (folder / "0003_skip.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match="without gaps"):
        load_migrations(folder)
    (folder / "0003_skip.sql").unlink()
    (folder / "2_bad_name.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        load_migrations(folder)


def test_split_statements_understands_triggers_and_comments() -> None:
    sql = """
    -- a comment; with a semicolon
    CREATE TABLE a (x INTEGER);
    CREATE TRIGGER t AFTER INSERT ON a BEGIN
        UPDATE a SET x = x + 1;
    END;
    -- trailing comment
    """
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
    with pytest.raises(MigrationError, match="incomplete"):
        split_statements("CREATE TABLE b (x INTEGER)")


def migrations_up_to(folder: Path, version: int) -> Path:
    """A folder holding the packaged migrations 1..version."""
    folder.mkdir()
    for entry in PACKAGED.iterdir():
        if entry.name.endswith(".sql") and int(entry.name[:4]) <= version:
            (folder / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


async def test_0004_moves_server_settings_out_of_users(tmp_path: Path) -> None:
    path = tmp_path / "settings.db"
    old = SqliteStore(path, migrations=migrations_up_to(tmp_path / "v3", 3))
    await old.open()
    await old.close()
    with sqlite3.connect(path) as conn:  # as the Discord adapter stored them before 0004
        conn.executemany(
            "INSERT INTO users (user_key, profile, created_at, updated_at) VALUES (?, ?, ?, ?)",
            [("discord-guild:42", '{"allowed_channels":[7,8]}', 1.0, 2.0),
             ("discord:42", '{"lang":"zh"}', 1.0, 1.0),
             ("Discord-Guild:43", '{"lang":"en"}', 1.0, 1.0)])  # not the prefix: stays
    store = SqliteStore(path)
    await store.open()
    try:
        assert 4 in store.applied_migrations
        assert await store.load_settings("discord-guild:42") == {"allowed_channels": [7, 8]}
        assert await store.load("discord-guild:42", "discord-guild:42") == (None, None)
        user, _ = await store.load("x", "discord:42")
        assert user is not None and user.profile == {"lang": "zh"}
        assert await store.load_settings("Discord-Guild:43") == {}
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        times = conn.execute("SELECT created_at, updated_at FROM settings").fetchall()
        keys = {row[0] for row in conn.execute("SELECT user_key FROM users")}
    assert times == [(1.0, 2.0)]
    assert keys == {"discord:42", "Discord-Guild:43"}


async def test_0005_ranks_turns_by_id_instead_of_a_computed_seq(tmp_path: Path) -> None:
    path = tmp_path / "turns.db"
    old = SqliteStore(path, migrations=migrations_up_to(tmp_path / "v4", 4))
    await old.open()
    await old.close()
    with sqlite3.connect(path) as conn:  # turns as the old writer numbered them
        conn.executemany(
            "INSERT INTO turns (conversation_key, user_key, seq, at, kind, text, meta) "
            "VALUES (?, 'tg:1', ?, 1.0, 'text', ?, '{}')",
            [("tg:1:1:0", 1, "first"), ("tg:2:1:0", 1, "other"), ("tg:1:1:0", 2, "second")])
    store = SqliteStore(path)
    await store.open()
    try:
        assert 5 in store.applied_migrations
        assert [t.text for t in await store.turns("tg:1:1:0")] == ["first", "second"]
        exported = await store.export_user("tg:1")
        assert [(t["text"], t["seq"]) for t in exported["turns"]] == [
            ("first", 1), ("other", 1), ("second", 2)]
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(turns)")}
    assert "seq" not in columns and {"id", "conversation_key"} <= columns
