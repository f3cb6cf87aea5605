"""bench/checkout.py: an older checkout measured beside this one runs its own code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.checkout import import_path

ROOT = Path(__file__).resolve().parent.parent


def _copy_of_this_checkout(tmp_path: Path) -> Path:
    older = tmp_path / "older"
    older.mkdir()
    (older / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    for folder in ("bot", "dialogs", "storage"):
        (older / folder).mkdir()
        (older / folder / "__init__.py").write_text(f"WHO = 'older {folder}'\n")
    return older


def test_a_namespaced_checkout_is_imported_from_its_own_folders(tmp_path: Path) -> None:
    older = _copy_of_this_checkout(tmp_path)
    path, bot = import_path(older, tmp_path / "shims")
    assert bot == "leavewell.bot"
    # The editable install of this checkout is on sys.path too; the shim must win.
    shown = subprocess.run(
        [sys.executable, "-c", "import leavewell.bot, leavewell.storage as s; "
                               "print(leavewell.bot.WHO, '|', s.WHO)"],
        env={**os.environ, "PYTHONPATH": path}, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "older bot | older storage"


def test_a_checkout_from_before_the_namespace_imports_its_folders_at_the_top(
        tmp_path: Path) -> None:
    older = tmp_path / "older"
    older.mkdir()
    (older / "pyproject.toml").write_text("[project]\nname = 'leavewell'\n")
    assert import_path(older, tmp_path / "shims") == (str(older), "bot")
