"""Run jobs of one conversation strictly in submission order; conversations concurrently.

`submit` is synchronous, so an adapter that submits before its first `await` keeps the
platform's order for that conversation (Telegram's update order, Discord's gateway order).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class KeyedQueue:
    def __init__(self) -> None:
        self._queues: dict[str, deque[tuple[Job, asyncio.Future[None]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def submit(self, key: str, job: Job) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(key, deque()).append((job, done))
        if key not in self._workers:
            self._workers[key] = asyncio.create_task(self._work(key))
        return done

    async def _work(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                job, done = queue[0]
                try:
                    await job()
                except Exception as exc:
                    log.exception("a platform event failed (conversation %s)", key)
                    if not done.done():
                        done.set_exception(exc)
                        done.exception()  # retrieved: a caller need not await it
                finally:
                    queue.popleft()
                    if not done.done():
                        done.set_result(None)
        finally:
            del self._queues[key]
            del self._workers[key]

    async def drain(self, timeout: float) -> None:
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=timeout)
