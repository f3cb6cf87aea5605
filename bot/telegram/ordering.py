"""Run updates per conversation in arrival order, conversations concurrently, and know
which update ids are finished (so polling confirms only what is committed)."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

log = logging.getLogger(__name__)


class OrderedDispatcher:
    def __init__(self, process: Callable[[Update], Awaitable[Any]],
                 key: Callable[[Update], str]) -> None:
        self._process = process
        self._key = key
        self._queues: dict[str, deque[tuple[Update, asyncio.Future[None]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._unfinished: dict[int, asyncio.Future[None]] = {}
        self.progress = asyncio.Event()  # set whenever an update finishes

    def submit(self, update: Update) -> asyncio.Future[None]:
        """Queue an update once; submitting an id already in progress returns its future."""
        existing = self._unfinished.get(update.update_id)
        if existing is not None:
            return existing
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unfinished[update.update_id] = done
        key = self._key(update)
        self._queues.setdefault(key, deque()).append((update, done))
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._work(key))
        return done

    def in_progress(self, update_id: int) -> bool:
        return update_id in self._unfinished

    def lowest_unfinished(self) -> int | None:
        return min(self._unfinished) if self._unfinished else None

    async def _work(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                update, done = queue[0]
                try:
                    await self._process(update)
                except Exception:
                    log.exception("update %d failed", update.update_id)
                finally:
                    queue.popleft()
                    del self._unfinished[update.update_id]
                    if not done.done():
                        done.set_result(None)
                    self.progress.set()
        finally:
            del self._queues[key]
            del self._workers[key]

    async def drain(self, timeout: float) -> None:
        pending = list(self._unfinished.values())
        if pending:
            await asyncio.wait(pending, timeout=timeout)
