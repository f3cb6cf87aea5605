"""The interviewer's modes: the friendly coach (the default) and the skeptical panel.

A mode decides how many follow-ups are asked, whether the questions come with hints,
how much hedging and vagueness cost, and how the whole exchange is weighed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from leavewell.dialogs.rubric import SituationRubric
from leavewell.dialogs.words import default_words

COACH = "coach"
SKEPTICAL = "skeptical"
MAX_FOLLOWUPS = 3  # a red flag may bring a probe past a mode's own number, never past this


@dataclass(frozen=True, slots=True)
class Weighing:
    """How the answers of one exchange add up (see dialogs.exchange)."""

    red_flag_cap: int = 60  # a red flag anywhere: the score never goes above this
    strong_score: int = 75
    followup_red_flag: int = 30  # points off per red flag first heard in a follow-up
    gap_filled: int = 4  # points back per gap of the main answer a follow-up filled
    inconsistency: int = 10  # points off per pair of answers that contradict each other
    # Improvements that also count when a follow-up answer shows them, and their cost.
    followup_improvements: frozenset[str] = frozenset()
    followup_improvement: int = 5


@dataclass(frozen=True, slots=True)
class Mode:
    id: str
    followups: int | None  # None: the deployment's LEAVEWELL_MAX_FOLLOWUPS
    hints: bool  # translation and pacing hints under the questions
    # Multiplies the analyzer's deduction for these checks (on top of the situation's).
    emphasis: Mapping[str, float] = field(default_factory=dict, hash=False)
    weighing: Weighing = Weighing()

    def rubric(self, base: SituationRubric) -> SituationRubric:
        if not self.emphasis:
            return base
        weights = dict(base.weights)
        for check, factor in self.emphasis.items():
            weights[check] = weights.get(check, 1.0) * factor
        return replace(base, weights=weights)

    def followup_limit(self, configured: int) -> int:
        return max(1, min(MAX_FOLLOWUPS, self.followups or configured))


MODES: Mapping[str, Mode] = {
    COACH: Mode(COACH, followups=None, hints=True),
    SKEPTICAL: Mode(
        SKEPTICAL, followups=3, hints=False,
        emphasis={"hedging": 2.0, "not_specific": 2.0},
        weighing=Weighing(strong_score=80, followup_improvements=frozenset({"hedging"}),
                          followup_improvement=6),
    ),
}


def mode_of(mode_id: str | None) -> Mode:
    """A stored or typed mode id; anything unknown is the default coach."""
    return MODES.get(mode_id or COACH, MODES[COACH])


def parse_mode(word: str) -> str | None:
    """What people type for a mode (/mode skeptical, /mode 严格, /round start 2h tough;
    words.yaml: modes) -> its id."""
    return default_words().meaning("modes").get(word.strip().casefold())
