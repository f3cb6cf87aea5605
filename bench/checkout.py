"""Which code a benchmark runs: an older checkout's own, never this one's install."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path


def import_path(root: Path, shims: Path) -> tuple[str, str]:
    """PYTHONPATH under which `root`'s own code is what gets imported, and the name of
    its bot package (to check that it is)."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = project.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    if not mapping:
        return str(root), "bot"
    shim = shims / root.name / "leavewell"
    shim.mkdir(parents=True, exist_ok=True)
    (shim / "__init__.py").touch()
    for package, folder in mapping.items():
        link = shim / package.removeprefix("leavewell.")
        if not link.exists():
            link.symlink_to(root / folder, target_is_directory=True)
    return os.pathsep.join((str(shim.parent), str(root))), "leavewell.bot"
