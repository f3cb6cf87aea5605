"""What deploy/ promises, checked without Docker: the compose files parse, the replicas
start only after the migration and a healthy database, the proxy and the bots agree on
ports and paths, no secret is written in a file, and every variable the files read is
documented in leavewell.env.example."""

from __future__ import annotations

import re
import subprocess
import sys
from configparser import ConfigParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
COMPOSE_FILES = ("compose.yaml", "compose.replicas.yaml")
INTERPOLATED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?\-+][^}]*)?\}")
CADDY_ENV = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD", re.IGNORECASE)
TELEGRAM_TOKEN = re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{30,}\b")


def compose(name: str) -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))


def env_example() -> str:
    return (DEPLOY / "leavewell.env.example").read_text(encoding="utf-8")


def documented(name: str) -> bool:
    return re.search(rf"^#?\s*{re.escape(name)}=", env_example(), re.MULTILINE) is not None


def caddyfile() -> str:
    return (DEPLOY / "Caddyfile").read_text(encoding="utf-8")


def bots(services: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if name.startswith("bot-")}


def condition(service: dict[str, Any], dependency: str) -> str | None:
    depends = service.get("depends_on") or {}
    if isinstance(depends, list):
        return "service_started" if dependency in depends else None
    return (depends.get(dependency) or {}).get("condition")


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def healthcheck_code(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    return test[3]


# -- the replicas ------------------------------------------------------------------------


def test_replicas_file_has_the_database_proxy_migration_and_two_identical_replicas() -> None:
    services = compose("compose.replicas.yaml")["services"]
    assert {"db", "proxy", "migrate", "bot-1", "bot-2"} <= services.keys()
    replicas = list(bots(services).values())
    assert len(replicas) >= 2

    def but_shards(service: dict[str, Any]) -> dict[str, Any]:
        env = {k: v for k, v in service["environment"].items() if k != "DISCORD_SHARD_IDS"}
        return {**service, "environment": env}

    assert all(but_shards(r) == but_shards(replicas[0]) for r in replicas), \
        "replicas must be configured alike (but for their Discord shards)"


def test_every_discord_shard_is_run_by_exactly_one_replica() -> None:
    """Discord sends a server's events to one shard only: a shard no replica runs would
    leave its servers unanswered, one run twice would answer them twice."""
    services = compose("compose.replicas.yaml")["services"]
    envs = [bot["environment"] for bot in bots(services).values()]
    assert all("DISCORD_BOT_TOKEN" not in env for env in envs)  # leavewell.env's, if any
    counts = {env["DISCORD_SHARD_COUNT"] for env in envs}
    assert counts == {str(len(envs))}, "one shard per replica, the same count everywhere"
    shards = sorted(int(s) for env in envs for s in env["DISCORD_SHARD_IDS"].split(","))
    assert shards == list(range(len(envs)))
    assert documented("DISCORD_SHARD_COUNT") and documented("DISCORD_SHARD_IDS")


def test_the_database_has_a_healthcheck_and_a_named_volume() -> None:
    spec = compose("compose.replicas.yaml")
    db = spec["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")[0]
    assert volume in spec["volumes"], "the data must live in a named volume"


def test_migrate_runs_once_after_a_healthy_database_and_the_replicas_wait_for_it() -> None:
    services = compose("compose.replicas.yaml")["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["migrate"]
    assert migrate.get("restart") == "no"
    assert condition(migrate, "db") == "service_healthy"
    for name, bot in bots(services).items():
        assert condition(bot, "migrate") == "service_completed_successfully", name
        assert condition(bot, "db") == "service_healthy", name
        assert bot["restart"] in ("unless-stopped", "always", "on-failure"), name
    # the migration and the replicas open the same database
    assert migrate["environment"]["LEAVEWELL_DATABASE_URL"] == \
        services["bot-1"]["environment"]["LEAVEWELL_DATABASE_URL"]


def test_replicas_serve_the_telegram_webhook_and_are_probed_on_healthz() -> None:
    bot = compose("compose.replicas.yaml")["services"]["bot-1"]
    env = bot["environment"]
    assert urlsplit(env["TELEGRAM_WEBHOOK_URL"]).scheme == "https"
    assert env["TELEGRAM_WEBHOOK_LISTEN"].startswith("0.0.0.0:")
    assert env["LEAVEWELL_OPS_LISTEN"].startswith("0.0.0.0:")
    assert env["LEAVEWELL_DATABASE_URL"].startswith("postgresql://")
    assert env["LEAVEWELL_CACHE_SIZE"] == "0"  # a replica never steps from a stale copy
    # the example leaves the format to the compose file (json), which leavewell.env may set
    assert env["LEAVEWELL_LOG_FORMAT"] == "${LEAVEWELL_LOG_FORMAT:-json}"
    assert not re.search(r"^LEAVEWELL_LOG_FORMAT=", env_example(), re.MULTILINE)
    code = healthcheck_code(bot)
    assert f":{port_of(env['LEAVEWELL_OPS_LISTEN'])}/healthz" in code


def test_the_proxy_sends_the_webhook_path_to_every_replica_and_checks_readyz() -> None:
    services = compose("compose.replicas.yaml")["services"]
    proxy, env = services["proxy"], services["bot-1"]["environment"]
    assert proxy["image"].startswith("caddy:")
    assert any(str(p).split(":")[-1] == "443" for p in proxy["ports"])
    assert any(v.endswith(":/etc/caddy/Caddyfile:ro") for v in proxy["volumes"])
    assert set(bots(services)) <= set(proxy["depends_on"])
    text = caddyfile()
    path = urlsplit(INTERPOLATED.sub("host", env["TELEGRAM_WEBHOOK_URL"])).path
    assert re.search(rf"^\s*handle {re.escape(path)} {{", text, re.MULTILINE), path
    upstreams = re.search(r"^\s*reverse_proxy (.+) \{", text, re.MULTILINE)
    assert upstreams is not None
    webhook_port = port_of(env["TELEGRAM_WEBHOOK_LISTEN"])
    assert sorted(upstreams.group(1).split()) == sorted(
        f"{name}:{webhook_port}" for name in bots(services))
    assert re.search(r"^\s*health_uri /readyz$", text, re.MULTILINE)
    health_port = re.search(r"^\s*health_port (\d+)$", text, re.MULTILINE)
    assert health_port and int(health_port.group(1)) == port_of(env["LEAVEWELL_OPS_LISTEN"])


# -- the single machine ------------------------------------------------------------------


def test_the_single_machine_file_still_runs_one_bot_on_sqlite() -> None:
    spec = compose("compose.yaml")
    assert set(spec["services"]) == {"bot"}
    bot = spec["services"]["bot"]
    assert bot["environment"]["LEAVEWELL_DATABASE_URL"].startswith("sqlite:////data/")
    assert bot["volumes"][0].split(":")[0] in spec["volumes"]
    assert "/healthz" in healthcheck_code(bot)


# -- secrets and documentation -----------------------------------------------------------


def environment_values() -> list[tuple[str, str, str, str]]:
    rows = []
    for name in COMPOSE_FILES:
        for service_name, service in compose(name)["services"].items():
            for key, value in (service.get("environment") or {}).items():
                rows.append((name, service_name, key, str(value)))
    return rows


@pytest.mark.parametrize("name", [*COMPOSE_FILES, "Caddyfile", "leavewell.service",
                                  "leavewell.env.example"])
def test_no_secret_is_written_in_a_deploy_file(name: str) -> None:
    text = (DEPLOY / name).read_text(encoding="utf-8")
    assert not TELEGRAM_TOKEN.search(text)
    if name == "leavewell.env.example":  # secrets are blank there, to be filled in a copy
        for key, value in re.findall(r"^([A-Z_]*(?:TOKEN|SECRET|PASSWORD)[A-Z_]*)=(.*)$",
                                     text, re.MULTILINE):
            assert value == "", key


def test_secrets_in_compose_files_come_only_from_the_environment() -> None:
    for name, service, key, value in environment_values():
        if SECRET_NAME.search(key):
            assert value == "" or INTERPOLATED.fullmatch(value), (name, service, key)
        url = urlsplit(value) if "://" in value else None
        if url is not None and url.password is not None:
            assert INTERPOLATED.fullmatch(url.password), (name, service, key)
    for name in COMPOSE_FILES:
        for service, spec in compose(name)["services"].items():
            if service in ("db", "proxy"):
                continue
            assert spec["env_file"] == "leavewell.env", (name, service)


def test_every_variable_the_deploy_files_use_is_documented() -> None:
    used: set[str] = set()
    for name in COMPOSE_FILES:
        used |= set(INTERPOLATED.findall((DEPLOY / name).read_text(encoding="utf-8")))
    used |= set(CADDY_ENV.findall(caddyfile()))
    for _file, service, key, _ in environment_values():
        if service not in ("db", "proxy"):  # those are the images' own variables
            used.add(key)
    assert used, "nothing found: the patterns are wrong"
    assert sorted(n for n in used if not documented(n)) == []


def test_env_files_with_tokens_are_never_committed() -> None:
    inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=DEPLOY,
                            capture_output=True, check=False)
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(DEPLOY / "leavewell.env")],
                             cwd=DEPLOY, check=False)
    assert ignored.returncode == 0, "deploy/leavewell.env must be in .gitignore"


