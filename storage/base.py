"""The one persistence interface. Plain dataclasses in and out; no ORM objects leak."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A person on one platform: their settings and bounded attempt summaries."""

    user_key: str  # "<platform>:<user id>"
    profile: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    conversation_key: str  # "<platform>:<chat>:<user>:<thread>"
    user_key: str
    state: dict[str, Any]
    # Epoch seconds at which the idle timeout fires; None when nothing is pending.
    deadline: float | None
    # Where replies go on the platform (chat id, thread id ...); opaque to storage.
    address: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One event of a conversation as it happened: what came in and what it meant."""

    conversation_key: str
    user_key: str
    at: float
    kind: str  # event kind: text, choice, command, timeout, start
    text: str | None = None
    analysis: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    conversation_key: str
    platform: str
    address: dict[str, Any]
    payload: dict[str, Any]
    created_at: float


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """A mentor's practice round in a group: its state machine's JSON and deadline."""

    round_id: str
    group_key: str  # "<platform>:<chat>:<thread>": where the round was started
    state: dict[str, Any]
    deadline: float | None  # when the round closes; None once closed
    is_open: bool


@dataclass(frozen=True, slots=True)
class RoutedPayload:
    """A reply for a conversation other than the step's own (a group post, a report)."""

    conversation_key: str
    platform: str
    address: dict[str, Any]
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """Everything one incoming event changes, committed in one transaction.

    `event_id` ("<platform>:<update id>") makes the commit idempotent: a second
    commit with the same id changes nothing and returns None.
    """

    event_id: str | None
    at: float
    conversation: ConversationRecord | None  # None: conversation row unchanged
    user: UserRecord | None  # None: user unchanged
    turns: tuple[TurnRecord, ...] = ()
    outbox: tuple[dict[str, Any], ...] = ()  # payloads, addressed like `conversation`
    platform: str = ""
    address: dict[str, Any] = field(default_factory=dict)
    forget_user_key: str | None = None  # delete every row of this user first
    # Conversation the step belongs to; defaults to conversation.conversation_key. Needed
    # only to address outbox payloads when `conversation` is None (e.g. a forget reply).
    conversation_key: str | None = None
    rounds: tuple[RoundRecord, ...] = ()  # rounds this step changed (upserted)
    routed: tuple[RoutedPayload, ...] = ()  # replies to other conversations, after `outbox`


@dataclass(frozen=True, slots=True)
class HeldCommit:
    """What `Store.commit_held` returns for a step it applied."""

    items: list[OutboxItem]  # every new row, as `commit` returns them
    # Whether the step's conversation had an older row still unsent (committed before the
    # step and not yet marked sent). When False, the step's own rows are the next to go.
    older_unsent: bool


class Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def load(
        self, conversation_key: str, user_key: str
    ) -> tuple[UserRecord | None, ConversationRecord | None]: ...

    async def commit(self, step: StepRecord) -> list[OutboxItem] | None:
        """Apply the step atomically. Returns the new outbox rows, or None when
        the step's event_id was already committed (nothing was changed)."""
        ...

    async def commit_held(self, step: StepRecord, lease_seconds: float) -> HeldCommit | None:
        """`commit`, and in the same transaction: the new rows addressed to the step's own
        conversation are claimed for the caller for `lease_seconds` (on a store with
        `WorkClaims`; a single-process store has no other claimer, so nothing to hold),
        and whether an older row of that conversation is unsent is reported. None when the
        event id was already committed. A caller holding the conversation's lock who gets
        `older_unsent=False` may send the rows at once: no claim or read is needed."""
        ...

    def mark_sent(self, outbox_ids: list[int]) -> Awaitable[None]:
        """Mark rows sent. A store may queue the write at the call, before it is
        awaited, so a sender can mark a reply the moment it is confirmed."""
        ...

    async def prune_sent(self, older_than: float) -> int:
        """Delete outbox rows sent before `older_than`; returns how many."""
        ...

    async def pending_outbox(
        self, limit: int = 100, conversation_key: str | None = None
    ) -> list[OutboxItem]:
        """Unsent rows, oldest first; of one conversation when `conversation_key` is given."""
        ...

    async def due_deadlines(self, now: float, limit: int = 100) -> list[ConversationRecord]: ...

    async def open_conversations(self, platform: str,
                                 limit: int = 10_000) -> list[ConversationRecord]:
        """Conversations on `platform` (their address's "platform") with an interview in
        progress, i.e. a deadline pending; soonest deadline first."""
        ...

    async def next_deadline(self) -> float | None:
        """The earliest deadline of any conversation or round."""
        ...

    async def turns(self, conversation_key: str) -> list[TurnRecord]: ...

    async def export_user(self, user_key: str) -> dict[str, Any]: ...

    async def inbox_put(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        """Durably keep raw platform updates (event id, payload) until processed.
        Committing a step with the same event id removes the row."""
        ...

    async def inbox_pending(self, prefix: str, limit: int = 1000) -> list[tuple[str, Any]]:
        """Updates received (event ids starting with `prefix`) but not yet processed."""
        ...

    async def inbox_drop(self, event_ids: list[str]) -> None: ...

    async def load_settings(self, scope_key: str) -> dict[str, Any]:
        """Settings of a place (a server, a group ...) by its scope key; {} when none."""
        ...

    async def save_settings(self, scope_key: str, values: dict[str, Any], at: float) -> None:
        """Replace a place's settings with `values` (a JSON object) as of time `at`."""
        ...

    async def load_round(self, round_id: str) -> RoundRecord | None: ...

    async def open_round(self, group_key: str) -> RoundRecord | None:
        """The round still open in this group, if any (the newest one)."""
        ...

    async def due_rounds(self, now: float, limit: int = 100) -> list[RoundRecord]: ...

    async def schema_version(self) -> int: ...

    def lock(self, key: str, *more: str) -> AbstractAsyncContextManager[None]:
        """`async with store.lock(key):` holds `key` against every other holder of the same
        key on this data (every process, where the engine serves several), and not against
        other keys. Released on leaving the block, also by an exception. A task may hold
        several keys at once (take them in an agreed order, so two tasks never wait on
        each other), but not the same key twice: locks are not reentrant.

        `store.lock(a, b, ...)` takes several keys together, in an order of the store's
        own that never deadlocks with another such call, at the cost of one where the
        engine can (one query on PostgreSQL), and releases them together."""
        ...


class WorkClaims(Protocol):
    """Work any of several replicas may take, held by one at a time under a lease.

    A claimed row is not claimed again until its lease runs out (the claimer died) or it
    is done: a reply marked sent, a conversation or round written again. Single-process
    stores need none of this; PostgresStore implements it."""

    async def claim_outbox(self, limit: int = 100, conversation_key: str | None = None,
                           lease_seconds: float | None = None) -> list[OutboxItem]: ...

    async def claim_outbox_in_order(self, conversation_key: str, limit: int = 1000,
                                    lease_seconds: float | None = None,
                                    held: Sequence[int] = ()
                                    ) -> tuple[list[OutboxItem], int | None]:
        """In one step: claim a conversation's unsent rows oldest first, those no live lease
        holds or whose ids are in `held` (the caller's own, e.g. from `commit_held`), up to
        the first row that cannot be claimed; return them and that row's id (None when
        nothing was left behind). Rows from that one on stay unclaimed."""
        ...

    async def claim_due_deadlines(self, now: float, limit: int = 100,
                                  lease_seconds: float | None = None
                                  ) -> list[ConversationRecord]: ...

    async def claim_due_rounds(self, now: float, limit: int = 100,
                               lease_seconds: float | None = None) -> list[RoundRecord]: ...
