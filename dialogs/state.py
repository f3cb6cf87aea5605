"""The interview's state: a user's profile and one conversation, as JSON-able data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

MAX_ATTEMPTS_KEPT = 50
MAX_ROUNDS_KEPT = 50
MAX_DISAGREEMENTS_KEPT = 200


@dataclass(slots=True)
class Profile:
    """Per user, shared by all their conversations; remembered across attempts."""

    lang: str | None = None  # the interface: what the bot's messages are written in
    interview_lang: str | None = None  # the answers' language; None: same as the interface
    hints: bool = True  # a translation under each question when the two languages differ
    mode: str | None = None  # the interviewer: None or "coach" (friendly), "skeptical"
    role: str | None = None
    company: str | None = None
    setup_done: bool = False
    attempts: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[str] = field(default_factory=list)  # mentors' rounds joined, newest last
    # "I disagree" with a finding, newest last: data for improving the rules (dialogs/why.py)
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Profile:
        return cls(**_known(cls, data))

    def record_attempt(self, summary: dict[str, Any]) -> None:
        self.attempts.append(summary)
        del self.attempts[:-MAX_ATTEMPTS_KEPT]

    def joined_round(self, round_id: str) -> None:
        if round_id not in self.rounds:
            self.rounds.append(round_id)
            del self.rounds[:-MAX_ROUNDS_KEPT]

    def record_disagreement(self, record: dict[str, Any]) -> None:
        self.disagreements.append(record)
        del self.disagreements[:-MAX_DISAGREEMENTS_KEPT]

    def last_attempt(self, situation: str) -> dict[str, Any] | None:
        for attempt in reversed(self.attempts):
            if attempt.get("situation") == situation:
                return attempt
        return None


@dataclass(slots=True)
class Interview:
    """One conversation's progress through the flow declared in flow.yaml."""

    stage: str = "new"
    situation: str | None = None
    detail: str | None = None  # e.g. how long the candidate has been between jobs
    answer: str | None = None
    analysis: dict[str, Any] | None = None
    followups: list[str] = field(default_factory=list)  # asked so far, the current one last
    followup_index: int = 0
    followup_answers: list[dict[str, Any]] = field(default_factory=list)
    # What the follow-ups asked so far were about (finding ids, inconsistency keys), so
    # nothing is probed twice; and the two quotes of a current consistency check.
    probed: list[str] = field(default_factory=list)
    followup_pair: dict[str, str] | None = None
    # Bumped whenever choices are offered, so a button from an older prompt is recognised.
    prompt_seq: int = 0
    pending_confirm: str | None = None
    pending_voice_seconds: float | None = None  # a voice answer awaiting its typed gist
    answer_lang: str | None = None  # the rules the main answer was analysed with
    speech: dict[str, Any] | None = None  # fillers and pace of a transcribed main answer
    # A mentor's round this interview answers: its id, and whether it asks follow-ups.
    round_id: str | None = None
    round_followups: bool = True
    # The latest feedback's findings, numbered, for "Why was this flagged?" (dialogs/why.py);
    # kept when a new attempt starts, replaced by the next feedback.
    why: dict[str, Any] | None = None
    round_mode: str | None = None  # the mentor's choice of interviewer for the round
    last_event_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return _shallow(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Interview:
        return cls(**_known(cls, data))

    def leave_round(self) -> None:
        """Practice on one's own from here: the next answer is not the round's."""
        self.round_id = None
        self.round_followups = True
        self.round_mode = None

    def reset_attempt(self) -> None:
        """Forget the answers of the current attempt (the situation stays)."""
        self.answer = None
        self.answer_lang = None
        self.speech = None
        self.analysis = None
        self.followups = []
        self.followup_index = 0
        self.followup_answers = []
        self.probed = []
        self.followup_pair = None


def _shallow(obj: Any) -> dict[str, Any]:
    # Shallow on purpose: the engine works on private copies, so sharing is safe and
    # dataclasses.asdict's deep copy would dominate the step's cost.
    return {name: getattr(obj, name) for name in obj.__slots__}


def _known(cls: type, data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keep only fields the class knows, so older/newer stored states still load.

    Lists are copied (the engine appends to them); the dicts inside them are records
    that are never changed once written, so they are shared, not copied."""
    names = _FIELDS.get(cls) or _FIELDS.setdefault(cls, frozenset(f.name for f in fields(cls)))
    return {k: list(v) if isinstance(v, list) else v
            for k, v in (data or {}).items() if k in names}


_FIELDS: dict[type, frozenset[str]] = {}
