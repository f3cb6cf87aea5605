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

SENT_KEPT_SECONDS = 7 * 24 * 3600  # sent replies are kept a week, then pruned hourly


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
        # Conversations with replies still unsent: their next delivery starts with those.
        self._stuck: set[str] = set()
        self._deadline_changed = asyncio.Event()
        self._next_prune = 0.0
        self._planned_wake = 0.0  # when the timer loop will look next (epoch seconds)

    def register_sender(self, platform: str, sender: Sender) -> None:
        self.delivery.register(platform, sender)

    async def handle(self, incoming: Incoming) -> list[OutboxItem] | None:
        """Process one event. Returns the replies committed for it, or None when the
        event was a re-delivery of one already processed."""
        ref = incoming.ref
        # The user's lock too: a profile is shared by all of that user's conversations.
        async with self._locks.hold(ref.key), self._locks.hold(f"user:{ref.user_key}"):
            profile, state = await self._load(ref)
            result = self.interviewer.step(profile, state, incoming.event)
            items = await self.store.commit(self._record(incoming, result))
            if items is None:
                log.debug("event %s already processed", incoming.event_id)
                return None
            self._remember(ref, result)
            await self._deliver(ref.key, items)
            return items

    async def _deliver(self, conversation_key: str, items: list[OutboxItem]) -> None:
        """Send these rows, after any older ones of the conversation still unsent."""
        if conversation_key in self._stuck:
            items = await self.store.pending_outbox(1000, conversation_key=conversation_key)
        if await self.delivery.deliver(items):
            self._stuck.discard(conversation_key)
        else:
            self._stuck.add(conversation_key)

    async def recover(self) -> None:
        """At start-up, before any event: remember conversations whose replies a crash
        left unsent, so nothing newer is sent before them."""
        for item in await self.store.pending_outbox(100_000):
            self._stuck.add(item.conversation_key)

    async def sweep(self) -> int:
        """Retry unsent replies, conversation by conversation, under each one's lock."""
        keys = list(dict.fromkeys(i.conversation_key
                                  for i in await self.store.pending_outbox(1000)))
        self._stuck.update(keys)
        for key in keys:
            async with self._locks.hold(key):
                await self._deliver(key, [])
        return len(keys)

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
        records = await self.store.due_deadlines(now)

        async def fire(record: ConversationRecord) -> bool:
            event_id = f"timeout:{record.conversation_key}:{record.deadline}"
            try:
                ref = ConversationRef.from_address(record.address)
                await self.handle(Incoming(ref, Timeout(at=now), event_id))
            except Exception:
                # One broken conversation must not stop everyone else's timeouts.
                log.exception("timeout of %s failed", record.conversation_key)
                return False
            return True

        fired = await asyncio.gather(*(fire(r) for r in records))
        return sum(fired)

    async def run_timers(self, stop: asyncio.Event, poll: float = 30.0) -> None:
        while not stop.is_set():
            try:
                await self.fire_due()
                await self.sweep()
                if self.clock() >= self._next_prune:
                    await self.store.prune_sent(self.clock() - SENT_KEPT_SECONDS)
                    self._next_prune = self.clock() + 3600
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
