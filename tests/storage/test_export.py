"""The export file's shape, decided in storage/export.py for every engine."""

from __future__ import annotations

import json

from leavewell.storage.base import ConversationRecord, TurnRecord
from leavewell.storage.export import export_dict


def test_the_export_holds_profile_conversations_and_numbered_turns() -> None:
    conversation = ConversationRecord("tg:1:1:0", "tg:1", {"stage": "asked"}, 60.0,
                                      {"chat_id": "1"})
    turn = TurnRecord("tg:1:1:0", "tg:1", 5.0, "text", "我想成长", {"score": 3}, {"i": 0})
    exported = export_dict("tg:1", {"lang": "zh"}, [conversation], [(turn, 2)])
    assert json.loads(json.dumps(exported, ensure_ascii=False)) == exported
    assert exported == {
        "user_key": "tg:1",
        "user": {"lang": "zh"},
        "conversations": [{"conversation_key": "tg:1:1:0", "state": {"stage": "asked"},
                           "deadline": 60.0, "address": {"chat_id": "1"}}],
        "turns": [{"conversation_key": "tg:1:1:0", "user_key": "tg:1", "seq": 2, "at": 5.0,
                   "kind": "text", "text": "我想成长", "analysis": {"score": 3},
                   "meta": {"i": 0}}],
    }


def test_an_unknown_person_exports_as_empty() -> None:
    assert export_dict("tg:9", None, [], []) == {
        "user_key": "tg:9", "user": None, "conversations": [], "turns": []}
