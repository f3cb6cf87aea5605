"""LEAVEWELL_DATABASE_URL is checked by the storage factory's own rule (factory.check_url):
the settings accept exactly the URLs make_store takes, and say why for the others."""

from __future__ import annotations

import pytest

from leavewell.bot.settings import SettingsError, load_settings
from leavewell.storage.factory import check_url, make_store

GOOD = [
    "sqlite:///leavewell.db",
    "sqlite:////var/lib/leavewell/leavewell.db",
    "sqlite:///:memory:",
    "sqlite:///x.db?synchronous=normal",
    "memory://",
    "postgresql://bot@db/leavewell",
    "postgres://bot:pw@db:5432/leavewell",
    "postgresql+asyncpg://bot@db/leavewell",
]
BAD = [  # each accepted by the old prefix check of the settings, or refused by both
    ("sqlite:///x.db?journal=off", "unknown option"),
    ("sqlite:///x.db?synchronous=sometimes", "synchronous must be"),
    ("sqlite:///", "names no database file"),
    ("memory://somewhere", "takes no path"),
    ("postgresql+psycopg://bot@db/x", "unsupported storage URL scheme"),
    ("sqlite://host/x.db", "no host"),
    ("mysql://db/leavewell", "unsupported storage URL scheme"),
    ("no-scheme", "has no scheme"),
]


@pytest.mark.parametrize("url", GOOD)
def test_a_url_the_factory_takes_is_a_valid_setting(url: str) -> None:
    assert check_url(url) == url
    make_store(url)  # created, not opened: nothing is touched
    assert load_settings({"database_url": url}).database_url == url


@pytest.mark.parametrize(("url", "why"), BAD)
def test_a_url_the_factory_refuses_is_refused_by_the_settings_too(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_url(url)
    with pytest.raises(ValueError, match=why):
        make_store(url)
    with pytest.raises(SettingsError, match=f"database_url: .*{why}"):
        load_settings({"database_url": url})


def test_a_refused_url_never_shows_its_password() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"database_url": "mysql://bot:hunter2@db/leavewell"})
    assert "hunter2" not in str(refused.value) and "bot:***@db" in str(refused.value)


def test_postgres_without_asyncpg_is_refused_at_the_settings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "asyncpg" else real(name, *a))
    with pytest.raises(SettingsError, match=r"leavewell\[postgres\]"):
        load_settings({"database_url": "postgresql://bot@db/leavewell"})
