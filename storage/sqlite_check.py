"""Look at a SQLite database file before writing to it (blocking: run it in a thread).

A damaged, foreign or unreachable file is refused with a StoreOpenError that says why,
and is never written to: the existing file is only opened read-only here, so it stays
byte-identical. `PRAGMA quick_check` reads every page: about 1 GB/s from the page cache,
0.4-0.5 s for 100,000 conversations (495 MB) against 20 ms for the open itself
(bench/bench_startup_check.py). It runs once, when the store opens; its row limit only
caps the errors reported, not the pages read.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from leavewell.storage.errors import StoreOpenError, open_error

SQLITE_HEADER = b"SQLite format 3\x00"
_QUICK_CHECK_ROWS = 3  # error rows to report (it does not shorten the check)


def prepare_file(path: str) -> bool:
    """Make sure `path` can hold the database: its folder exists (created if needed), and
    an existing file is an undamaged SQLite database of ours or empty. Returns True when
    this call created the (empty) file, so a failed open can remove it again."""
    target = Path(path)
    _check_folders(target)
    if target.is_dir():
        raise StoreOpenError(f"cannot use the database {path}: it is a folder, not a file")
    if target.exists():
        check_existing(path)
        return False
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:  # created meanwhile by another process: check that one
        check_existing(path)
        return False
    except OSError as exc:
        raise open_error(path, exc, "cannot create the database") from None
    return True


def _check_folders(target: Path) -> None:
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        if ancestor == target.parent:
            raise StoreOpenError(f"cannot use the database {target}: the parent of {target} "
                                 f"is a file")
        raise StoreOpenError(f"cannot use the database {target}: {ancestor} is a file, "
                             f"not a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise open_error(str(target.parent), exc, "cannot create the folder") from None


def check_existing(path: str) -> None:
    """Refuse a file that is not an SQLite database, is damaged, or belongs to another
    program. Opens it read-only."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise open_error(path, exc, "cannot read the database") from None
    if not header:
        return  # an empty file is a new database
    if header != SQLITE_HEADER:
        raise StoreOpenError(f"cannot use {path}: it is not an SQLite database (a foreign or "
                             f"damaged file); leavewell leaves it untouched")
    try:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise open_error(path, exc, "cannot open the database") from None
    try:
        problems = [row[0] for row in
                    conn.execute(f"PRAGMA quick_check({_QUICK_CHECK_ROWS})").fetchall()]
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
            raise _damaged(path, str(exc)) from None
        raise open_error(path, exc, "cannot check the database") from None
    finally:
        conn.close()
    if problems != ["ok"]:
        lines = [line for row in problems for line in row.splitlines()
                 if line.strip() and not line.startswith("***")]
        raise _damaged(path, lines[0] if lines else "no answer from the check")
    # Ours are marked by PRAGMA user_version (the migrations); tables without it are
    # another program's. A version we do not know is for the migration code to refuse.
    if version == 0 and tables:
        shown = ", ".join(sorted(tables)[:5]) + (" ..." if len(tables) > 5 else "")
        raise StoreOpenError(f"cannot use {path}: it is the SQLite database of another "
                             f"program (tables: {shown}); leavewell leaves it untouched")


def _damaged(path: str, detail: str) -> StoreOpenError:
    return StoreOpenError(f"cannot use {path}: the database is damaged ({detail}); restore "
                          f"a backup or move it away (leavewell left it untouched)")
