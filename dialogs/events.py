"""Events the interview reacts to. Time always arrives inside the event (no clock)."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS: tuple[str, ...] = (
    "start",
    "practice",
    "retry",
    "history",
    "lang",
    "role",
    "stop",
    "help",
    "forget",
    "export",
    "round",
    "why",
    "mode",
)


@dataclass(frozen=True, slots=True)
class Start:
    at: float
    lang_hint: str | None = None  # e.g. the platform's language of the user


@dataclass(frozen=True, slots=True)
class TextAnswer:
    at: float
    text: str
    voice_seconds: float | None = None  # set when the answer was spoken
    transcribed: bool = False  # the text is the speech-to-text of the voice answer


@dataclass(frozen=True, slots=True)
class ChoicePressed:
    at: float
    choice: str


@dataclass(frozen=True, slots=True)
class Command:
    at: float
    name: str
    args: str = ""
    lang_hint: str | None = None  # the platform's language of the user, if it tells


@dataclass(frozen=True, slots=True)
class Timeout:
    at: float


@dataclass(frozen=True, slots=True)
class Unsupported:
    """Input the interview cannot read: a sticker, a photo, a file."""

    at: float
    what: str = "media"


@dataclass(frozen=True, slots=True)
class Resume:
    """The user is back (e.g. a console session reopened): re-ask where we were."""

    at: float


@dataclass(frozen=True, slots=True)
class RoundInvite:
    """The user joined a mentor's round: interview them with the round's question."""

    at: float
    round_id: str
    situation: str | None  # None: the member picks their own
    followups: bool = True
    mode: str | None = None  # the interviewer the mentor chose; None: the member's own


Event = Start | TextAnswer | ChoicePressed | Command | Timeout | Unsupported | Resume | RoundInvite

EVENT_KINDS: dict[type, str] = {
    Start: "start",
    TextAnswer: "text",
    ChoicePressed: "choice",
    Command: "command",
    Timeout: "timeout",
    Unsupported: "unsupported",
    Resume: "resume",
    RoundInvite: "round_invite",
}
