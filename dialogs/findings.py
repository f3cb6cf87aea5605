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
# statement about the old job, the classified reason for leaving, the tone model on the
# answer as a whole, something missing, or the length.
Signal = Literal["rule", "lexicon", "reason", "model", "absence", "length"]
SIGNALS: tuple[str, ...] = ("rule", "lexicon", "reason", "model", "absence", "length")

# The finding ids are declared by the rule files (scripts/rules/<id>.yaml), each kind in
# the order of its rank: RED_FLAG_IDS, IMPROVEMENT_IDS, STRENGTH_IDS and ALL_FINDING_IDS
# are read from there on first use, so a new rule file is a new finding everywhere.
_ID_LISTS = {
    "RED_FLAG_IDS": ("red_flag",),
    "IMPROVEMENT_IDS": ("improvement",),
    "STRENGTH_IDS": ("strength",),
    "ALL_FINDING_IDS": ("red_flag", "improvement", "strength"),
}


def __getattr__(name: str) -> tuple[str, ...]:
    kinds = _ID_LISTS.get(name)
    if kinds is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from leavewell.dialogs.analyzer.rulebook import default_rulebook

    book = default_rulebook()
    ids = tuple(fid for kind in kinds for fid in book.ids(kind))
    globals()[name] = ids
    return ids


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of the user's own words: text == answer[start:end], and the id of the
    rule entry that matched it (``trash_talk.words``)."""

    start: int
    end: int
    text: str
    rule: str = ""


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    kind: Kind
    message: str
    evidence: tuple[Evidence, ...] = ()
    rule: str = ""  # the rule of the first quoted span
    signal: Signal = "rule"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "evidence": [{"start": e.start, "end": e.end, "text": e.text, "rule": e.rule}
                         for e in self.evidence],
            "rule": self.rule,
            "signal": self.signal,
        }


@dataclass(frozen=True, slots=True)
class TraceLine:
    """A match that did not become evidence, and why (negated, another sense of the
    words, suppressed by other evidence): what ``--explain`` shows."""

    tag: str
    rule: str
    span: tuple[int, int]
    text: str
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "rule": self.rule, "start": self.span[0],
                "end": self.span[1], "text": self.text, "outcome": self.outcome}


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
    reason: str = "none"  # the headline reason kind (rules/reasons.yaml)
    reasons_stated: tuple[str, ...] = ()  # every reason kind stated, in order
    trace: tuple[TraceLine, ...] = ()  # matches dropped, and why (not stored)

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
            "reason": self.reason,
            "reasons_stated": list(self.reasons_stated),
        }

    @property
    def finding_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in (*self.red_flags, *self.improvements))
