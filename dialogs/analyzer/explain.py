"""Everything behind a verdict, for ``leavewell analyze --explain``: which rule found
which words, through which signal, what each finding means and costs, the reason the
answer gives, and every match that was dropped (negated, another sense of the words,
suppressed by other evidence)."""

from __future__ import annotations

from typing import Any

from leavewell.dialogs.analyzer.rulebook import default_rulebook
from leavewell.dialogs.findings import Analysis


def explain(analysis: Analysis) -> dict[str, Any]:
    book = default_rulebook()
    findings = []
    for finding in (*analysis.red_flags, *analysis.improvements, *analysis.strengths):
        rule = book.findings[finding.id]
        findings.append({
            "id": finding.id,
            "kind": finding.kind,
            "signal": finding.signal,
            "points": -rule.points if rule.kind != "strength" else rule.points,
            "meaning": rule.meaning,
            "matches": [{"rule": e.rule, "text": e.text, "start": e.start, "end": e.end}
                        for e in finding.evidence],
        })
    return {
        "reason": {"headline": analysis.reason, "stated": list(analysis.reasons_stated)},
        "findings": findings,
        "dropped": [line.to_dict() for line in analysis.trace],
    }
