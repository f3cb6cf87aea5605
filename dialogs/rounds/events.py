"""What a mentor's practice round reacts to. Time always arrives inside the event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Person:
    user_key: str
    name: str  # the display name they chose on the platform
    # An opaque address of a private chat with them; {} when unknown.
    reach: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpenRound:
    """`/round start <args>` in a group."""

    at: float
    round_id: str
    group: dict[str, str]  # the group's address: where public posts go
    by: Person
    privileged: bool  # a group admin / a member with the mentor role
    args: str  # the text after "/round start", parsed by commands.parse_start
    lang: str
    # False when `by.reach` is known but not yet usable (the mentor never opened a private
    # chat with the bot): the report could not be delivered unless they do.
    reachable: bool = True


@dataclass(frozen=True, slots=True)
class JoinRound:
    at: float
    who: Person
    lang: str | None = None  # the actor's language, for replies when no round exists


@dataclass(frozen=True, slots=True)
class SubmitAttempt:
    """The interview finished a member's answer to this round
    (see dialogs.engine.round_link.submit_attempt)."""

    at: float
    user_key: str
    attempt: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ShareAnswer:
    at: float
    user_key: str
    lang: str | None = None  # the actor's language, for replies when no round exists


@dataclass(frozen=True, slots=True)
class RateAnswer:
    at: float
    rater: Person
    answer_no: int
    point: str
    lang: str | None = None  # the actor's language, for replies when no round exists


@dataclass(frozen=True, slots=True)
class CommentAnswer:
    at: float
    rater: Person
    answer_no: int
    text: str
    lang: str | None = None  # the actor's language, for replies when no round exists


@dataclass(frozen=True, slots=True)
class EndRound:
    at: float
    by: Person
    privileged: bool
    lang: str | None = None  # the actor's language, for replies when no round exists


@dataclass(frozen=True, slots=True)
class RoundDeadline:
    at: float


@dataclass(frozen=True, slots=True)
class RoundStatus:
    """`/round` or `/round status` in the group."""

    at: float
    who: Person
    lang: str | None = None  # the actor's language, for replies when no round exists


@dataclass(frozen=True, slots=True)
class ForgetPerson:
    """The person used /forget: every trace of them leaves the round, silently."""

    at: float
    user_key: str


RoundEvent = (
    OpenRound | JoinRound | SubmitAttempt | ShareAnswer | RateAnswer | CommentAnswer
    | EndRound | RoundDeadline | RoundStatus | ForgetPerson
)
