"""Sending committed outbox rows through the adapters, in order, at least once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from storage.base import OutboxItem, Store

log = logging.getLogger(__name__)


class PermanentDeliveryError(Exception):
    """The platform will never accept this message (e.g. the user blocked the bot)."""


class Sender(Protocol):
    async def send(self, item: OutboxItem) -> None:
        """Render and send one outbox row; raise to leave it pending for a retry."""
        ...


class Delivery:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.senders: dict[str, Sender] = {}
        # Rows this process is sending right now, so the retry sweep never doubles them.
        self._in_flight: set[int] = set()

    def register(self, platform: str, sender: Sender) -> None:
        self.senders[platform] = sender

    async def deliver(self, items: Iterable[OutboxItem]) -> bool:
        """Send rows of one conversation in order; stop at the first failure so a
        later reply never overtakes an earlier one. Returns True if all were sent."""
        for item in items:
            if item.id in self._in_flight:
                return False
            sender = self.senders.get(item.platform)
            if sender is None:
                log.warning("no sender for platform %s; outbox row %d kept", item.platform,
                            item.id)
                return False
            self._in_flight.add(item.id)
            try:
                await sender.send(item)
            except PermanentDeliveryError as exc:
                log.warning("outbox row %d dropped: %s", item.id, exc)
            except Exception:
                log.exception("outbox row %d not delivered; will retry", item.id)
                return False
            finally:
                self._in_flight.discard(item.id)
            await self.store.mark_sent([item.id])
        return True

    async def sweep(self, older_than: float, limit: int = 200) -> int:
        """Retry rows left pending (failed sends, or a crash between commit and send)."""
        pending = [
            i for i in await self.store.pending_outbox(limit)
            if i.created_at <= older_than and i.id not in self._in_flight
        ]
        by_conversation: dict[str, list[OutboxItem]] = {}
        for item in pending:
            by_conversation.setdefault(item.conversation_key, []).append(item)
        sent = 0
        for items in by_conversation.values():
            if await self.deliver(items):
                sent += len(items)
        return sent
