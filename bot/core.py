"""The async core: Incoming event -> pure dialog step -> one transaction -> delivery.

Events of one conversation are handled strictly in order (a per-key lock held
from load to delivery); different conversations run concurrently. Nothing about
a user lives in memory beyond a bounded cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.cache import LRUCache
from bot.delivery import Delivery, Sender
from bot.incoming import ConversationRef, Incoming
from bot.locks import KeyedLocks
from dialogs.engine import Interviewer, StepResult
from dialogs.events import Timeout
from storage.base import ConversationRecord, OutboxItem, StepRecord, Store, TurnRecord, UserRecord

log = logging.getLogger(__name__)


class Core:
    def __init__(
        self,
        store: Store,
        interviewer: Interviewer,
        *,
        clock: Callable[[], float] = time.time,
        cache_size: int = 10_000,
    ) -> None:
        self.store = store
        self.interviewer = interviewer
        self.clock = clock
        self.delivery = Delivery(store)
        self._locks = KeyedLocks()
        self._profiles: LRUCache[str, dict[str, Any]] = LRUCache(cache_size)
        self._states: LRUCache[str, dict[str, Any]] = LRUCache(cache_size)
        self._deadline_changed = asyncio.Event()
        self._planned_wake = 0.0  # when the timer loop will look next (epoch seconds)

    def register_sender(self, platform: str, sender: Sender) -> None:
        self.delivery.register(platform, sender)

    async def handle(self, incoming: Incoming) -> list[OutboxItem] | None:
        """Process one event. Returns the replies committed for it, or None when the
        event was a re-delivery of one already processed."""
        ref = incoming.ref
        async with self._locks.hold(ref.key):
            profile, state = await self._load(ref)
            result = self.interviewer.step(profile, state, incoming.event)
            items = await self.store.commit(self._record(incoming, result))
            if items is None:
                log.debug("event %s already processed", incoming.event_id)
                return None
            self._remember(ref, result)
            await self.delivery.deliver(items)
            return items

    async def _load(self, ref: ConversationRef) -> tuple[dict[str, Any], dict[str, Any]]:
        profile = self._profiles.get(ref.user_key)
        state = self._states.get(ref.key)
        if profile is None or state is None:
            user, conversation = await self.store.load(ref.key, ref.user_key)
            profile = user.profile if user else {}
            state = conversation.state if conversation else {}
        return profile, state

    def _remember(self, ref: ConversationRef, result: StepResult) -> None:
        if result.forget:
            self._profiles.drop(ref.user_key)
            self._states.drop(ref.key)
            # Other conversations of this user hold stale copies too.
            self._states = LRUCache(self._states.capacity)
            return
        self._profiles.put(ref.user_key, result.profile)
        self._states.put(ref.key, result.state)
        if result.deadline is not None and result.deadline < self._planned_wake:
            self._deadline_changed.set()

    def _record(self, incoming: Incoming, result: StepResult) -> StepRecord:
        ref = incoming.ref
        at = incoming.event.at
        address = ref.address()
        if result.forget:
            return StepRecord(
                event_id=incoming.event_id,
                at=at,
                conversation=None,
                user=None,
                outbox=tuple(o.to_dict() for o in result.outgoing),
                platform=ref.platform,
                address=address,
                forget_user_key=ref.user_key,
                conversation_key=ref.key,
            )
        turn = result.turn
        turns: tuple[TurnRecord, ...] = ()
        if not turn.meta.get("ignored"):
            turns = (
                TurnRecord(ref.key, ref.user_key, at, turn.kind, turn.text, turn.analysis,
                           turn.meta),
            )
        return StepRecord(
            event_id=incoming.event_id,
            at=at,
            conversation=ConversationRecord(ref.key, ref.user_key, result.state,
                                            result.deadline, address),
            user=UserRecord(ref.user_key, result.profile) if result.profile_changed else None,
            turns=turns,
            outbox=tuple(o.to_dict() for o in result.outgoing),
            platform=ref.platform,
            address=address,
        )

    # -- deadlines ---------------------------------------------------------------------

    async def fire_due(self, now: float | None = None) -> int:
        """Feed a Timeout to every conversation whose stored deadline has passed."""
        now = self.clock() if now is None else now
        fired = 0
        for record in await self.store.due_deadlines(now):
            event_id = f"timeout:{record.conversation_key}:{record.deadline}"
            ref = ConversationRef.from_address(record.address)
            await self.handle(Incoming(ref, Timeout(at=now), event_id))
            fired += 1
        return fired

    async def run_timers(self, stop: asyncio.Event, poll: float = 30.0) -> None:
        while not stop.is_set():
            try:
                await self.fire_due()
                await self.delivery.sweep(older_than=self.clock() - 5.0)
                upcoming = await self.store.next_deadline()
            except Exception:
                log.exception("timer pass failed; retrying")
                upcoming = None
            wait = poll if upcoming is None else min(poll, max(0.05, upcoming - self.clock()))
            self._deadline_changed.clear()
            self._planned_wake = self.clock() + wait
            stop_wait = asyncio.ensure_future(stop.wait())
            change_wait = asyncio.ensure_future(self._deadline_changed.wait())
            await asyncio.wait({stop_wait, change_wait}, timeout=wait,
                               return_when=asyncio.FIRST_COMPLETED)
            for task in (stop_wait, change_wait):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
