"""Durable state behind one async interface (see storage.base.Store)."""

from leavewell.storage.base import (
    ConversationRecord,
    OutboxItem,
    StepRecord,
    Store,
    TurnRecord,
    UserRecord,
)
from leavewell.storage.factory import open_store

__all__ = [
    "ConversationRecord",
    "OutboxItem",
    "StepRecord",
    "Store",
    "TurnRecord",
    "UserRecord",
    "open_store",
]
