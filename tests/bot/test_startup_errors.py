"""Start-up errors are one clear line on stderr and exit code 2: no traceback, nothing
left running (issue 14: a bad database URL printed ~24 lines ending in "Event loop is
closed" from aiosqlite's thread). Every case runs the real `leavewell` entry point."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from leavewell.storage.errors import open_error
from leavewell.storage.sqlite import SqliteStore
from tests.bot.test_console import leavewell
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_telegram import FakeTelegram

NOISE = ("Traceback", "Event loop is closed", "Exception in thread", "Unclosed", "Task was "
         "destroyed", "WARNING")


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    result = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
    result.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"), **env)
    return result


def assert_one_line_exit_2(stdout: bytes, stderr: bytes, returncode: int | None,
                           *expected: str) -> str:
    text = stderr.decode()
    assert returncode == 2, text
    assert stdout == b"", stdout
    lines = text.splitlines()
    assert len(lines) == 1 and text.endswith("\n"), text
    assert lines[0].startswith("leavewell: "), text
    assert not any(noise in text for noise in NOISE), text
    for words in expected:
        assert words in lines[0], text
    return lines[0]


def practice(tmp_path: Path, url: str, prefix: tuple[str, ...] = ()) -> \
        subprocess.CompletedProcess[bytes]:
    return subprocess.run([*prefix, *leavewell(), "practice"], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=60, check=False,
                          env=environment(tmp_path, LEAVEWELL_DATABASE_URL=url))


def refused(tmp_path: Path, url: str, *expected: str) -> str:
    done = practice(tmp_path, url)
    return assert_one_line_exit_2(done.stdout, done.stderr, done.returncode, *expected)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, where "
                    "nobody (root included) may create files")
def test_an_unwritable_path(tmp_path: Path) -> None:
    for _ in range(3):  # the old traceback came in 9 runs of 10
        refused(tmp_path, "sqlite:////proc/leavewell.db",
                "cannot create the database /proc/leavewell.db")


@pytest.mark.parametrize(("url", "words"), [
    ("mysql://db/leavewell", "LEAVEWELL_DATABASE_URL"),
    # PostgreSQL is supported: a server that is not there (a closed loopback port) is
    # still one clear line
    ("postgresql://postgres@127.0.0.1:1/leavewell", "cannot open the database"),
    ("sqlite://host/x.db", "LEAVEWELL_DATABASE_URL"),
    ("sqlite:///x.db?journal=off", "unknown option"),
    ("no-scheme", "LEAVEWELL_DATABASE_URL"),
])
def test_a_bad_database_url(tmp_path: Path, url: str, words: str) -> None:
    refused(tmp_path, url, words)


def test_the_parent_of_the_database_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    database = blocker / "leavewell.db"
    refused(tmp_path, f"sqlite:///{database}", f"the parent of {database} is a file")
    refused(tmp_path, f"sqlite:///{blocker / 'deeper' / 'x.db'}", f"{blocker} is a file")
    assert blocker.read_text() == "not a folder"


def test_the_database_path_is_a_folder(tmp_path: Path) -> None:
    refused(tmp_path, f"sqlite:///{tmp_path}", "it is a folder")


def test_a_foreign_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "photo.db"
    foreign.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(5000))
    before = digest(foreign)
    refused(tmp_path, f"sqlite:///{foreign}", "it is not an SQLite database")
    assert digest(foreign) == before


def test_another_programs_sqlite_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.close()
    before = digest(other)
    refused(tmp_path, f"sqlite:///{other}", "the SQLite database of another program",
            "invoices")
    assert digest(other) == before


async def make_damaged_database(path: Path) -> None:
    """A real leavewell database, its header intact and its b-tree pages overwritten."""
    store = SqliteStore(path)
    await store.open()
    await store.close()
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO users VALUES (?, '{}', 0, 0)",
                         [(f"tg:{n}",) for n in range(3000)])
    conn.close()
    page_size = 4096
    pages = path.stat().st_size // page_size
    assert pages > 10 and not Path(f"{path}-wal").exists()
    with path.open("r+b") as handle:
        for page in range(2, pages):
            handle.seek(page * page_size)
            handle.write(b"\x0d\xff\xff\xff" + bytes(range(60)))


async def test_a_database_with_corrupt_pages_is_refused_and_left_untouched(
        tmp_path: Path) -> None:
    database = tmp_path / "damaged.db"
    await make_damaged_database(database)
    assert database.read_bytes()[:16] == b"SQLite format 3\x00"
    before = digest(database)
    line = refused(tmp_path, f"sqlite:///{database}", "the database is damaged",
                   "restore a backup")
    assert "Page" in line  # quick_check's own finding, on the same line
    assert digest(database) == before
    store = SqliteStore(database)  # the library refuses it too, before any write
    with pytest.raises(RuntimeError, match="damaged"):
        await store.open()
    assert digest(database) == before


def _namespaced_tmpfs(options: str, fill: bool) -> tuple[str, ...]:
    """A prefix that runs the command in its own mount namespace over a fresh tmpfs
    (filled up first when `fill`)."""
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "-o", options, "tmpfs",
                            "/mnt"], capture_output=True, check=False) \
        if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("needs `unshare -rm` (user and mount namespaces) to mount a small tmpfs")
    filling = '{ head -c 2M /dev/zero > "$0/fill"; } 2>/dev/null; ' if fill else ""
    return ("unshare", "-rm", "sh", "-c",
            f'mount -t tmpfs -o {options} tmpfs "$0" && {filling}exec "$@"')


def test_a_full_disk(tmp_path: Path) -> None:
    """A real full file system: a 256 KiB tmpfs filled up before the bot starts."""
    mount = tmp_path / "full"
    mount.mkdir()
    prefix = (*_namespaced_tmpfs("size=256k", fill=True), str(mount))
    done = practice(tmp_path, f"sqlite:///{mount / 'leavewell.db'}", prefix)
    assert_one_line_exit_2(done.stdout, done.stderr, done.returncode, "disk full")


def test_a_read_only_file_system(tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    mount.mkdir()
    prefix = (*_namespaced_tmpfs("ro,size=256k", fill=False), str(mount))
    done = practice(tmp_path, f"sqlite:///{mount / 'leavewell.db'}", prefix)
    assert_one_line_exit_2(done.stdout, done.stderr, done.returncode,
                           "the file system is read-only")


@pytest.mark.parametrize(("error", "cause"), [
    (OSError(errno.ENOSPC, "No space left on device"), "disk full"),
    (OSError(errno.EACCES, "Permission denied"), "permission denied"),
    (OSError(errno.EROFS, "Read-only file system"), "the file system is read-only"),
])
def test_os_errors_are_named(error: OSError, cause: str) -> None:
    assert str(open_error("/data/x.db", error)) == f"cannot use the database /data/x.db: {cause}"


@pytest.mark.parametrize(("code", "cause"), [
    (13, "disk full"),  # SQLITE_FULL
    (13 | (1 << 8), "disk full"),  # an extended code of SQLITE_FULL
    (8, "it is read-only"),  # SQLITE_READONLY
    (5, "it is locked by another process"),  # SQLITE_BUSY
    (26, "it is not an SQLite database"),  # SQLITE_NOTADB
])
def test_sqlite_error_codes_are_named(code: int, cause: str) -> None:
    error = sqlite3.OperationalError("database or disk is full")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    assert cause in str(open_error("/data/x.db", error))


async def run_with_env(tmp_path: Path, **env: str) -> tuple[bytes, bytes, int | None]:
    process = await asyncio.create_subprocess_exec(
        *leavewell(), env=environment(
            tmp_path, LEAVEWELL_DATABASE_URL=f"sqlite:///{tmp_path / 'tok.db'}", **env),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    return stdout, stderr, process.returncode


async def test_a_token_telegram_rejects(tmp_path: Path) -> None:
    token = "123456:wrong-token"
    async with FakeTelegram(token="999:the-right-one") as tg:
        out, err, code = await run_with_env(tmp_path, TELEGRAM_BOT_TOKEN=token,
                                            TELEGRAM_API_BASE_URL=tg.base_url)
    line = assert_one_line_exit_2(out, err, code, "Telegram rejected the bot token", "401")
    assert "wrong-token" not in line


async def test_a_token_discord_rejects(tmp_path: Path) -> None:
    async with FakeDiscord(token="the-right-one") as dc:
        out, err, code = await run_with_env(
            tmp_path, DISCORD_BOT_TOKEN="wrong-token", DISCORD_API_BASE_URL=dc.api_base,
            DISCORD_GATEWAY_URL=dc.gateway_url)
    line = assert_one_line_exit_2(out, err, code, "Discord rejected the bot token", "401")
    assert "wrong-token" not in line


async def test_a_platform_that_cannot_be_reached(tmp_path: Path) -> None:
    out, err, code = await run_with_env(tmp_path, TELEGRAM_BOT_TOKEN="123456:token",
                                        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot")
    assert_one_line_exit_2(out, err, code, "cannot reach the Telegram Bot API")
