"""An outbox row's attachment names -> the files every sender sends the same way.

The dialog only names what it wants attached ("export", "progress_chart" ...); the
bytes are made here, at send time, from the row's parameters (charts, round reports)
or from the store (the user's export). Senders turn each `File` into a photo or a
document of their platform.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any, Literal

from leavewell.bot.delivery import OutboxItem
from leavewell.dialogs.outgoing import Outgoing

FileKind = Literal["photo", "document"]

EXPORT_NAME = "leavewell-export.json"
PROGRESS_NAME = "leavewell-progress.png"
# Made from the row's own parameters, so the same row always gives the same file.
_MADE_FROM_PARAMS = frozenset({"progress_chart", "round_chart", "round_csv", "round_md"})
_CHARTS = frozenset({"progress_chart", "round_chart"})
_chart_pool: ProcessPoolExecutor | None = None
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class File:
    name: str  # deterministic, ASCII: the same row always gives the same file name
    data: bytes
    kind: FileKind
    # A message key rendered with the row's parameters as the file's caption; None
    # sends the file bare (the row's text message already says what it is).
    caption_key: str | None = None


Export = Callable[[str], Awaitable[dict[str, Any]]]


async def files_to_send(outgoing: Outgoing, item: OutboxItem, export: Export) -> list[File]:
    """Made before any text of the row is sent: a store outage fails the row before
    anything has left (no duplicate text on the retry). A file that cannot be made is
    a bug: it is logged and left out, and the text still goes."""
    try:
        return await build_files(outgoing, item, export)
    except ValueError:
        log.exception("outbox row %d: attachments left out", item.id)
        return []


async def build_files(outgoing: Outgoing, item: OutboxItem, export: Export) -> list[File]:
    """The files for `outgoing.attachments`, in order. An unknown name or unusable
    parameters raise ValueError (a bug: retrying cannot help); the store's errors
    from `export` pass through (an outage: the row is retried)."""
    return [await _build(name, outgoing, item, export) for name in outgoing.attachments]


async def _build(name: str, outgoing: Outgoing, item: OutboxItem, export: Export) -> File:
    if name == "export":
        user_key = f"{item.platform}:{item.address['user_id']}"
        data = await export(user_key)
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
        return File(EXPORT_NAME, payload, "document")
    if name not in _MADE_FROM_PARAMS:
        raise ValueError(f"unknown attachment {name!r} in template {outgoing.template!r}")
    if name in _CHARTS:
        return await _in_chart_process(name, outgoing.params, outgoing.lang)
    return await asyncio.to_thread(_from_params, name, outgoing.params, outgoing.lang)


async def _in_chart_process(name: str, params: dict[str, Any], lang: str) -> File:
    """A chart takes about 100 ms of CPU, mostly holding the GIL: in a thread it still
    stalls the event loop for tens of milliseconds (bench/bench_charts.py), in a
    process of its own not at all. The process starts on first use."""
    global _chart_pool
    if _chart_pool is None:
        # spawn, not fork: this process has threads (SQLite's) that fork would copy mid-work
        _chart_pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
    pool = _chart_pool
    try:
        return await asyncio.get_running_loop().run_in_executor(
            pool, _from_params, name, params, lang)
    except BrokenProcessPool:
        if _chart_pool is pool:  # the next try starts a fresh one; this row is retried
            _chart_pool = None
        raise


def _from_params(name: str, params: dict[str, Any], lang: str) -> File:
    """A pure function of the row: whatever fails here fails on every retry, so any
    error is reported as ValueError (the sender then sends the text without it)."""
    try:
        match name:
            case "progress_chart":
                from leavewell.bot.charts import progress_chart

                return File(PROGRESS_NAME, progress_chart(_chart(params, name)), "photo")
            case "round_chart":
                from leavewell.bot.charts import round_chart

                png = round_chart(_chart(params, name))
                return File(f"{_round_stem(params)}.png", png, "photo")
            case "round_csv":
                from leavewell.dialogs.rounds import report

                text = report.export_csv(params)
                return File(f"{_round_stem(params)}.csv", _encoded(text), "document")
            case "round_md":
                from leavewell.dialogs.rounds import report

                text = report.export_markdown(params, lang)
                return File(f"{_round_stem(params)}.md", _encoded(text), "document")
    except ValueError:
        raise
    except Exception as exc:  # classified, not swallowed: the cause stays chained
        raise ValueError(f"attachment {name!r} could not be made: {exc!r}") from exc
    raise AssertionError(name)


def _chart(params: dict[str, Any], name: str) -> dict[str, Any]:
    chart = params.get("chart")
    if not isinstance(chart, dict):
        raise ValueError(f"attachment {name!r} needs a 'chart' mapping in the parameters")
    return chart


def _round_stem(params: dict[str, Any]) -> str:
    round_id = _UNSAFE.sub("-", str(params.get("round_id") or "")).strip("-")[:40]
    return f"round-{round_id}" if round_id else "round"


def _encoded(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")