# -- image and unit ----------------------------------------------------------------------


def test_the_image_can_reach_postgresql_and_both_platforms() -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    extras = re.search(r"pip install [^\n]*\.\[([a-z,]+)\]", text)
    assert extras is not None
    assert {"postgres", "telegram", "discord"} <= set(extras.group(1).split(","))


def test_the_systemd_unit_migrates_before_start_and_restarts() -> None:
    unit = ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((DEPLOY / "leavewell.service").read_text(encoding="utf-8"))
    service = unit["Service"]
    assert service["ExecStartPre"].split()[-1] == "migrate" or \
        service["ExecStartPre"].split()[-2:] == ["migrate", "--check"]
    assert service["ExecStart"].endswith("/leavewell")
    assert service["Restart"] in ("on-failure", "always")


async def test_the_healthcheck_command_passes_on_a_live_bot_and_fails_on_a_dead_one() -> None:
    """Run the compose healthcheck's own Python against a real /healthz."""
    import asyncio

    from leavewell.bot.ops import Metrics, OpsServer
    from leavewell.storage.memory import MemoryStore

    code = healthcheck_code(compose("compose.replicas.yaml")["services"]["bot-1"])
    assert code == healthcheck_code(compose("compose.yaml")["services"]["bot"])
    server = OpsServer(MemoryStore(), Metrics())
    port = await server.start("127.0.0.1", 0)

    async def run(probe_port: int) -> int:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code.replace(":9464/", f":{probe_port}/"))
        return await asyncio.wait_for(process.wait(), 20)

    try:
        assert await run(port) == 0
    finally:
        await server.stop()
    assert await run(port) != 0
