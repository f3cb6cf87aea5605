"""Every error a store raises, and why a store could not be opened, in words a person
running the bot can act on. Callers catch these, never a driver's own types."""

from __future__ import annotations

import errno
import sqlite3


class StorageError(Exception):
    """A store could not do what was asked."""


class StorageUnavailable(StorageError):
    """The database is away for now (busy, full, disconnected, closed): the work is to be
    kept and tried again later, not given up."""


class StoreClosedError(StorageUnavailable, RuntimeError):
    """The store is not open (never opened, or closed)."""


class StoreOpenError(StorageError, RuntimeError):
    """The database cannot be used; the message names the file and the cause."""


class MigrationError(StorageError, RuntimeError):
    """The migration files are inconsistent, or applying one failed."""


class SchemaTooNewError(StorageError, RuntimeError):
    """The database was migrated by a newer version of leavewell."""


# SQLite primary result codes (sqlite_errorcode & 0xff) -> the cause, in words.
_SQLITE_CAUSES: dict[int, str] = {
    3: "permission denied",  # SQLITE_PERM
    5: "it is locked by another process",  # SQLITE_BUSY
    6: "it is locked by another process",  # SQLITE_LOCKED
    8: "it is read-only",  # SQLITE_READONLY
    10: "an I/O error",  # SQLITE_IOERR
    11: "the file is damaged",  # SQLITE_CORRUPT
    13: "disk full",  # SQLITE_FULL
    14: "the file or its folder cannot be opened",  # SQLITE_CANTOPEN
    23: "permission denied",  # SQLITE_AUTH
    26: "it is not an SQLite database (a foreign or damaged file)",  # SQLITE_NOTADB
}

_OS_CAUSES: dict[int, str] = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOENT: "its folder does not accept new files",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "it is a folder",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ELOOP: "too many symbolic links",
    errno.EIO: "an I/O error",
}


def sqlite_cause(exc: sqlite3.Error) -> str:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and (code & 0xFF) in _SQLITE_CAUSES:
        return _SQLITE_CAUSES[code & 0xFF]
    return str(exc) or type(exc).__name__


def os_cause(exc: OSError) -> str:
    if exc.errno in _OS_CAUSES:
        return _OS_CAUSES[exc.errno]
    return exc.strerror or str(exc)


def open_error(path: str, exc: BaseException, doing: str = "cannot use the database") -> \
        StoreOpenError:
    """A StoreOpenError for `exc` raised while opening `path`."""
    if isinstance(exc, StoreOpenError):
        return exc
    if isinstance(exc, sqlite3.Error):
        cause = sqlite_cause(exc)
    elif isinstance(exc, OSError):
        cause = os_cause(exc)
    else:
        cause = str(exc) or type(exc).__name__
    return StoreOpenError(f"{doing} {path}: {cause}")


# Driver errors that mean "not now" rather than "never": sqlite3's OperationalError is
# busy, locked, disk full or I/O; PostgreSQL's by class (connection, rollback, resources).
_TRANSIENT_ASYNCPG = ("PostgresConnectionError", "InterfaceError", "TransactionRollbackError",
                      "CannotConnectNowError", "TooManyConnectionsError",
                      "InsufficientResourcesError", "AdminShutdownError", "CrashShutdownError")


def is_transient(exc: BaseException) -> bool:
    """Whether `exc` is the database being away (busy, full, disconnected, closed), so the
    work is to be kept and retried later, rather than a bug that no retry can fix."""
    if isinstance(exc, StorageError):
        return isinstance(exc, StorageUnavailable)
    if isinstance(exc, (sqlite3.OperationalError, OSError)):
        return True
    if type(exc).__module__.startswith("asyncpg"):
        names = {cls.__name__ for cls in type(exc).__mro__}
        return any(name in names for name in _TRANSIENT_ASYNCPG)
    return False
