"""/healthz, /readyz and /metrics (bot/ops.py) against real stores, over real HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from leavewell.bot.app import run_platforms
from leavewell.bot.ops import MeasuredStore, Metrics, OpsServer
from leavewell.bot.settings import load_settings
from leavewell.storage import open_store
from leavewell.storage.base import Store
from tests.storage.test_contract import T0, make_step
from tests.support.postgres import fresh_database


async def get(server: OpsServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
            f"http://127.0.0.1:{server.port}{path}") as response:
        return response.status, await response.text()


def sample(text: str, name: str) -> float:
    """The value of an unlabelled sample in Prometheus text format."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the metrics:\n{text}")


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(f"sqlite:///{tmp_path / 'ops.db'}")
    yield store
    await store.close()


async def serve(store: Store, ready: list[bool]) -> tuple[OpsServer, MeasuredStore, Metrics]:
    metrics = Metrics()
    metrics.watch_retries(store)
    measured = MeasuredStore(store, metrics)
    server = OpsServer(measured, metrics, platforms_ready=lambda: ready[0])
    await server.start("127.0.0.1", 0)
    return server, measured, metrics


async def test_health_and_readiness_follow_the_database_and_platforms(
        sqlite_store: Store) -> None:
    ready = [False]
    server, _, _ = await serve(sqlite_store, ready)
    try:
        assert await get(server, "/healthz") == (200, "ok\n")
        status, body = await get(server, "/readyz")
        assert status == 503 and '"platforms": "not connected"' in body
        assert '"database": "ok"' in body and '"migrations": "ok"' in body
        ready[0] = True
        assert (await get(server, "/readyz"))[0] == 200
        await sqlite_store.close()  # the database goes away
        status, body = await get(server, "/readyz")
        assert status == 503 and '"database": "unreachable: StoreClosedError"' in body
        assert (await get(server, "/healthz"))[0] == 200  # alive all the same
    finally:
        await server.stop()


async def test_metrics_count_steps_and_measure_the_outbox(sqlite_store: Store) -> None:
    server, measured, _ = await serve(sqlite_store, [True])
    try:
        first = await measured.commit(make_step("e1", at=T0, texts=("a", "b"),
                                                payloads=({"n": 1}, {"n": 2})))
        assert first is not None
        assert await measured.commit(make_step("e1", at=T0)) is None  # a re-delivery
        await measured.commit(make_step("e2", at=T0 + 5, texts=("c",), payloads=({"n": 3},)))
        await measured.mark_sent([first[0].id])  # goes straight through to the store
        with pytest.raises(ValueError):
            await measured.commit(make_step("e3", state={"x": float("nan")}))

        status, text = await get(server, "/metrics")
        assert status == 200
        assert sample(text, "leavewell_steps_total") == 2
        assert sample(text, "leavewell_turns_total") == 3
        assert sample(text, "leavewell_redeliveries_total") == 1
        assert 'leavewell_errors_total{kind="ValueError"} 1.0' in text
        assert sample(text, "leavewell_commit_seconds_count") == 3
        assert sample(text, "leavewell_outbox_pending") == 2
        assert sample(text, "leavewell_outbox_oldest_age_seconds") > 0  # T0 is long past
        assert "leavewell_database_retries" not in text  # SQLite keeps no such count
    finally:
        await server.stop()


async def test_postgres_readiness_and_retry_count() -> None:
    asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed")
    async with fresh_database() as url:
        store = await open_store(url)
        server, measured, _ = await serve(store, [True])
        try:
            status, body = await get(server, "/readyz")
            assert status == 200 and '"migrations": "ok"' in body
            await measured.commit(make_step("e1"))
            text = (await get(server, "/metrics"))[1]
            assert sample(text, "leavewell_database_retries_total") == 0
            assert sample(text, "leavewell_outbox_pending") == 1
            conn = await asyncpg.connect(url)  # as if a newer migration were still to come
            latest = store.latest_version  # type: ignore[attr-defined]
            await conn.execute("DELETE FROM schema_version WHERE version = $1", latest)
            await conn.close()
            status, body = await get(server, "/readyz")
            assert status == 503 and f'"migrations": "at {latest - 1} of {latest}"' in body
        finally:
            await server.stop()
            await store.close()


async def test_the_bot_serves_them_when_ops_listen_is_set(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = load_settings({"database_url": f"sqlite:///{tmp_path / 'bot.db'}",
                              "ops_listen": f"127.0.0.1:{port}"})
    stop = asyncio.Event()
    bot = asyncio.create_task(run_platforms(settings, stop))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("/readyz never said ready")
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert "leavewell_steps_total 0.0" in await response.text()
    finally:
        stop.set()
        assert await bot == 0
