"""Result types of the answer analyzer.

Everything here is plain, immutable data so an analysis can be stored as JSON,
replayed, and compared across attempts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["red_flag", "improvement", "strength"]
Verdict = Literal["red_flag", "acceptable", "strong"]
# How a finding was found: a rule entry's phrase or pattern, the sentiment lexicon on a
# statement about the old job, the classified reason for leaving, something missing,
# or the length.
Signal = Literal["rule", "lexicon", "reason", "absence", "length"]

RED_FLAG_IDS: tuple[str, ...] = (
    "trash_talk",
    "blame",
    "money_headline",
    "workload_complaint",
    "oversharing",
    "evasive",
    "contradicts_situation",
)
IMPROVEMENT_IDS: tuple[str, ...] = (
    "no_growth",
    "not_specific",
    "no_role_link",
    "no_results",
    "no_lesson",
    "no_proactive_steps",
    "no_good_terms",
    "too_long",
    "too_short",
    "hedging",
)
STRENGTH_IDS: tuple[str, ...] = (
    "growth",
    "specific",
    "role_link",
    "results",
    "lesson",
    "proactive",
    "good_terms",
    "ownership",
    "concise",
)
ALL_FINDING_IDS: tuple[str, ...] = RED_FLAG_IDS + IMPROVEMENT_IDS + STRENGTH_IDS


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of the user's own words: text == answer[start:end]."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    kind: Kind
    message: str
    evidence: tuple[Evidence, ...] = ()
    rule: str = ""  # the id of the rule entry that matched; "" means the finding's id
    signal: Signal = "rule"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "evidence": [{"start": e.start, "end": e.end, "text": e.text}
                         for e in self.evidence],
            "rule": self.rule,
            "signal": self.signal,
        }


@dataclass(frozen=True, slots=True)
class Analysis:
    lang: str
    situation: str
    verdict: Verdict
    score: int
    red_flags: tuple[Finding, ...]
    improvements: tuple[Finding, ...]
    strengths: tuple[Finding, ...]
    word_count: int
    speaking_seconds: float
    voice: bool = False
    skills: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "situation": self.situation,
            "verdict": self.verdict,
            "score": self.score,
            "red_flags": [f.to_dict() for f in self.red_flags],
            "improvements": [f.to_dict() for f in self.improvements],
            "strengths": [f.to_dict() for f in self.strengths],
            "word_count": self.word_count,
            "speaking_seconds": self.speaking_seconds,
            "voice": self.voice,
            "skills": list(self.skills),
        }

    @property
    def finding_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in (*self.red_flags, *self.improvements))
