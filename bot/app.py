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

from bot.console import run_console
from bot.core import Core
from bot.settings import APP_NAME, Settings
from bot.startup import StartupError, store_error
from bot.voice import Listener, Transcriber, load_transcriber
from dialogs.engine import DialogSettings, Interviewer
from dialogs.render import Renderer
from storage import Store, open_store

log = logging.getLogger(__name__)


def make_interviewer(settings: Settings) -> Interviewer:
    return Interviewer(
        settings=DialogSettings(
            idle_timeout=settings.idle_timeout_seconds,
            max_followups=settings.max_followups,
        )
    )


async def run_practice(
    settings: Settings,
    *,
    lang: str | None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    store = await _open_store(settings.database_url)
    core = Core(store, make_interviewer(settings), cache_size=settings.cache_size)
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
    """Serve every platform whose token is set, on this one event loop, until SIGTERM.
    `started` (for test harnesses) receives the adapters once they run; `transcriber`
    replaces the one the settings name (bot.voice)."""
    stop = stop or _stop_on_signals()
    store = await _open_store(settings.database_url)
    core = Core(store, make_interviewer(settings), cache_size=settings.cache_size)
    renderer = Renderer()
    transcriber = transcriber or load_transcriber(settings)
    listener = Listener(transcriber) if transcriber is not None else None
    adapters: list[Any] = []
    timers: asyncio.Task[None] | None = None
    try:
        if settings.telegram_bot_token:
            from bot.telegram.adapter import TelegramAdapter

            adapters.append(TelegramAdapter(core, renderer, settings, listener=listener))
        if settings.discord_bot_token:
            from bot.discord.adapter import DiscordAdapter

            adapters.append(DiscordAdapter(core, renderer, settings, listener=listener))
        await core.recover()  # before any event: unsent replies go first
        for adapter in adapters:
            await _start(adapter)
        await core.sweep()  # replies a crash left unsent
        if started is not None:
            started.extend(adapters)
        timers = asyncio.create_task(core.run_timers(stop))
        await stop.wait()
    finally:
        stop.set()
        if timers is not None:
            await timers
        for adapter in reversed(adapters):
            await adapter.stop()
        await store.close()
    return 0


async def _open_store(url: str) -> Store:
    try:
        return await open_store(url)
    except Exception as exc:
        raise store_error(url, exc) from exc


async def _start(adapter: Any) -> None:
    """Start an adapter; any failure here is a start-up error (the adapters turn the ones
    they know, such as a rejected token, into clear words themselves)."""
    try:
        await adapter.start()
    except StartupError:
        raise
    except Exception as exc:
        name = type(adapter).__name__.removesuffix("Adapter")
        raise StartupError(f"{name} did not start: {exc}") from exc


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop
