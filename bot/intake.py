"""The core's one intake: every platform's updates come in here.

An adapter hands over what the platform sent (`Received`: its event id, the conversation
it belongs to, and a JSON payload), and the intake does the rest the same way for every
platform:

- order: the updates of one conversation are handled one at a time, in the order the
  adapter handed them over; different conversations run concurrently;
- durability: `receive` returns once every update is durable, its step committed or the
  payload kept in the inbox, so the adapter may then confirm it to the platform;
- replay: at start-up, updates kept in the inbox but never processed are handled first;
- retry and drop: a failing update is retried; one that keeps failing for a reason other
  than storage is dropped as final (a bug would otherwise replay at every start), while a
  storage outage keeps it for later;
- dedupe: the event id makes a second delivery of an update a no-op (the core's commit).

The adapter's part is the `Interpreter`: turn a payload into an `Incoming` (or nothing an
interview reacts to), and do what the platform demands once the update is settled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from leavewell.bot.core import Core
from leavewell.bot.incoming import Incoming
from leavewell.bot.ordering import KeyedQueue
from leavewell.storage.base import OutboxItem
from leavewell.storage.errors import is_transient

log = logging.getLogger(__name__)

ATTEMPTS = 3  # the commit is idempotent, so a retry is safe
GRACE = 0.05  # seconds an update may take before its payload is kept in the inbox
BACKLOG = 8  # updates waiting: beyond this, keep a batch in the inbox at once
RECENT_IDS = 10_000


@dataclass(frozen=True, slots=True)
class Received:
    """One platform update as handed over by an adapter."""

    event_id: str  # "<platform>:<platform's id>": what makes a re-delivery a no-op
    order_key: str  # the conversation's key: updates with one key are handled in order
    payload: dict[str, Any]  # JSON-able: kept in the inbox and replayed after a crash
    # The platform's own object for this update (not stored): spares re-parsing the
    # payload, and carries what only a live update has (a callback to answer).
    live: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one update."""

    incoming: Incoming | None  # None: nothing an interview reacts to
    replies: list[OutboxItem] | None = None  # None: already processed, or not handled
    error: BaseException | None = None

    @property
    def replied(self) -> bool:
        return self.replies is not None


class Interpreter(Protocol):
    """An adapter's side of the intake."""

    platform: str

    def order_key(self, payload: dict[str, Any]) -> str | None:
        """The conversation a stored payload belongs to (for replaying it in order)."""
        ...

    async def interpret(self, received: Received) -> Incoming | None:
        """The update as an event for the core; None when no interview reacts to it
        (the adapter may answer it itself first, e.g. a hint to talk in private)."""
        ...

    async def settled(self, received: Received, outcome: Outcome) -> None:
        """The platform's duties once the update is handled (answer a button press,
        remove a placeholder). Called for every update, also a failed one."""
        ...


