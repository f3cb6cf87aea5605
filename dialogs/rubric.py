"""What the analyzer checks for one situation: declared as data in situations.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# How the candidate's exit can be described in an answer. The analyzer detects
# these statements; a situation lists the ones that contradict it.
EXIT_KINDS: tuple[str, ...] = ("still_employed", "laid_off", "fired", "quit", "contract_ended")

# Improvement checks every situation runs unless it says otherwise.
BASE_CHECKS: frozenset[str] = frozenset(
    {"no_growth", "not_specific", "no_role_link", "no_results", "too_long", "too_short", "hedging"}
)


@dataclass(frozen=True, slots=True)
class SituationRubric:
    id: str
    checks: frozenset[str] = BASE_CHECKS
    # Multiplies the score deduction of a check (emphasis for this situation).
    weights: Mapping[str, float] = field(default_factory=dict, hash=False)
    # Exit kinds (see EXIT_KINDS) that contradict the declared situation.
    contradicts: frozenset[str] = frozenset()
    # The exit kind the situation itself states ("let go" is no contradiction for let_go).
    exit: str | None = None
    # Contradicting exit kinds that fit when told after the situation's own exit (the job
    # that came next): a rule about order in time, not about words.
    may_follow: frozenset[str] = frozenset()

    def weight(self, finding_id: str) -> float:
        return self.weights.get(finding_id, 1.0)
