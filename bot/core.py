"""The async core: Incoming event -> pure dialog step -> one transaction -> delivery.

Events of one conversation are handled strictly in order (a per-key lock held
from load to delivery); different conversations run concurrently. Every lock is the
store's (`Store.lock`): on PostgreSQL it holds across all replicas. Nothing about
a user lives in memory beyond a bounded cache.

On a store several replicas share (one that implements `WorkClaims`, see bot.claims)
replies, timeouts and round deadlines are claimed before they are acted on, and the
cache is off: any replica may receive a conversation's next update.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from leavewell.bot.cache import LRUCache
from leavewell.bot.claims import CLAIM_LEASE_SECONDS, claim_in_order, claims_of
from leavewell.bot.delivery import Delivery, Sender
from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.bot.rounds import RoundTrigger, trigger_of
from leavewell.dialogs.engine import DEFAULT_LANG, Interviewer, StepResult
from leavewell.dialogs.events import RoundInvite, Timeout
from leavewell.dialogs.rounds.events import ForgetPerson, RoundDeadline, RoundEvent, SubmitAttempt
from leavewell.dialogs.rounds.machine import RoundResult, destination, step_round
from leavewell.dialogs.state import Profile
from leavewell.storage.base import (
    ConversationRecord,
    HeldCommit,
    OutboxItem,
    RoundRecord,
    RoutedPayload,
    StepRecord,
    Store,
    TurnRecord,
    UserRecord,
)

log = logging.getLogger(__name__)

SENT_KEPT_SECONDS = 7 * 24 * 3600  # sent replies are kept a week, then pruned hourly
ACTIVE_EVENTS = 32  # events handled at once, across conversations


class Core:
    def __init__(
        self,
        store: Store,
        interviewer: Interviewer,
        *,
        clock: Callable[[], float] = time.time,
        cache_size: int = 10_000,
        claim_lease: float = CLAIM_LEASE_SECONDS,
    ) -> None:
        self.store = store
        # Set when other replicas may share the store: work is claimed, nothing cached.
        self.claims = claims_of(store)
        self.claim_lease = claim_lease
        if self.claims is not None:
            cache_size = 0
        self.interviewer = interviewer
        self.clock = clock
        self.delivery = Delivery(store)
        self._active = asyncio.Semaphore(ACTIVE_EVENTS)
        self._profiles: LRUCache[str, dict[str, Any]] = LRUCache(cache_size)
        self._states: LRUCache[str, dict[str, Any]] = LRUCache(cache_size)
        # Conversations with replies still unsent: their next delivery starts with those.
        self._stuck: set[str] = set()
        self._deadline_changed = asyncio.Event()
        self._next_prune = 0.0
        self._planned_wake = 0.0  # when the timer loop will look next (epoch seconds)
        self._retry_at: float | None = None  # claimed work waits for a lease until then

    def register_sender(self, platform: str, sender: Sender) -> None:
        self.delivery.register(platform, sender)

    # -- what adapters may ask (they never touch the store) ------------------------------

    async def export_user(self, user_key: str) -> dict[str, Any]:
        """Everything stored about a person (the /export file)."""
        return await self.store.export_user(user_key)

    async def knows_conversation(self, ref: ConversationRef) -> bool:
        """Whether this conversation ever had an event (e.g. a private chat the person
        opened: some platforms refuse a bot's first message there)."""
        _user, conversation = await self.store.load(ref.key, ref.user_key)
        return conversation is not None

    async def user_lang(self, user_key: str) -> str | None:
        """The interface language a person chose, if they did."""
        profile = self._profiles.get(user_key)
        if profile is None:
            user, _ = await self.store.load(user_key, user_key)
            profile = user.profile if user else {}
        lang = profile.get("lang")
        return str(lang) if lang else None

    async def open_conversations(self, platform: str) -> list[tuple[ConversationRef, float]]:
        """Interviews in progress on a platform, with the time of their last event: what
        an adapter reads back after a restart when its platform does not re-send."""
        records = await self.store.open_conversations(platform)
        return [(ConversationRef.from_address(r.address),
                 float(r.state.get("last_event_at") or 0.0)) for r in records]

    async def round_place(self, round_id: str, user_key: str,
                          now: float) -> tuple[bool, dict[str, Any] | None]:
        """Whether the round still takes members, and the private place this person
        joined it from before (None if they have not)."""
        record = await self.store.load_round(round_id)
        if record is None or not record.is_open or (record.deadline or 0) <= now:
            return False, None
        return True, destination(record.state, f"member:{user_key}") or None

    async def scope_settings(self, scope_key: str) -> dict[str, Any]:
        """Settings of a place (a server's allowed channels ...); {} when none."""
        return await self.store.load_settings(scope_key)

    async def update_scope_settings(
        self, scope_key: str, change: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """Read, change and save a place's settings, one change at a time."""
        async with self.store.lock(f"settings:{scope_key}"):
            current = await self.scope_settings(scope_key)
            changed = change(dict(current))
            if changed != current:
                await self.store.save_settings(scope_key, changed, self.clock())
            return changed

    async def handle(self, incoming: Incoming) -> list[OutboxItem] | None:
        """Process one event. Returns the replies committed for it, or None when the
        event was a re-delivery of one already processed."""
        # A bounded number at once: the CPU is no busier, but under a burst the event
        # loop's turns stay short, so a confirmed reply is marked sent within
        # milliseconds (a crash re-sends only those not yet marked).
        async with self._active:
            return await self._handle(incoming)

    async def _handle(self, incoming: Incoming) -> list[OutboxItem] | None:
        ref = incoming.ref
        # The user's lock too: a profile is shared by all of that user's conversations.
        # A round's lock, when one is involved, is always taken last.
        async with self.store.lock(ref.key, f"user:{ref.user_key}"):
            profile, state = await self._load(ref)
            lang = profile.get("lang") or DEFAULT_LANG
            trigger = await trigger_of(incoming, self.store, lang)
            if trigger is not None:
                done, result = await self._round_event(incoming, trigger, profile, state)
            else:
                result = self.interviewer.step(profile, state, incoming.event)
                if result.forget:
                    done = await self._commit_forget(incoming, result, profile)
                else:
                    done = await self._commit_step(incoming, result)
            if done is None:
                log.debug("event %s already processed", incoming.event_id)
                return None
            if result is not None:
                self._remember(ref, result)
            items = done.items
            own = [i for i in items if i.conversation_key == ref.key]
            # Other conversations' rows wait their turn: marked before anyone can overtake.
            self._stuck.update(i.conversation_key for i in items if i.conversation_key != ref.key)
            await self._deliver(ref.key, own, next_up=not done.older_unsent)
        await self._deliver_elsewhere({i.conversation_key for i in items} - {ref.key})
        return items

    async def _commit(self, step: StepRecord) -> HeldCommit | None:
        """Commit a step of the conversation whose lock is held. On a shared store its own
        replies come back claimed by this replica, with whether an older one is unsent
        (then they wait their turn); a single-process store needs neither (`_deliver`)."""
        if self.claims is not None:
            return await self.store.commit_held(step, self.claim_lease)
        items = await self.store.commit(step)
        return None if items is None else HeldCommit(items, older_unsent=False)

    async def _commit_step(self, incoming: Incoming,
                           result: StepResult) -> HeldCommit | None:
        attempt = result.round_attempt
        if attempt is None:
            return await self._commit(self._record(incoming, result))
        # A finished round answer: the round records it in the same transaction.
        round_id = attempt["round_id"]
        async with self.store.lock(f"round:{round_id}"):
            record = await self.store.load_round(round_id)
            if record is None:
                return await self._commit(self._record(incoming, result))
            event = SubmitAttempt(incoming.event.at, incoming.ref.user_key, attempt)
            outcome = step_round(record.state, event)
            return await self._commit(self._record(
                incoming, result, round_part=(record.group_key, round_id, outcome)))

    async def _commit_forget(self, incoming: Incoming, result: StepResult,
                             profile: dict[str, Any]) -> HeldCommit | None:
        """/forget reaches into the rounds the user joined, in the same transaction."""
        round_ids = sorted({str(r) for r in profile.get("rounds") or ()})
        async with contextlib.AsyncExitStack() as held:
            for round_id in round_ids:  # sorted: two forgets never wait on each other
                await held.enter_async_context(self.store.lock(f"round:{round_id}"))
            changed: list[RoundRecord] = []
            routed: list[RoutedPayload] = []
            for round_id in round_ids:
                record = await self.store.load_round(round_id)
                if record is None:
                    continue
                outcome = step_round(record.state, ForgetPerson(incoming.event.at,
                                                                incoming.ref.user_key))
                changed.append(RoundRecord(round_id, record.group_key, outcome.state,
                                           outcome.deadline, outcome.is_open))
                routed.extend(_route(outcome, None)[1])
            step = self._record(incoming, result)
            return await self._commit(replace(step, rounds=tuple(changed),
                                              routed=tuple(routed)))

    async def _round_event(
        self, incoming: Incoming, trigger: RoundTrigger, profile: dict[str, Any],
        state: dict[str, Any],
    ) -> tuple[HeldCommit | None, StepResult | None]:
        async with self.store.lock(f"round:{trigger.round_id}"):
            record = None if trigger.is_new else await self.store.load_round(trigger.round_id)
            outcome = step_round(record.state if record else None, trigger.event)
            group = record.group_key if record else trigger.group_key
            result = None
            if outcome.admitted is not None:  # joined: the interview asks the round's question
                admitted = outcome.admitted
                result = self.interviewer.step(profile, state, RoundInvite(
                    at=incoming.event.at, round_id=trigger.round_id,
                    situation=admitted.get("situation"),
                    followups=bool(admitted.get("followups", True)),
                    mode=admitted.get("mode")))
            # No round behind the event (a stale link, /round end with none running, a
            # refused start): the replies still go out, and no round row is written.
            round_part = (group, trigger.round_id, outcome)
            step = self._record(incoming, result, round_part=round_part,
                                round_event=trigger.event)
            if result is None and trigger.is_new and outcome.is_open:
                # The mentor's profile lists the round too, so /forget reaches it there.
                mentor = Profile.from_dict(profile)
                mentor.joined_round(trigger.round_id)
                step = replace(step, user=UserRecord(incoming.ref.user_key, mentor.to_dict()))
                self._profiles.drop(incoming.ref.user_key)
            done = await self._commit(step)
        if outcome.deadline is not None and outcome.deadline < self._planned_wake:
            self._deadline_changed.set()
        return done, result

    async def _deliver_elsewhere(self, keys: set[str]) -> None:
        """Replies a step addressed to other conversations (a group post, a mentor's
        report), each sent under that conversation's own lock, after its older rows."""
        self._stuck.update(keys)  # all at once: none of them may send newer rows first
        for key in sorted(keys):
            async with self.store.lock(key):
                await self._deliver(key, [])

    async def _deliver(self, conversation_key: str, items: list[OutboxItem], *,
                       next_up: bool = False) -> None:
        """Send these rows, after any older ones of the conversation still unsent. On a
        shared store `items` are the rows this replica's commit holds, and `next_up` says
        no older row was unsent then: they go at once, with no claim or read."""
        if self.claims is not None:
            await self._deliver_claimed(conversation_key, items, next_up)
            return
        if conversation_key in self._stuck:
            items = await self.store.pending_outbox(1000, conversation_key=conversation_key)
        if await self.delivery.deliver(items):
            self._stuck.discard(conversation_key)
        else:
            self._stuck.add(conversation_key)

    async def _deliver_claimed(self, conversation_key: str, held: list[OutboxItem],
                               next_up: bool) -> None:
        """Replicas: send the conversation's unsent rows this replica holds or could claim,
        oldest first, none past a row another claimer's lease still holds. What waits (for
        a lease, or after a failed send, its rows leased here) is retried once it runs out."""
        self._stuck.discard(conversation_key)
        assert self.claims is not None
        if next_up:  # the commit held these and found nothing older unsent
            ready, waiting = held, False
        else:
            ready, waiting = await claim_in_order(self.claims, conversation_key,
                                                  self.claim_lease, held)
        if not await self.delivery.deliver(ready) or waiting:
            self._retry_after_lease()

    def _retry_after_lease(self) -> None:
        retry_at = self.clock() + self.claim_lease + 0.1
        if self._retry_at is None or retry_at < self._retry_at:
            self._retry_at = retry_at
        if retry_at < self._planned_wake:
            self._deadline_changed.set()

    async def recover(self) -> None:
        """At start-up, before any event: remember conversations whose replies a crash
        left unsent, so nothing newer is sent before them. (Replicas keep nothing in
        memory: each delivery reads what is unsent.)"""
        if self.claims is not None:
            return
        for item in await self.store.pending_outbox(100_000):
            self._stuck.add(item.conversation_key)

    async def sweep(self) -> int:
        """Retry unsent replies, many conversations at once (sharing the ACTIVE_EVENTS
        bound with new events), each under its own lock. What a crash interrupts is
        resumed, not restarted: every reply is marked sent as soon as it is confirmed.
        Replicas: each conversation's rows are claimed under its lock (`_deliver`)."""
        keys = list(dict.fromkeys(i.conversation_key
                                  for i in await self.store.pending_outbox(100_000)))
        if self.claims is None:
            self._stuck.update(keys)

        async def one(key: str) -> None:
            async with self._active, self.store.lock(key):
                try:
                    await self._deliver(key, [])
                except Exception:  # one conversation's trouble must not stop the others
                    log.exception("catching up %s failed; the next sweep retries", key)

        await asyncio.gather(*(one(key) for key in keys))
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

    def _record(
        self,
        incoming: Incoming,
        result: StepResult | None,
        *,
        round_part: tuple[str | None, str, RoundResult] | None = None,
        round_event: RoundEvent | None = None,
    ) -> StepRecord:
        ref = incoming.ref
        at = incoming.event.at
        address: dict[str, str] = ref.address()
        if incoming.reply_via:
            address["reply_via"] = incoming.reply_via
        rounds: tuple[RoundRecord, ...] = ()
        routed: tuple[RoutedPayload, ...] = ()
        own_round: tuple[dict[str, Any], ...] = ()
        if round_part is not None:
            group, round_id, outcome = round_part
            if group and round_id and outcome.state.get("stage") != "none":
                rounds = (RoundRecord(round_id, group, outcome.state, outcome.deadline,
                                      outcome.is_open),)
            own_round, routed = _route(outcome, ref)
        if result is None:  # a round's business only (a rating, a group command)
            text = getattr(incoming.event, "args", None) or getattr(incoming.event, "choice", None)
            turns = (TurnRecord(ref.key, ref.user_key, at, "round", text,
                                meta={"round_event": type(round_event).__name__}),)
            return StepRecord(
                event_id=incoming.event_id, at=at, conversation=None, user=None, turns=turns,
                outbox=own_round, platform=ref.platform, address=address,
                conversation_key=ref.key, rounds=rounds, routed=routed,
            )
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
        replies = tuple(o.to_dict() for o in result.outgoing)
        return StepRecord(
            event_id=incoming.event_id,
            at=at,
            conversation=ConversationRecord(ref.key, ref.user_key, result.state,
                                            result.deadline, ref.address()),
            user=UserRecord(ref.user_key, result.profile) if result.profile_changed else None,
            turns=turns,
            # A join: the round's welcome, then the question. An answer: its feedback,
            # then the round's note that it counts.
            outbox=(*own_round, *replies) if round_event is not None else (*replies, *own_round),
            platform=ref.platform,
            address=address,
            rounds=rounds,
            routed=routed,
        )

    # -- deadlines ---------------------------------------------------------------------

    async def fire_due(self, now: float | None = None) -> int:
        """Feed a Timeout to every conversation whose stored deadline has passed (on a
        shared store, to those this replica claimed: the step's write ends the claim)."""
        now = self.clock() if now is None else now
        if self.claims is not None:
            records = await self.claims.claim_due_deadlines(now,
                                                            lease_seconds=self.claim_lease)
            rounds = await self.claims.claim_due_rounds(now, lease_seconds=self.claim_lease)
        else:
            records = await self.store.due_deadlines(now)
            rounds = await self.store.due_rounds(now)

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
        closed = await asyncio.gather(*(self._close_round(r, now) for r in rounds))
        return sum(fired) + sum(closed)

    async def _close_round(self, record: RoundRecord, now: float) -> bool:
        """A round's deadline: the machine closes it and posts the summary and report."""
        try:
            async with self.store.lock(f"round:{record.round_id}"):
                current = await self.store.load_round(record.round_id)
                if current is None or current.deadline is None or current.deadline > now:
                    return False
                outcome = step_round(current.state, RoundDeadline(at=now))
                _, routed = _route(outcome, None)
                items = await self.store.commit(StepRecord(
                    event_id=f"round-deadline:{record.round_id}:{current.deadline}",
                    at=now, conversation=None, user=None,
                    rounds=(RoundRecord(record.round_id, current.group_key, outcome.state,
                                        outcome.deadline, outcome.is_open),),
                    routed=routed,
                ))
        except Exception:
            log.exception("closing round %s failed", record.round_id)
            return False
        if items:
            await self._deliver_elsewhere({i.conversation_key for i in items})
        return True

    async def run_timers(self, stop: asyncio.Event, poll: float = 30.0) -> None:
        while not stop.is_set():
            if self._retry_at is not None and self._retry_at <= self.clock():
                self._retry_at = None  # this pass retries it (and may wait again)
            try:
                await self.fire_due()
                await self.sweep()
                if self.clock() >= self._next_prune:
                    await self.store.prune_sent(self.clock() - SENT_KEPT_SECONDS)
                    self._next_prune = self.clock() + 3600
                upcoming = await self.store.next_deadline()
                if (self.claims is not None and upcoming is not None
                        and upcoming <= self.clock()):
                    # due, but held by another replica (handling it now, or dead with
                    # its lease): look again soon, not every 50 ms until it is done
                    upcoming = self.clock() + min(1.0, self.claim_lease)
                if self._retry_at is not None:  # claimed work waiting for a lease
                    upcoming = min(upcoming or self._retry_at, self._retry_at)
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


def _route(outcome: RoundResult, actor: ConversationRef | None,
           ) -> tuple[tuple[dict[str, Any], ...], tuple[RoutedPayload, ...]]:
    """Split a round's replies: the actor's own (sent with the step's conversation) and
    the rest, each addressed to the group, the mentor or a member's private chat."""
    own: list[dict[str, Any]] = []
    routed: list[RoutedPayload] = []
    for addressed in outcome.outgoing:
        payload = addressed.outgoing.to_dict()
        if addressed.to == "actor":
            if actor is not None:
                own.append(payload)
            continue
        address = destination(outcome.state, addressed.to)
        if not address:
            log.info("round reply to %s has no known address; dropped", addressed.to)
            continue
        ref = ConversationRef.from_address(address)
        if actor is not None and ref.key == actor.key:
            own.append(payload)
        else:
            routed.append(RoutedPayload(ref.key, ref.platform, ref.address(), payload))
    return tuple(own), tuple(routed)
