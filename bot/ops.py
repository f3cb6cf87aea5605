"""Operations endpoints on their own port: /healthz, /readyz and Prometheus /metrics.

- `/healthz`: the process and its event loop answer (for a liveness probe).
- `/readyz`: the database answers within a deadline, its migrations are all applied,
  and the platforms are connected; 503 with the failing check otherwise (for a load
  balancer or a readiness probe).
- `/metrics`: committed steps and turns, commit latency, re-deliveries ignored, errors
  by kind, database retries, and the outbox's depth and oldest unsent age, measured when
  scraped.

`MeasuredStore` wraps the store the core uses, so nothing in the core has to know.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from leavewell.storage.base import HeldCommit, OutboxItem, StepRecord, Store

T = TypeVar("T")

CHECK_SECONDS = 2.0  # a readiness check slower than this counts as failed
OUTBOX_SCAN = 1000  # the depth gauge counts at most this many unsent rows


class Metrics:
    """The bot's Prometheus metrics, in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.steps = Counter("leavewell_steps", "Events committed (one transaction each)",
                             registry=r)
        self.turns = Counter("leavewell_turns", "Turns stored", registry=r)
        self.redeliveries = Counter(
            "leavewell_redeliveries", "Events already processed, changed nothing", registry=r)
        self.errors = Counter("leavewell_errors", "Failed commits by exception type", ["kind"],
                              registry=r)
        self.commit_seconds = Histogram(
            "leavewell_commit_seconds", "Time to commit one step durably", registry=r,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.outbox_depth = Gauge(
            "leavewell_outbox_pending", f"Unsent replies (counted up to {OUTBOX_SCAN})",
            registry=r)
        self.outbox_age = Gauge(
            "leavewell_outbox_oldest_age_seconds", "Age of the oldest unsent reply", registry=r)

    def watch_retries(self, store: Store) -> None:
        """Export the store's database retry count, if it keeps one (PostgreSQL)."""
        if hasattr(store, "stats") and hasattr(store.stats, "retries"):
            self.registry.register(_RetriesCollector(store))

    async def measure_outbox(self, store: Store, now: float | None = None) -> None:
        pending = await store.pending_outbox(OUTBOX_SCAN)
        self.outbox_depth.set(len(pending))
        now = time.time() if now is None else now
        self.outbox_age.set(max(0.0, now - pending[0].created_at) if pending else 0.0)


class _RetriesCollector(Collector):
    def __init__(self, store: Any) -> None:
        self._store = store

    def collect(self) -> Iterator[CounterMetricFamily]:
        yield CounterMetricFamily("leavewell_database_retries",
                                  "Database calls repeated after a lost connection or conflict",
                                  value=self._store.stats.retries)


class MeasuredStore:
    """A store that counts and times its commits; everything else goes straight through."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self.inner = store
        self.metrics = metrics

    async def commit(self, step: StepRecord) -> list[OutboxItem] | None:
        return await self._measured(step, self.inner.commit(step))

    async def commit_held(self, step: StepRecord, lease_seconds: float) -> HeldCommit | None:
        return await self._measured(step, self.inner.commit_held(step, lease_seconds))

    async def _measured(self, step: StepRecord, commit: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            done = await commit
        except Exception as exc:
            self.metrics.errors.labels(kind=type(exc).__name__).inc()
            raise
        self.metrics.commit_seconds.observe(time.perf_counter() - started)
        if done is None:
            self.metrics.redeliveries.inc()
        else:
            self.metrics.steps.inc()
            self.metrics.turns.inc(len(step.turns))
        return done

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class OpsServer:
    """/healthz, /readyz and /metrics over aiohttp, on a port apart from any webhook."""

    def __init__(self, store: Store, metrics: Metrics,
                 platforms_ready: Callable[[], bool] = lambda: True) -> None:
        self.store = store
        self.metrics = metrics
        self.platforms_ready = platforms_ready
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the port (useful with port 0)."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = int(self._runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, _: web.Request) -> web.Response:
        checks = await self.readiness()
        status = 200 if all(ok == "ok" for ok in checks.values()) else 503
        return web.Response(status=status, text=json.dumps(checks) + "\n",
                            content_type="application/json")

    async def readiness(self) -> dict[str, str]:
        """"ok" or what is wrong, per check."""
        checks: dict[str, str] = {}
        try:
            version = await asyncio.wait_for(self.store.schema_version(), CHECK_SECONDS)
        except Exception as exc:  # any failure means "not ready"; the kind says why
            checks["database"] = f"unreachable: {type(exc).__name__}"
            checks["migrations"] = "unknown"
        else:
            checks["database"] = "ok"
            latest = getattr(self.store, "latest_version", version)
            checks["migrations"] = "ok" if version == latest else f"at {version} of {latest}"
        checks["platforms"] = "ok" if self.platforms_ready() else "not connected"
        return checks

    async def _metrics(self, _: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self.metrics.measure_outbox(self.store), CHECK_SECONDS)
        except Exception as exc:  # the other metrics are still worth scraping
            self.metrics.errors.labels(kind=f"outbox_scan_{type(exc).__name__}").inc()
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
