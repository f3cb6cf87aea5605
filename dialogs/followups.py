"""Choose the follow-up questions of a round from the situation and the answer."""

from __future__ import annotations

from collections.abc import Iterable

from dialogs.script import Script, SituationSpec


def plan_followups(
    script: Script,
    situation: SituationSpec,
    finding_ids: Iterable[str],
    *,
    limit: int,
    adaptive_limit: int = 2,
) -> list[str]:
    """Adaptive probes first (what the answer showed), then the situation's own
    questions, then the ones that fit everyone; no repeats, 1..limit questions."""
    found = set(finding_ids)
    adaptive = [p.ask for p in script.probes if p.when in found]
    plan: list[str] = []
    for fid in [*adaptive[:adaptive_limit], *situation.followups, *script.always]:
        if fid not in plan:
            plan.append(fid)
    return plan[: max(1, limit)]
