"""Sending committed outbox rows through the adapters, in order, at least once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable
from itertools import takewhile
from typing import Protocol

from leavewell.storage.base import OutboxItem, Store

__all__ = ["Delivery", "OutboxItem", "PermanentDeliveryError", "Sender"]  # a sender's contract

log = logging.getLogger(__name__)


class PermanentDeliveryError(Exception):
    """The platform will never accept this message (e.g. the user blocked the bot)."""


class Sender(Protocol):
    async def send(self, item: OutboxItem) -> None:
        """Render and send one outbox row; raise to leave it pending for a retry.

        A sender may also offer `send_joined(items) -> int`: send the first rows, as
        one message where the platform allows, and return how many it sent."""
        ...


class Delivery:
    """Sends rows; the caller holds the conversation's lock, which is what keeps a
    conversation's replies in order and stops two senders from sending one row."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.senders: dict[str, Sender] = {}

    def register(self, platform: str, sender: Sender) -> None:
        self.senders[platform] = sender

    async def deliver(self, items: Iterable[OutboxItem]) -> bool:
        """Send rows of one conversation in order; stop at the first failure so a
        later reply never overtakes an earlier one. Returns True if all were sent.

        Each row is marked sent the moment the platform confirms it, without waiting for
        that mark before the next row: the store's writer commits the marks in its next
        group transaction, so a crash re-sends only what was truly in flight (a few
        milliseconds' worth). The marks are committed before this returns, while the
        caller still holds the conversation's lock."""
        marks: list[Awaitable[None]] = []
        pending = list(items)
        try:
            while pending:
                sent = await self._send(pending)
                if not sent:
                    return False
                marks.extend(self.store.mark_sent([i.id]) for i in pending[:sent])
                del pending[:sent]
            return True
        finally:
            if marks:
                await asyncio.gather(*marks)

    async def _send(self, items: list[OutboxItem]) -> int:
        """Send the first row (or the first few, as one message, when the sender can);
        returns how many were sent or dropped, 0 when they are to be retried."""
        item = items[0]
        sender = self.senders.get(item.platform)
        if sender is None:
            log.warning("no sender for platform %s; outbox row %d kept", item.platform, item.id)
            return 0
        join = getattr(sender, "send_joined", None)
        try:
            if join is not None:
                return int(await join(list(takewhile(
                    lambda i: i.platform == item.platform, items))))
            await sender.send(item)
        except PermanentDeliveryError as exc:
            log.warning("outbox row %d dropped: %s", item.id, exc)
        except Exception:
            log.exception("outbox row %d not delivered; will retry", item.id)
            return 0
        return 1
