"""MemoryStore: the pure-Python reference implementation of `storage.base.Store`.

It keeps the same semantics as the SQLite store (idempotent commits, forget, export,
deadlines, outbox, strict JSON) in plain dicts, for fast tests. Values are stored as
JSON text and decoded on every read, exactly like a database would: callers never
share mutable state with the store.

The data lives in a `MemoryDatabase`; a new `MemoryStore(database=old.database)`
"reopens" the same data, which is how tests simulate a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from leavewell.storage._codec import EncodedStep, encode_settings, encode_step, load_json
from leavewell.storage.base import (
    ConversationRecord,
    HeldCommit,
    OutboxItem,
    RoundRecord,
    StepRecord,
    TurnRecord,
    UserRecord,
)
from leavewell.storage.errors import StoreClosedError
from leavewell.storage.export import export_dict
from leavewell.storage.held import commit_then_look
from leavewell.storage.locks import KeyedLocks

# The memory store's own layout, versioned on its own: it has no migrations (its data
# ends with the process), so it is 1 until its dataclasses change incompatibly. Not the
# SQLite schema number, which moves with SQLite's migrations.
MEMORY_SCHEMA_VERSION = 1


@dataclass(slots=True)
class _UserRow:
    profile: str
    created_at: float
    updated_at: float


@dataclass(slots=True)
class _ConversationRow:
    user_key: str
    state: str
    deadline: float | None
    address: str
    updated_at: float


@dataclass(slots=True)
class _TurnRow:
    id: int
    conversation_key: str
    user_key: str
    seq: int
    at: float
    kind: str
    text: str | None
    analysis: str | None
    meta: str


@dataclass(slots=True)
class _OutboxRow:
    id: int
    conversation_key: str
    platform: str
    address: str
    payload: str
    created_at: float
    sent_at: float | None = None


@dataclass(slots=True)
class _RoundRow:
    group_key: str
    state: str
    deadline: float | None
    is_open: bool
    updated_at: float


@dataclass(slots=True)
class MemoryDatabase:
    """The "file" of a MemoryStore: survives closing the store that used it."""

    users: dict[str, _UserRow] = field(default_factory=dict)
    conversations: dict[str, _ConversationRow] = field(default_factory=dict)
    turns: dict[str, list[_TurnRow]] = field(default_factory=dict)  # by conversation, seq order
    processed_events: dict[str, float] = field(default_factory=dict)
    outbox: dict[int, _OutboxRow] = field(default_factory=dict)  # id order
    inbox: dict[str, Any] = field(default_factory=dict)  # event id -> payload, arrival order
    rounds: dict[str, _RoundRow] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)  # scope key -> values JSON
    last_turn_id: int = 0
    last_outbox_id: int = 0  # never reused, like SQLite AUTOINCREMENT


class MemoryStore:
    latest_version = MEMORY_SCHEMA_VERSION  # always current: nothing to migrate

    def __init__(self, database: MemoryDatabase | None = None) -> None:
        self.database = database if database is not None else MemoryDatabase()
        self._open = False
        self._locks = KeyedLocks()

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    def _db(self) -> MemoryDatabase:
        if not self._open:
            raise StoreClosedError("the store is not open")
        return self.database

    async def schema_version(self) -> int:
        self._db()
        return MEMORY_SCHEMA_VERSION

    @asynccontextmanager
    async def lock(self, key: str, *more: str) -> AsyncIterator[None]:
        """One process owns this data: an in-process lock per key is enough."""
        self._db()
        async with self._locks.hold(key, *more):
            yield

    async def load(
        self, conversation_key: str, user_key: str
    ) -> tuple[UserRecord | None, ConversationRecord | None]:
        db = self._db()
        user_row = db.users.get(user_key)
        user = None if user_row is None else UserRecord(user_key, load_json(user_row.profile))
        conv_row = db.conversations.get(conversation_key)
        conv = None if conv_row is None else _conversation(conversation_key, conv_row)
        return user, conv

    async def commit(self, step: StepRecord) -> list[OutboxItem] | None:
        db = self._db()
        encoded = encode_step(step)  # everything that can fail, fails here
        if step.event_id is not None and step.event_id in db.processed_events:
            return None
        if step.forget_user_key is not None:
            _forget(db, step.forget_user_key)
        _apply(db, encoded)
        created: list[OutboxItem] = []
        rows = [(encoded.conversation_key, step.platform, encoded.outbox_address, payload)
                for payload in encoded.payloads]
        rows += [(r.conversation_key, r.platform, r.address, r.payload) for r in encoded.routed]
        for key, platform, address, payload in rows:
            db.last_outbox_id += 1
            assert key is not None
            row = _OutboxRow(
                id=db.last_outbox_id,
                conversation_key=key,
                platform=platform,
                address=address,
                payload=payload,
                created_at=float(step.at),
            )
            db.outbox[row.id] = row
            created.append(_outbox_item(row))
        if step.event_id is not None:
            db.processed_events[step.event_id] = float(step.at)
            db.inbox.pop(step.event_id, None)
        return created

    async def commit_held(self, step: StepRecord, lease_seconds: float) -> HeldCommit | None:
        """`commit`, then whether an older row of the conversation is unsent: one process
        owns the data, so there is no claim to hold (see storage.held)."""
        return await commit_then_look(self, step)

    async def mark_sent(self, outbox_ids: list[int]) -> None:
        db = self._db()
        now = time.time()
        for outbox_id in outbox_ids:
            row = db.outbox.get(outbox_id)
            if row is not None and row.sent_at is None:
                row.sent_at = now

    async def inbox_put(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        db = self._db()
        for event_id, payload in items:
            if event_id not in db.processed_events:
                db.inbox.setdefault(event_id, json.loads(json.dumps(payload)))

    async def inbox_drop(self, event_ids: list[str]) -> None:
        db = self._db()
        for event_id in event_ids:
            db.inbox.pop(event_id, None)

    async def inbox_pending(self, prefix: str, limit: int = 1000) -> list[tuple[str, Any]]:
        db = self._db()
        rows = [(k, v) for k, v in db.inbox.items() if k.startswith(prefix)]
        return rows[:limit]

    async def prune_sent(self, older_than: float) -> int:
        """Delete outbox rows sent before `older_than`; returns how many were deleted."""
        db = self._db()
        old = [i for i, r in db.outbox.items() if r.sent_at is not None and r.sent_at < older_than]
        for outbox_id in old:
            del db.outbox[outbox_id]
        return len(old)

    async def pending_outbox(self, limit: int = 100,
                             conversation_key: str | None = None) -> list[OutboxItem]:
        db = self._db()
        items: list[OutboxItem] = []
        for row in db.outbox.values():
            if len(items) >= limit:
                break
            if row.sent_at is None and conversation_key in (None, row.conversation_key):
                items.append(_outbox_item(row))
        return items

    async def due_deadlines(self, now: float, limit: int = 100) -> list[ConversationRecord]:
        db = self._db()
        due = sorted(
            (row.deadline, key)
            for key, row in db.conversations.items()
            if row.deadline is not None and row.deadline <= now
        )
        return [_conversation(key, db.conversations[key]) for _, key in due[: max(limit, 0)]]

    async def open_conversations(self, platform: str,
                                 limit: int = 10_000) -> list[ConversationRecord]:
        db = self._db()
        found = sorted(
            (row.deadline, key)
            for key, row in db.conversations.items()
            if row.deadline is not None and load_json(row.address).get("platform") == platform
        )
        return [_conversation(key, db.conversations[key]) for _, key in found[: max(limit, 0)]]

    async def next_deadline(self) -> float | None:
        db = self._db()
        rows = [*db.conversations.values(), *db.rounds.values()]
        return min((r.deadline for r in rows if r.deadline is not None), default=None)

    async def load_settings(self, scope_key: str) -> dict[str, Any]:
        values: dict[str, Any] = load_json(self._db().settings.get(scope_key, "{}"))
        return values

    async def save_settings(self, scope_key: str, values: dict[str, Any], at: float) -> None:
        db = self._db()
        key, values_json, _ = encode_settings(scope_key, values, at)
        db.settings[key] = values_json

    async def load_round(self, round_id: str) -> RoundRecord | None:
        row = self._db().rounds.get(round_id)
        return None if row is None else _round(round_id, row)

    async def open_round(self, group_key: str) -> RoundRecord | None:
        rows = [(row.updated_at, rid) for rid, row in self._db().rounds.items()
                if row.group_key == group_key and row.is_open]
        if not rows:
            return None
        _, round_id = max(rows)
        return _round(round_id, self.database.rounds[round_id])

    async def due_rounds(self, now: float, limit: int = 100) -> list[RoundRecord]:
        db = self._db()
        due = sorted((row.deadline, rid) for rid, row in db.rounds.items()
                     if row.deadline is not None and row.deadline <= now)
        return [_round(rid, db.rounds[rid]) for _, rid in due[: max(limit, 0)]]

    async def turns(self, conversation_key: str) -> list[TurnRecord]:
        db = self._db()
        return [_turn(row) for row in db.turns.get(conversation_key, ())]

    async def export_user(self, user_key: str) -> dict[str, Any]:
        db = self._db()
        user_row = db.users.get(user_key)
        conversations = [_conversation(key, row) for key, row in sorted(db.conversations.items())
                         if row.user_key == user_key]
        rows = sorted(
            (row for rows in db.turns.values() for row in rows if row.user_key == user_key),
            key=lambda r: r.id,
        )
        return export_dict(user_key, None if user_row is None else load_json(user_row.profile),
                           conversations, ((_turn(row), row.seq) for row in rows))


def _forget(db: MemoryDatabase, user_key: str) -> None:
    keys = {k for k, row in db.conversations.items() if row.user_key == user_key}
    for conversation_key, rows in list(db.turns.items()):
        if any(row.user_key == user_key for row in rows):
            keys.add(conversation_key)
            kept = [row for row in rows if row.user_key != user_key]
            if kept:
                db.turns[conversation_key] = kept
            else:
                del db.turns[conversation_key]
    for outbox_id in [i for i, row in db.outbox.items() if row.conversation_key in keys]:
        del db.outbox[outbox_id]
    for key in [k for k, row in db.conversations.items() if row.user_key == user_key]:
        del db.conversations[key]
    db.users.pop(user_key, None)


def _apply(db: MemoryDatabase, encoded: EncodedStep) -> None:
    step = encoded.step
    at = float(step.at)
    if step.user is not None and encoded.profile is not None:
        existing = db.users.get(step.user.user_key)
        created_at = at if existing is None else existing.created_at
        db.users[step.user.user_key] = _UserRow(encoded.profile, created_at, at)
    conv = step.conversation
    if conv is not None and encoded.state is not None and encoded.conversation_address is not None:
        db.conversations[conv.conversation_key] = _ConversationRow(
            user_key=conv.user_key,
            state=encoded.state,
            deadline=None if conv.deadline is None else float(conv.deadline),
            address=encoded.conversation_address,
            updated_at=at,
        )
    for r in encoded.rounds:
        db.rounds[r.round_id] = _RoundRow(r.group_key, r.state, r.deadline, r.is_open, at)
    for turn in encoded.turns:
        rows = db.turns.setdefault(turn.conversation_key, [])
        db.last_turn_id += 1
        rows.append(
            _TurnRow(
                id=db.last_turn_id,
                conversation_key=turn.conversation_key,
                user_key=turn.user_key,
                seq=rows[-1].seq + 1 if rows else 1,
                at=turn.at,
                kind=turn.kind,
                text=turn.text,
                analysis=turn.analysis,
                meta=turn.meta,
            )
        )


def _conversation(key: str, row: _ConversationRow) -> ConversationRecord:
    return ConversationRecord(
        conversation_key=key,
        user_key=row.user_key,
        state=load_json(row.state),
        deadline=row.deadline,
        address=load_json(row.address),
    )


def _round(round_id: str, row: _RoundRow) -> RoundRecord:
    return RoundRecord(round_id, row.group_key, load_json(row.state), row.deadline, row.is_open)


def _turn(row: _TurnRow) -> TurnRecord:
    return TurnRecord(
        conversation_key=row.conversation_key,
        user_key=row.user_key,
        at=row.at,
        kind=row.kind,
        text=row.text,
        analysis=load_json(row.analysis),
        meta=load_json(row.meta),
    )


def _outbox_item(row: _OutboxRow) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        conversation_key=row.conversation_key,
        platform=row.platform,
        address=load_json(row.address),
        payload=load_json(row.payload),
        created_at=row.created_at,
    )
