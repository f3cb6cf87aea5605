"""The README's promises stay true: its commands are what CI runs, its diagram is current."""

from __future__ import annotations

from pathlib import Path

from leavewell.dialogs.diagram import mermaid

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci_command = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci_command in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_diagram_is_generated_from_the_flow() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert mermaid() in readme


def test_env_example_documents_every_setting() -> None:
    """The core's settings and every installed adapter's own."""
    from leavewell.bot import registry
    from leavewell.bot.settings import Settings

    example = (ROOT / "deploy" / "leavewell.env.example").read_text(encoding="utf-8")
    models = [Settings, *(plugin.settings for plugin in registry.plugins().values())]
    assert len(models) >= 3
    for model in models:
        for field in model.model_fields.values():
            names = field.validation_alias.choices  # type: ignore[union-attr]
            assert names[0] in example, names[0]


def test_every_package_folder_is_installed_under_the_leavewell_namespace() -> None:
    """A subpackage missing from pyproject's list would work in the editable checkout
    and be absent from a real install."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    folders = {f"leavewell.{'.'.join(init.parent.relative_to(ROOT).parts)}"
               for top in setuptools["package-dir"].values()
               for init in (ROOT / top).rglob("__init__.py")}
    assert set(setuptools["packages"]) == folders
