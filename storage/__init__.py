"""Durable state behind one async interface (see storage.base.Store)."""

from storage.base import (
    ConversationRecord,
    OutboxItem,
    StepRecord,
    Store,
    TurnRecord,
    UserRecord,
)
from storage.factory import open_store

__all__ = [
    "ConversationRecord",
    "OutboxItem",
    "StepRecord",
    "Store",
    "TurnRecord",
    "UserRecord",
    "open_store",
]
