"""`leavewell migrate` and `leavewell migrate --check` (a deploy's pre-start step), run as
the real entry point on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from leavewell.storage.postgres import PostgresStore
from leavewell.storage.sqlite import SqliteStore
from tests.bot.test_console import leavewell
from tests.support.postgres import fresh_database

MIGRATIONS = Path(__file__).resolve().parents[2] / "storage" / "migrations"
SQLITE_LATEST = len(list((MIGRATIONS / "sqlite").glob("*.sql")))
POSTGRES_LATEST = len(list((MIGRATIONS / "postgres").glob("*.sql")))


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    result = {k: v for k, v in os.environ.items()
              if not k.endswith("_BOT_TOKEN") and not k.startswith("LEAVEWELL_")}
    result.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), **env)
    return result


def migrate(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*leavewell(), "migrate", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60, check=False,
                          env=environment(tmp_path, **env))


async def migrate_async(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *leavewell(), "migrate", *args, env=environment(tmp_path),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def only_first_migration(tmp_path: Path, dialect: str) -> Path:
    folder = tmp_path / f"v1-{dialect}"
    folder.mkdir()
    shutil.copy(next((MIGRATIONS / dialect).glob("0001_*.sql")), folder)
    return folder


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


# -- SQLite ------------------------------------------------------------------------------


def test_sqlite_check_then_migrate_then_check_again(tmp_path: Path) -> None:
    path = tmp_path / "db" / "bot.db"
    url = f"sqlite:///{path}"

    done = migrate(tmp_path, "--check", "--database", url)
    assert done.returncode == 1, done.stderr
    assert f"schema version 0 of {SQLITE_LATEST}: {SQLITE_LATEST} migration(s) pending" \
        in done.stdout
    assert not path.exists()  # a check changes nothing, not even by creating the file

    done = migrate(tmp_path, "--database", url)
    assert done.returncode == 0, done.stderr
    assert "schema version before: 0\n" in done.stdout
    applied = ", ".join(str(v) for v in range(1, SQLITE_LATEST + 1))
    assert f"schema version after: {SQLITE_LATEST} (applied {applied})\n" in done.stdout
    assert user_version(path) == SQLITE_LATEST

    done = migrate(tmp_path, "--check", "--database", url)
    assert done.returncode == 0, done.stderr
    assert f"schema version {SQLITE_LATEST} of {SQLITE_LATEST}: up to date" in done.stdout

    done = migrate(tmp_path, "--database", url)
    assert done.returncode == 0
    assert f"schema version after: {SQLITE_LATEST} (nothing to apply)" in done.stdout


async def test_sqlite_an_older_schema_gets_only_the_missing_migrations(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = SqliteStore(path, migrations=only_first_migration(tmp_path, "sqlite"))
    await old.open()
    await old.close()

    # the URL from the environment, as a deploy sets it
    done = migrate(tmp_path, "--check", LEAVEWELL_DATABASE_URL=f"sqlite:///{path}")
    assert done.returncode == 1
    assert f"schema version 1 of {SQLITE_LATEST}: {SQLITE_LATEST - 1} migration(s)" \
        in done.stdout
    done = migrate(tmp_path, LEAVEWELL_DATABASE_URL=f"sqlite:///{path}")
    assert done.returncode == 0, done.stderr
    assert "schema version before: 1\n" in done.stdout
    newer = ", ".join(str(v) for v in range(2, SQLITE_LATEST + 1))
    assert f"schema version after: {SQLITE_LATEST} (applied {newer})" in done.stdout


def test_sqlite_a_database_newer_than_the_code_fails_both_and_is_left_alone(
        tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    for args in (("--check",), ()):
        done = migrate(tmp_path, *args, "--database", f"sqlite:///{path}")
        assert done.returncode == 2
        assert "schema version 999 is newer than this code" in done.stderr
        assert "Traceback" not in done.stderr
    assert user_version(path) == 999


def test_a_foreign_file_or_a_database_kept_in_memory_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.db"
    foreign.write_text("not a database\n")
    done = migrate(tmp_path, "--database", f"sqlite:///{foreign}")
    assert done.returncode == 2 and "not an SQLite database" in done.stderr
    assert foreign.read_text() == "not a database\n"
    for url in ("memory://", "sqlite:///:memory:"):
        done = migrate(tmp_path, "--check", "--database", url)
        assert done.returncode == 2 and "nothing to migrate" in done.stderr, done.stderr


def test_with_json_logs_every_line_on_stderr_is_a_json_object(tmp_path: Path) -> None:
    done = migrate(tmp_path, "--database", f"sqlite:///{tmp_path / 'j.db'}",
                   LEAVEWELL_LOG_FORMAT="json", LEAVEWELL_LOG_LEVEL="INFO")
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(e["logger"] == "leavewell.storage.migrate" and e["level"] == "INFO"
               and f"to schema version {SQLITE_LATEST}" in e["message"] for e in entries)


# -- PostgreSQL --------------------------------------------------------------------------


async def test_postgres_check_then_migrate_then_check_again(tmp_path: Path) -> None:
    async with fresh_database() as url:
        code, out, err = await migrate_async(tmp_path, "--check", "--database", url)
        assert code == 1, err
        assert f"schema version 0 of {POSTGRES_LATEST}: {POSTGRES_LATEST} migration(s)" in out

        code, out, err = await migrate_async(tmp_path, "--database", url)
        assert code == 0, err
        assert "schema version before: 0\n" in out
        applied = ", ".join(str(v) for v in range(1, POSTGRES_LATEST + 1))
        assert f"schema version after: {POSTGRES_LATEST} (applied {applied})" in out

        code, out, _ = await migrate_async(tmp_path, "--check", "--database", url)
        assert code == 0 and "up to date" in out


async def test_postgres_an_older_schema_and_two_migrations_at_once(tmp_path: Path) -> None:
    async with fresh_database() as url:
        old = PostgresStore(url, migrations=only_first_migration(tmp_path, "postgres"))
        await old.open()
        await old.close()
        code, out, _ = await migrate_async(tmp_path, "--check", "--database", url)
        assert code == 1 and f"schema version 1 of {POSTGRES_LATEST}" in out

        # two deploys racing: the runner's lock lets one apply, the other finds nothing
        results = await asyncio.gather(*(migrate_async(tmp_path, "--database", url)
                                         for _ in range(2)))
        assert [code for code, _, _ in results] == [0, 0], results
        outs = sorted(out for _, out, _ in results)
        newer = ", ".join(str(v) for v in range(2, POSTGRES_LATEST + 1))
        assert sum(f"(applied {newer})" in out for out in outs) == 1, outs
        assert sum("(nothing to apply)" in out for out in outs) == 1, outs

        import asyncpg

        conn = await asyncpg.connect(url)
        try:
            versions = [r[0] for r in await conn.fetch(
                "SELECT version FROM schema_version ORDER BY version")]
        finally:
            await conn.close()
        assert versions == list(range(1, POSTGRES_LATEST + 1))


async def test_postgres_newer_than_the_code_and_an_unreachable_server(tmp_path: Path) -> None:
    async with fresh_database() as url:
        code, _, _ = await migrate_async(tmp_path, "--database", url)
        assert code == 0
        import asyncpg

        conn = await asyncpg.connect(url)
        await conn.execute("INSERT INTO schema_version (version, name) VALUES (99, 'x.sql')")
        await conn.close()
        code, _, err = await migrate_async(tmp_path, "--check", "--database", url)
        assert code == 2 and "schema version 99 is newer than this code" in err

    # a closed port: exit 2 in one line, and the password never printed
    code, out, err = await migrate_async(
        tmp_path, "--check", "--database",
        "postgresql://leavewell:hunter2-secret@127.0.0.1:1/leavewell")
    assert code == 2, (out, err)
    assert len(err.splitlines()) == 1 and err.startswith("leavewell: cannot read the schema")
    assert "hunter2-secret" not in out + err and "leavewell:***@127.0.0.1:1" in err


@pytest.mark.parametrize("url, shown", [
    ("postgresql://bot:pw@db:5432/leavewell", "postgresql://bot:***@db:5432/leavewell"),
    ("postgresql://bot@db/leavewell", "postgresql://bot@db/leavewell"),
    ("sqlite:////var/lib/x.db", "sqlite:////var/lib/x.db"),
])
def test_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    from leavewell.storage.factory import without_password

    assert without_password(url) == shown
