"""Wire settings, storage, the interview and the adapters together, on one event loop."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TextIO

from platformdirs import user_data_dir

from bot.console import run_console
from bot.core import Core
from bot.settings import APP_NAME, Settings
from dialogs.engine import DialogSettings, Interviewer
from dialogs.render import Renderer
from storage import open_store

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
    store = await open_store(settings.database_url)
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


async def run_platforms(settings: Settings) -> int:
    platforms = [name for name, token in (("Telegram", settings.telegram_bot_token),
                                          ("Discord", settings.discord_bot_token)) if token]
    log.error("%s support is not part of this build yet", " and ".join(platforms))
    print(
        f"leavewell: {' and '.join(platforms)} support is not part of this build yet. "
        "Unset the token(s) to practise in the console.",
        file=sys.stderr,
    )
    return 2