class Intake:
    def __init__(self, core: Core) -> None:
        self.core = core
        self.queue = KeyedQueue()
        # Updates of batches being received -> whether their effects are durable yet.
        self._settled: dict[str, bool] = {}
        # Event ids taken in lately: a platform that sends an update twice (an overlap of
        # two polls, a webhook retried) has it handled once, even while it is in hand.
        self._recent: dict[str, asyncio.Future[Outcome]] = {}

    @property
    def idle(self) -> bool:
        """Nothing handed over is still being handled."""
        return len(self.queue) == 0

    def __len__(self) -> int:
        return len(self.queue)

    def accept(self, interpreter: Interpreter, received: Received) -> asyncio.Future[Outcome]:
        """Queue one update behind its conversation's earlier ones. Synchronous, so an
        adapter calling it before its first await keeps the platform's order. The update
        is not durable by this alone: use `receive`, or keep it some other way."""
        seen = self._recent.get(received.event_id)
        if seen is not None:
            return seen
        outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._recent[received.event_id] = outcome
        if len(self._recent) > RECENT_IDS:
            del self._recent[next(iter(self._recent))]

        async def job() -> None:
            result = await self._handle(interpreter, received)
            if not outcome.done():
                outcome.set_result(result)

        done = self.queue.submit(received.order_key, job)
        done.add_done_callback(lambda f: outcome.done() or outcome.set_result(
            Outcome(None, error=f.exception() or RuntimeError("update not handled"))))
        return outcome

    async def receive(self, interpreter: Interpreter,
                      batch: Sequence[Received]) -> list[asyncio.Future[Outcome]]:
        """Queue the updates (in order) and return once each one is durable: handled, or
        its payload kept in the inbox. Most are handled within milliseconds, so only the
        ones still in progress after GRACE are written to the inbox (all at once when a
        backlog waits): an update's own commit is the only write on its way to a reply.
        Raises when the inbox cannot be written: the updates are not durable, so the
        adapter must not confirm them (the platform sends them again)."""
        backlog = len(self.queue) > BACKLOG
        for item in batch:
            self._settled[item.event_id] = False
        outcomes = [self.accept(interpreter, item) for item in batch]
        for item, outcome in zip(batch, outcomes, strict=True):
            if outcome.done():  # a re-delivery of one already handled (or dropped)
                self._settled[item.event_id] = True
        try:
            if outcomes and not backlog:
                await asyncio.wait(outcomes, timeout=GRACE)
            unsettled = [i for i in batch if not self._settled.get(i.event_id)]
            if unsettled:
                try:
                    await self.core.store.inbox_put([(i.event_id, i.payload)
                                                     for i in unsettled])
                except BaseException:
                    # Not confirmed, so the platform sends them again: let them in then
                    # (the core knows which of them were processed meanwhile).
                    for item in unsettled:
                        self._recent.pop(item.event_id, None)
                    raise
        finally:
            for item in batch:
                self._settled.pop(item.event_id, None)
        return outcomes

    async def replay(self, interpreter: Interpreter) -> int:
        """Updates of this platform received before a restart but never processed: queue
        them before anything new, each behind its conversation's earlier ones."""
        pending = await self.core.store.inbox_pending(f"{interpreter.platform}:",
                                                      limit=1_000_000)
        for event_id, payload in pending:
            try:
                key = interpreter.order_key(payload)
            except Exception:  # unreadable: interpret() says so and drops it
                key = None
            self.accept(interpreter, Received(event_id, key or event_id, payload))
        if pending:
            log.info("replaying %d %s updates received before a restart", len(pending),
                     interpreter.platform)
        return len(pending)

    async def drain(self, timeout: float) -> None:
        await self.queue.drain(timeout)

    async def _handle(self, interpreter: Interpreter, received: Received) -> Outcome:
        outcome = await self._step(interpreter, received)
        try:
            await interpreter.settled(received, outcome)
        except Exception:
            log.exception("settling %s failed", received.event_id)
        return outcome

    async def _step(self, interpreter: Interpreter, received: Received) -> Outcome:
        try:
            incoming = await interpreter.interpret(received)
        except Exception as exc:
            log.exception("could not interpret %s; dropped", received.event_id)
            await self._drop(received)
            return Outcome(None, error=exc)
        if incoming is None:
            await self._drop(received)
            return Outcome(None)
        for attempt in range(ATTEMPTS):
            try:
                replies = await self.core.handle(incoming)
            except Exception as exc:
                if attempt + 1 < ATTEMPTS:
                    log.warning("handling %s failed; retrying", received.event_id,
                                exc_info=True)
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                if is_transient(exc):
                    # The database is away: the inbox keeps it for the next start.
                    log.error("handling %s failed on storage; kept for later",
                              received.event_id, exc_info=exc)
                else:
                    log.error("handling %s keeps failing; dropped", received.event_id,
                              exc_info=exc)
                    await self._drop(received)
                return Outcome(incoming, error=exc)
            self._settle(received)
            return Outcome(incoming, replies)
        raise AssertionError("unreachable")

    async def _drop(self, received: Received) -> None:
        try:
            await self.core.store.inbox_drop([received.event_id])
        except Exception:
            log.warning("could not drop %s from the inbox", received.event_id, exc_info=True)
        self._settle(received)

    def _settle(self, received: Received) -> None:
        """The update's effects are durable (committed, or deliberately dropped)."""
        if received.event_id in self._settled:
            self._settled[received.event_id] = True
