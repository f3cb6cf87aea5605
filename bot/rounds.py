"""Mentor rounds in the core: which incoming events concern a round, and where the
round's replies go. The round itself is the pure machine in `dialogs.rounds`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from leavewell.bot.incoming import ConversationRef, Incoming
from leavewell.dialogs.events import ChoicePressed, Command
from leavewell.dialogs.rounds import commands as round_commands
from leavewell.dialogs.rounds.events import (
    CommentAnswer,
    EndRound,
    JoinRound,
    OpenRound,
    Person,
    RateAnswer,
    RoundEvent,
    RoundStatus,
    ShareAnswer,
)
from leavewell.storage.base import Store


@dataclass(frozen=True, slots=True)
class RoundTrigger:
    """An incoming event that is a round's business."""

    round_id: str
    group_key: str | None  # known when the event comes from the round's group
    event: RoundEvent
    is_new: bool = False


def group_key(ref: ConversationRef) -> str:
    return f"{ref.platform}:{ref.chat_id}:{ref.thread_id}"


def group_conversation(address: dict[str, Any]) -> str:
    return ConversationRef.from_address(address).key


def new_round_id(incoming: Incoming) -> str:
    # From the event's id, so a replayed command names the same round.
    seed = incoming.event_id or f"{incoming.ref.key}:{incoming.event.at}"
    return hashlib.blake2s(seed.encode(), digest_size=6).hexdigest()


def person(incoming: Incoming) -> Person:
    ref, actor = incoming.ref, incoming.actor
    reach = actor.reach if actor.reach is not None else (
        {} if actor.in_group else ref.address())
    return Person(ref.user_key, actor.name or ref.user_id, dict(reach))


async def trigger_of(incoming: Incoming, store: Store, lang: str) -> RoundTrigger | None:
    """The round event this incoming event means, or None for interview business."""
    event, ref = incoming.event, incoming.ref
    at = event.at
    if isinstance(event, Command) and event.name.lower() == "round":
        # Outside a group the interview answers: rounds run in groups only.
        return await _group_command(incoming, store, lang) if incoming.actor.in_group else None
    if not isinstance(event, ChoicePressed):
        return None
    parsed = round_commands.parse_choice(event.choice)
    if parsed is None:
        return None
    round_id, action, args = parsed
    if action == "join":
        return RoundTrigger(round_id, None, JoinRound(at, person(incoming), lang))
    if action == "share":
        return RoundTrigger(round_id, None, ShareAnswer(at, ref.user_key, lang))
    if action == "rate" and len(args) == 2:
        return RoundTrigger(round_id, group_key(ref),
                            RateAnswer(at, person(incoming), int(args[0]), args[1], lang))
    return None


async def _group_command(incoming: Incoming, store: Store, lang: str) -> RoundTrigger:
    ref, actor = incoming.ref, incoming.actor
    at = incoming.event.at
    assert isinstance(incoming.event, Command)
    sub, rest = round_commands.parse_round_command(incoming.event.args)
    key = group_key(ref)
    current = await store.open_round(key)
    if sub == "start":
        # One round at a time in a group: a start while one runs goes to that round, which
        # says so. One whose deadline has passed is closed by the timer; a new one opens.
        running = current is not None and (current.deadline is None or at < current.deadline)
        round_id = current.round_id if running and current else new_round_id(incoming)
        return RoundTrigger(
            round_id, key,
            OpenRound(at, round_id, actor.group_address(ref), person(incoming),
                      actor.privileged and actor.in_group, rest, lang,
                      reachable=actor.reach_open),
            is_new=not running,
        )
    round_id = current.round_id if current else ""
    who = person(incoming)
    if sub == "end":
        event: RoundEvent = EndRound(at, who, actor.privileged and actor.in_group, lang)
    elif sub == "comment":
        number, text = round_commands.parse_comment(rest)
        event = CommentAnswer(at, who, number, text, lang)
    else:
        event = RoundStatus(at, who, lang)
    return RoundTrigger(round_id, key, event)
