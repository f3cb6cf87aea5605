"""The console adapter: a practice session in a terminal, or driven by piped input.

Buttons degrade to numbered lines; typing the number (or the label) presses it.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import time
from pathlib import Path
from typing import Any, TextIO

from leavewell.bot.attachments import File, files_to_send
from leavewell.bot.core import Core
from leavewell.bot.delivery import OutboxItem
from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.dialogs.events import Command, Event, Resume, Start, TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import PLAIN, Renderer

PLATFORM = "console"
log = logging.getLogger(__name__)


def parse_line(line: str, at: float) -> Event:
    text = line.rstrip("\n")
    stripped = text.strip()
    if stripped.startswith("/") and len(stripped) > 1 and not stripped[1].isspace():
        name, _, args = stripped[1:].partition(" ")
        return Command(at=at, name=name, args=args)
    return TextAnswer(at=at, text=text)


class ConsoleSender:
    def __init__(self, core: Core, renderer: Renderer, out: TextIO, export_dir: Path) -> None:
        self.core = core
        self.renderer = renderer
        self.out = out
        self.export_dir = export_dir

    async def send(self, item: OutboxItem) -> None:
        outgoing = Outgoing.from_dict(item.payload)
        rendered = self.renderer.render(outgoing, PLAIN, numbered_choices=True)
        files = await files_to_send(outgoing, item, self._export)
        self.out.write(rendered.text + "\n")
        for file in files:
            self.out.write(f"{self._write(file)}\n")
        self.out.write("\n")
        self.out.flush()

    async def _export(self, user_key: str) -> dict[str, Any]:
        return await self.core.export_user(user_key)

    def _write(self, file: File) -> Path:
        """Into the export folder, stamped with the time so earlier files stay."""
        self.export_dir.mkdir(parents=True, exist_ok=True)
        name = Path(file.name)
        path = self.export_dir / f"{name.stem}-{int(time.time())}{name.suffix}"
        path.write_bytes(file.data)
        return path


async def run_console(
    core: Core,
    renderer: Renderer,
    *,
    stdin: TextIO,
    stdout: TextIO,
    lang: str | None,
    export_dir: Path,
    user: str | None = None,
) -> None:
    """Play one conversation until end of input. Each line is one event."""
    core.register_sender(PLATFORM, ConsoleSender(core, renderer, stdout, export_dir))
    ref = ConversationRef(PLATFORM, "local", user or _local_user())
    await core.recover()
    await core.sweep()  # replies a crash left unsent
    if not await core.knows_conversation(ref):
        await core.handle(Incoming(ref, Start(at=time.time(), lang_hint=lang)))
    else:
        if lang and lang != await core.user_lang(ref.user_key):
            await core.handle(Incoming(ref, Command(at=time.time(), name="lang", args=lang)))
        await core.handle(Incoming(ref, Resume(at=time.time())))
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        await core.handle(Incoming(ref, parse_line(line, time.time())))


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "local"
