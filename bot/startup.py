"""Start-up failures: one line for the person running the bot, exit code 2.

Anything that stops the bot before it serves (the database, the configuration, a token
a platform rejects, a server it cannot reach) becomes a StartupError whose message names
the cause in words; `leavewell` prints it on one line and exits with 2.
"""

from __future__ import annotations

from leavewell.storage.errors import MigrationError, SchemaTooNewError, StoreOpenError
from leavewell.storage.factory import without_password

EXIT_CODE = 2


class StartupError(Exception):
    """The bot cannot start; str() is the cause, for people."""


STORE_ERRORS: tuple[type[Exception], ...] = (StoreOpenError, SchemaTooNewError, MigrationError)


def store_error(url: str, exc: Exception) -> StartupError:
    """The StartupError for a failure of storage.open_store(url)."""
    if isinstance(exc, STORE_ERRORS):
        return StartupError(str(exc))
    if isinstance(exc, ValueError):  # make_store: the URL itself
        return StartupError(f"bad database URL: {exc}")
    return StartupError(f"cannot open the database {without_password(url)}: {exc}")


def one_line(text: str) -> str:
    return " ".join(text.split())
