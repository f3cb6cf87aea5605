"""The platform boundary (issue 11): the core, the dialogs, storage and the shared settings
name no platform; adapters never touch storage; platforms are plugins whose SDKs are
extras, and a configured one whose SDK is missing says what to install."""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leavewell.bot import registry
from leavewell.bot.app import run_platforms
from leavewell.bot.plugin import AdapterContext, AdapterPlugin, Capabilities
from leavewell.bot.settings import EnvSettings, load_settings
from leavewell.bot.startup import StartupError
from tests.bot.test_console import leavewell
from tests.bot.test_startup_errors import assert_one_line_exit_2, environment

ROOT = Path(__file__).resolve().parents[2]
PLATFORM_WORD = re.compile(r"telegram|discord", re.IGNORECASE)
ADAPTERS = ("telegram", "discord")
# The core: everything but the adapters' own packages.
NEUTRAL = [*sorted((ROOT / "dialogs").rglob("*.py")), *sorted((ROOT / "storage").rglob("*.py")),
           *sorted(p for p in (ROOT / "bot").glob("*.py"))]


def code_words(path: Path) -> list[str]:
    """Names, attributes, imports and string constants of a module, docstrings excepted:
    what the code does, not what its comments say."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef
                                | ast.AsyncFunctionDef)
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    words: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, ast.alias):
            words.append(node.name)
        elif isinstance(node, ast.ImportFrom):
            words.append(node.module or "")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in docstrings:
            words.append(node.value)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words.append(node.name)
    return words


@pytest.mark.parametrize("path", NEUTRAL, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_names_no_platform_outside_comments(path: Path) -> None:
    named = [w for w in code_words(path) if PLATFORM_WORD.search(w)]
    assert named == [], f"{path.relative_to(ROOT)} names a platform in code: {named}"


def test_the_interview_texts_name_no_platform() -> None:
    for path in sorted((ROOT / "dialogs").rglob("*")):
        if path.suffix not in (".yaml", ".j2", ".sql"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.split("#", 1)[0] if path.suffix == ".yaml" else line
            assert not PLATFORM_WORD.search(text), f"{path.relative_to(ROOT)}:{number}: {line}"


@pytest.mark.parametrize("platform", ADAPTERS)
def test_adapters_never_import_storage(platform: str) -> None:
    for path in sorted((ROOT / "bot" / platform).glob("*.py")):
        imports = [w for w in code_words(path) if w.startswith("leavewell.storage")]
        assert imports == [], f"{path.relative_to(ROOT)} imports {imports}"


def test_installed_platforms_come_from_entry_points() -> None:
    plugins = registry.plugins()
    assert {"telegram", "discord"} <= plugins.keys()
    for name in ADAPTERS:
        plugin = plugins[name]
        assert plugin.name == name and plugin.extra == name
        assert issubclass(plugin.settings, EnvSettings)


def test_plugins_load_without_their_sdks() -> None:
    """Settings are read and the console runs where no platform SDK is installed."""
    code = (
        "import sys\n"
        "sys.modules.update(telegram=None, discord=None)\n"  # import telegram -> ImportError
        "from leavewell.bot.settings import load_settings\n"
        "s = load_settings({'telegram_bot_token': '1:x'})\n"
        "assert s.enabled_platforms() == ['telegram'], s.enabled_platforms()\n"
        "assert s.secrets() == ['1:x']\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr


def test_a_configured_platform_without_its_sdk_says_what_to_install(tmp_path: Path) -> None:
    """The real entry point, with discord.py made unimportable."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text("import sys\nsys.modules['discord'] = None\n")
    env = environment(tmp_path, DISCORD_BOT_TOKEN="abc.def.ghi",
                      LEAVEWELL_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
                      PYTHONPATH=str(blocker))
    done = subprocess.run(leavewell(), stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=60, check=False, env=env)
    line = assert_one_line_exit_2(done.stdout, done.stderr, done.returncode, "Discord")
    assert "pip install 'leavewell[discord]'" in line
    assert "abc.def.ghi" not in line


class _Stub:
    idle = True

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class _StubSettings(EnvSettings):
    stub_on: bool = False


def _plugin(build: Any) -> AdapterPlugin:
    return AdapterPlugin(name="stub", title="Stub", settings=_StubSettings,
                         enabled=lambda s: s.stub_on, build=build,
                         capabilities=Capabilities())


async def test_a_registered_plugin_is_built_with_its_own_settings(tmp_path: Path) -> None:
    built: list[tuple[AdapterContext, Any]] = []

    def build(context: AdapterContext, settings: Any) -> _Stub:
        built.append((context, settings))
        return _Stub()

    registry.register(_plugin(build))
    try:
        settings = load_settings({"stub_on": True, "database_url": f"sqlite:///{tmp_path}/s.db",
                                  "voice_transcription": False})
        assert settings.enabled_platforms() == ["stub"]
        stop = asyncio.Event()
        started: list[Any] = []
        task = asyncio.create_task(run_platforms(settings, stop, started))
        for _ in range(200):
            if started or task.done():
                break
            await asyncio.sleep(0.02)
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
        [(context, own)] = built
        assert isinstance(own, _StubSettings) and own.stub_on
        assert context.default_lang == "en" and context.intake.idle
    finally:
        registry.unregister("stub")


async def test_a_plugin_whose_library_is_missing_is_a_startup_error(tmp_path: Path) -> None:
    def build(context: AdapterContext, settings: Any) -> _Stub:
        raise ModuleNotFoundError("No module named 'stubsdk'", name="stubsdk")

    registry.register(_plugin(build))
    try:
        settings = load_settings({"stub_on": True, "database_url": f"sqlite:///{tmp_path}/s.db"})
        with pytest.raises(StartupError, match="Stub is configured, but its library is not "
                                               r"installed \(stubsdk\)"):
            await run_platforms(settings, asyncio.Event())
    finally:
        registry.unregister("stub")
