"""Wire settings, storage, the interview and the adapters together, on one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from platformdirs import user_data_dir

from leavewell.bot import registry
from leavewell.bot.console import run_console
from leavewell.bot.core import Core
from leavewell.bot.intake import Intake
from leavewell.bot.ops import MeasuredStore, Metrics, OpsServer
from leavewell.bot.plugin import Adapter, AdapterContext, AdapterPlugin
from leavewell.bot.settings import APP_NAME, Settings
from leavewell.bot.startup import StartupError, store_error
from leavewell.bot.voice import Listener, Transcriber, load_transcriber
from leavewell.dialogs.engine import DialogSettings, Interviewer
from leavewell.dialogs.render import Renderer
from leavewell.storage import Store, open_store

log = logging.getLogger(__name__)


def make_interviewer(settings: Settings) -> Interviewer:
    return Interviewer(
        settings=DialogSettings(
            idle_timeout=settings.idle_timeout_seconds,
            max_followups=settings.max_followups,
        )
    )


async def open_settings_store(settings: Settings) -> Store:
    """The store the settings name; a failure to open it is a start-up error in words."""
    try:
        return await open_store(settings.database_url, pool_min=settings.database_pool_min,
                                pool_max=settings.database_pool_max,
                                lock_pool_max=settings.database_lock_pool_max)
    except Exception as exc:
        raise store_error(settings.database_url, exc) from exc


async def run_practice(
    settings: Settings,
    *,
    lang: str | None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    store = await open_settings_store(settings)
    core = Core(store, make_interviewer(settings), cache_size=settings.cache_size,
                claim_lease=settings.claim_lease_seconds)
    stop = asyncio.Event()
    timers = asyncio.create_task(core.run_timers(stop))
    try:
        await run_console(
            core,
            Renderer(),
            stdin=stdin,
            stdout=stdout,
            lang=lang,
            export_dir=Path(user_data_dir(APP_NAME)) / "exports",
        )
    finally:
        stop.set()
        await timers
        await store.close()


async def run_platforms(
    settings: Settings,
    stop: asyncio.Event | None = None,
    started: list[Any] | None = None,
    transcriber: Transcriber | None = None,
) -> int:
    """Serve every platform whose settings ask for it, on one event loop, until SIGTERM.
    `started` (for test harnesses) receives the adapters once they run; `transcriber`
    replaces the one the settings name (bot.voice)."""
    stop = stop or _stop_on_signals()
    store = await open_settings_store(settings)
    ops: OpsServer | None = None
    platforms_up = False
    if settings.ops_listen:
        metrics = Metrics()
        metrics.watch_retries(store)
        store = MeasuredStore(store, metrics)  # type: ignore[assignment]
        ops = OpsServer(store, metrics, platforms_ready=lambda: platforms_up)
    core = Core(store, make_interviewer(settings), cache_size=settings.cache_size,
                claim_lease=settings.claim_lease_seconds)
    renderer = Renderer()
    transcriber = transcriber or load_transcriber(settings)
    listener = Listener(transcriber) if transcriber is not None else None
    context = AdapterContext(core=core, intake=Intake(core), renderer=renderer,
                             default_lang=settings.default_lang, listener=listener)
    adapters: list[Adapter] = []
    timers: asyncio.Task[None] | None = None
    try:
        if ops is not None and settings.ops_listen:
            host, _, port = settings.ops_listen.rpartition(":")
            await ops.start(host, int(port))
        plugins = registry.plugins()
        for name in settings.enabled_platforms():
            adapters.append(_build(plugins[name], context, settings.platform(name)))
        await core.recover()  # before any event: unsent replies go first
        for name, adapter in zip(settings.enabled_platforms(), adapters, strict=True):
            await _start(plugins[name], adapter)
        await core.sweep()  # replies a crash left unsent
        platforms_up = True
        if started is not None:
            started.extend(adapters)
        timers = asyncio.create_task(core.run_timers(stop))
        await stop.wait()
    finally:
        platforms_up = False
        stop.set()
        if timers is not None:
            await timers
        for adapter in reversed(adapters):
            await adapter.stop()
        if ops is not None:
            await ops.stop()
        await store.close()
    return 0


def _build(plugin: AdapterPlugin, context: AdapterContext, settings: Any) -> Adapter:
    """An adapter whose SDK is an extra that is not installed is a start-up error that
    says what to install."""
    try:
        return plugin.build(context, settings)
    except ImportError as exc:
        extra = f"pip install 'leavewell[{plugin.extra}]'" if plugin.extra else "install it"
        raise StartupError(f"{plugin.title} is configured, but its library is not installed "
                           f"({exc.name or exc}): {extra}") from exc


async def _start(plugin: AdapterPlugin, adapter: Adapter) -> None:
    """Start an adapter; any failure here is a start-up error (the adapters turn the ones
    they know, such as a rejected token, into clear words themselves)."""
    try:
        await adapter.start()
    except StartupError:
        raise
    except Exception as exc:
        raise StartupError(f"{plugin.title} did not start: {exc}") from exc


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop
