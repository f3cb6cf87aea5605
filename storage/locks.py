"""Per-key locks inside one process that exist only while someone holds or waits for them.

MemoryStore and SqliteStore serve `Store.lock(key)` with these (one process owns their
data); PostgresStore takes them first too, so within a process only one task per key
waits on the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: str, *more: str) -> AsyncIterator[None]:
        """Hold `key`, and `more` with it: several are taken in sorted order, so two tasks
        taking several never wait on each other."""
        keys = sorted({key, *more}) if more else (key,)
        locks = [self._enter(k) for k in keys]
        taken = 0
        try:
            for lock in locks:
                await lock.acquire()
                taken += 1
            yield
        finally:
            for lock in reversed(locks[:taken]):
                lock.release()
            for k in keys:
                self._leave(k)

    def _enter(self, key: str) -> asyncio.Lock:
        lock, users = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        return lock

    def _leave(self, key: str) -> None:
        lock, users = self._locks[key]
        if users <= 1:
            del self._locks[key]
        else:
            self._locks[key] = (lock, users - 1)
