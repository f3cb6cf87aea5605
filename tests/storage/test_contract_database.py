"""LEAVEWELL_CONTRACT_DATABASE_URL adds an engine to the contract suite's parameters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leavewell.storage.factory import make_store
from leavewell.storage.sqlite import SqliteStore
from tests.support.contract_database import ENV, fresh_store_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("form", ["path", "url"])
async def test_a_sqlite_target_gets_a_fresh_file_beside_the_named_one(tmp_path: Path,
                                                                      form: str) -> None:
    named = tmp_path / "mine.db"
    named.write_bytes(b"not touched")
    given = str(named) if form == "path" else f"sqlite:///{named}"
    async with fresh_store_url(given) as url:
        store = make_store(url)
        assert isinstance(store, SqliteStore) and Path(store.path).parent == tmp_path
        await store.open()
        await store.save_settings("x:1", {"a": 1}, 1.0)
        await store.close()
        assert Path(store.path).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.db"]
    assert named.read_bytes() == b"not touched"


async def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match=ENV):
        async with fresh_store_url("mysql://db/x"):
            pass


def test_the_variable_adds_the_engine_to_the_contract_suite(tmp_path: Path) -> None:
    env = {**os.environ, ENV: str(tmp_path / "other.db")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
         "tests/storage/test_contract.py", "-k", "settings_of_a_place", "-v"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "test_settings_of_a_place_are_kept_apart_from_users[extra] PASSED" in run.stdout
    assert list(tmp_path.iterdir()) == []  # its fresh files were removed
