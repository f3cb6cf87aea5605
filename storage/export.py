"""The export file (`Store.export_user`), built in one place for every engine.

Each engine reads the rows in one consistent snapshot and decodes them into records; this
module alone decides what the file holds and in which shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from leavewell.storage.base import ConversationRecord, TurnRecord


def export_dict(user_key: str, profile: dict[str, Any] | None,
                conversations: Iterable[ConversationRecord],
                turns: Iterable[tuple[TurnRecord, int]]) -> dict[str, Any]:
    """Everything stored about `user_key`: the profile (None when there is none), the
    conversations (by key) and the turns (in commit order, each with `seq`, its number in
    its conversation). Plain JSON values only."""
    return {
        "user_key": user_key,
        "user": profile,
        "conversations": [_conversation(c) for c in conversations],
        "turns": [_turn(turn, seq) for turn, seq in turns],
    }


def _conversation(record: ConversationRecord) -> dict[str, Any]:
    return {"conversation_key": record.conversation_key, "state": record.state,
            "deadline": record.deadline, "address": record.address}


def _turn(turn: TurnRecord, seq: int) -> dict[str, Any]:
    return {"conversation_key": turn.conversation_key, "user_key": turn.user_key,
            "seq": int(seq), "at": turn.at, "kind": turn.kind, "text": turn.text,
            "analysis": turn.analysis, "meta": turn.meta}
