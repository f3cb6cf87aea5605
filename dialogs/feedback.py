"""Build the feedback message's parameters from an analysis (pure data in, data out)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dialogs.findings import IMPROVEMENT_IDS, RED_FLAG_IDS
from dialogs.script import SituationSpec

# What an interviewer is really asking, and which findings answer each question.
# value: "no" if any `concern` is present, "yes" if any `support` is, else "unclear".
SIGNAL_RULES: tuple[tuple[str, frozenset[str], frozenset[str]], ...] = (
    ("good_reason",
     frozenset({"trash_talk", "money_headline", "workload_complaint", "evasive"}),
     frozenset({"growth", "role_link"})),
    ("voluntary",
     frozenset({"contradicts_situation", "evasive", "blame"}),
     frozenset({"ownership", "growth", "lesson", "specific"})),
    ("good_terms",
     frozenset({"trash_talk", "blame"}),
     frozenset({"good_terms", "ownership"})),
    ("values",
     frozenset({"money_headline", "workload_complaint", "oversharing"}),
     frozenset({"growth", "results", "lesson", "proactive"})),
)
# Situations where leaving was plainly the candidate's choice, or plainly not their doing.
CLEAR_EXITS = frozenset({"employed", "laid_off", "contract_ended", "relocation_family"})

BASE_DEDUCTION_ORDER = IMPROVEMENT_IDS


def signals(analysis: dict[str, Any], situation_id: str) -> list[dict[str, str]]:
    present = {f["id"] for key in ("red_flags", "improvements", "strengths")
               for f in analysis.get(key, ())}
    rows = []
    for signal_id, concerns, supports in SIGNAL_RULES:
        if present & concerns:
            value = "no"
        elif present & supports or (signal_id == "voluntary" and situation_id in CLEAR_EXITS):
            value = "yes"
        else:
            value = "unclear"
        rows.append({"id": signal_id, "value": value})
    return rows


def top_change(analysis: dict[str, Any], situation: SituationSpec) -> str | None:
    """The single finding whose fix would help most: the gravest red flag, else the
    improvement this situation weighs most."""
    flags = [f["id"] for f in analysis.get("red_flags", ())]
    if flags:
        return min(flags, key=RED_FLAG_IDS.index)
    improvements = [f["id"] for f in analysis.get("improvements", ())]
    if not improvements:
        return None
    return max(
        improvements,
        key=lambda fid: (situation.rubric.weight(fid), -BASE_DEDUCTION_ORDER.index(fid)),
    )


def ids(analysis: dict[str, Any], key: str) -> list[str]:
    return [f["id"] for f in analysis.get(key, ())]


def attempt_summary(
    analysis: dict[str, Any], situation: SituationSpec, at: float
) -> dict[str, Any]:
    return {
        "at": at,
        "situation": situation.id,
        "score": analysis["score"],
        "verdict": analysis["verdict"],
        "red_flags": ids(analysis, "red_flags"),
        "improvements": ids(analysis, "improvements"),
        "top": top_change(analysis, situation),
    }


def delta(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any] | None:
    if previous is None:
        return None
    before = set(previous["red_flags"]) | set(previous["improvements"])
    after = set(current["red_flags"]) | set(current["improvements"])
    order = [*RED_FLAG_IDS, *IMPROVEMENT_IDS]
    return {
        "previous_score": previous["score"],
        "score_change": current["score"] - previous["score"],
        "fixed": [fid for fid in order if fid in before - after],
        "new": [fid for fid in order if fid in after - before],
    }


def _evidence_texts(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": f["id"], "evidence": [e["text"] for e in f.get("evidence", ())]}
            for f in findings]


def feedback_params(
    analysis: dict[str, Any],
    situation: SituationSpec,
    *,
    previous: dict[str, Any] | None,
    summary: dict[str, Any],
    followup_answers: list[dict[str, Any]],
    known: dict[str, str | None],
) -> dict[str, Any]:
    followup_flags = [
        flag for answer in followup_answers for flag in _evidence_texts(answer["red_flags"])
    ]
    skills = analysis.get("skills") or []
    return {
        "situation": situation.id,
        "score": analysis["score"],
        "verdict": analysis["verdict"],
        "word_count": analysis["word_count"],
        "speaking_seconds": round(analysis["speaking_seconds"]),
        "voice": analysis.get("voice", False),
        "signals": signals(analysis, situation.id),
        "red_flags": _evidence_texts(analysis["red_flags"]),
        "improvements": _evidence_texts(analysis["improvements"]),
        "strengths": _evidence_texts(analysis.get("strengths", [])),
        "followup_flags": followup_flags,
        "tip": summary["top"],
        "delta": delta(previous, summary),
        "model": {**known, "skill": skills[0] if skills else None},
    }


def history_params(attempts: list[dict[str, Any]], limit: int = 10) -> dict[str, Any]:
    recent = attempts[-limit:]
    rows = [
        {
            "date": datetime.fromtimestamp(a["at"], UTC).strftime("%Y-%m-%d"),
            "situation": a["situation"],
            "score": a["score"],
            "top": a.get("top"),
        }
        for a in reversed(recent)
    ]
    trends = []
    by_situation: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_situation.setdefault(attempt["situation"], []).append(attempt)
    for situation_id, series in by_situation.items():
        if len(series) < 2:
            continue
        first, last = series[0], series[-1]
        before = set(first["red_flags"]) | set(first["improvements"])
        after = set(last["red_flags"]) | set(last["improvements"])
        trends.append({
            "situation": situation_id,
            "change": last["score"] - first["score"],
            "attempts": len(series),
            "fixed": sorted(before - after),
            "still": sorted(before & after),
        })
    return {"attempts": rows, "trends": trends}
