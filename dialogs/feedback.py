"""Build the feedback message's parameters from an analysis (pure data in, data out)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from leavewell.dialogs.exchange import FILLED_BY
from leavewell.dialogs.findings import IMPROVEMENT_IDS, RED_FLAG_IDS
from leavewell.dialogs.script import SituationSpec

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


def signals(found: dict[str, Any], situation_id: str) -> list[dict[str, str]]:
    """``found``: an analysis or an exchange (anything with lists of findings by kind)."""
    present = {f["id"] for key in ("red_flags", "improvements", "gaps", "strengths")
               for f in found.get(key, ())}
    if found.get("inconsistencies"):
        present.add("contradicts_situation")
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


def top_change(red_flags: list[str], improvements: list[str],
               situation: SituationSpec) -> str | None:
    """The single finding whose fix would help most: the gravest red flag, else the
    improvement this situation weighs most. Ids the catalog does not know come last."""
    if red_flags:
        return min(red_flags, key=lambda fid: _rank(RED_FLAG_IDS, fid))
    if not improvements:
        return None
    return max(
        improvements,
        key=lambda fid: (situation.rubric.weight(fid), -_rank(BASE_DEDUCTION_ORDER, fid)),
    )


def _rank(order: tuple[str, ...], fid: str) -> int:
    return order.index(fid) if fid in order else len(order)


def ids(found: dict[str, Any], key: str) -> list[str]:
    """The distinct ids under ``key``, in order."""
    return list(dict.fromkeys(f["id"] for f in found.get(key, ())))


def attempt_summary(
    exchange: dict[str, Any], situation: SituationSpec, at: float
) -> dict[str, Any]:
    """One attempt as /history, the retry delta and mentor rounds see it: the score and
    verdict of the whole exchange (dialogs.exchange), red flags from every answer."""
    red_flags = ids(exchange, "red_flags")
    improvements = ids(exchange, "gaps")
    return {
        "at": at,
        "situation": situation.id,
        "score": exchange["score"],
        "verdict": exchange["verdict"],
        "red_flags": red_flags,
        "improvements": improvements,
        "top": top_change(red_flags, improvements, situation),
    }


def delta(previous: dict[str, Any] | None, current: dict[str, Any]) -> dict[str, Any] | None:
    if previous is None:
        return None
    before = set(previous["red_flags"]) | set(previous["improvements"])
    after = set(current["red_flags"]) | set(current["improvements"])
    return {
        "previous_score": previous["score"],
        "score_change": current["score"] - previous["score"],
        "fixed": _in_order(before - after),
        "new": _in_order(after - before),
    }


PACING = ("too_short", "too_long")  # shown with the measured time, not the finding text


def feedback_params(
    exchange: dict[str, Any],
    analysis: dict[str, Any],
    situation: SituationSpec,
    *,
    previous: dict[str, Any] | None,
    summary: dict[str, Any],
    known: dict[str, str | None],
) -> dict[str, Any]:
    """``exchange``: the whole exchange judged as one; ``analysis``: the main answer's."""
    skills = analysis.get("skills") or []
    seconds = round(analysis["speaking_seconds"])
    return {
        "situation": situation.id,
        "score": exchange["score"],
        "verdict": exchange["verdict"],
        "main_score": exchange["main_score"],
        "answers": exchange["answers"],
        "mode": exchange["mode"],
        "word_count": analysis["word_count"],
        "speaking_seconds": seconds,
        "voice": analysis.get("voice", False),
        "pacing": next((f["id"] for f in exchange["gaps"] if f["id"] in PACING), None),
        "signals": signals(exchange, situation.id),
        "red_flags": [_place(f) for f in exchange["red_flags"]],
        "improvements": [_place(f) for f in exchange["gaps"] if f["id"] not in PACING],
        "strengths": [_place(f) for f in exchange["strengths"]],
        # what the follow-up answers added, by the strengths that filled the gaps
        "filled": [FILLED_BY.get(gap, gap) for gap in exchange["filled"]],
        "inconsistencies": exchange["inconsistencies"],
        "tip": summary["top"],
        "delta": delta(previous, summary),
        "model": {**known, "skill": skills[0] if skills else None},
    }


def _place(heard: dict[str, Any]) -> dict[str, Any]:
    return {"id": heard["id"], "answer": heard["answer"], "evidence": heard["evidence"],
            "rule": heard.get("rule", ""), "signal": heard.get("signal", "")}


HISTORY_ROWS_PER_SITUATION = 5
CHART_MARKS = "ABCDEFGHI"  # one line each in the chart (bot.charts draws up to 9)


def _issues(attempt: dict[str, Any]) -> set[str]:
    return set(attempt.get("red_flags") or ()) | set(attempt.get("improvements") or ())


def _in_order(found: set[str]) -> list[str]:
    order = [*RED_FLAG_IDS, *IMPROVEMENT_IDS]
    return [fid for fid in order if fid in found] + sorted(found - set(order))


def _situation_history(situation_id: str, series: list[dict[str, Any]],
                       rows: int) -> dict[str, Any]:
    first, last = series[0], series[-1]
    again = len(series) > 1
    return {
        "situation": situation_id,
        "mark": None,  # set when the chart has several lines
        "count": len(series),
        "attempts": [  # the latest few, oldest first
            {"date": datetime.fromtimestamp(a["at"], UTC).strftime("%Y-%m-%d"),
             "score": a["score"], "top": a.get("top")}
            for a in series[-rows:]
        ],
        "first_score": first["score"],
        "last_score": last["score"],
        "change": last["score"] - first["score"] if again else None,
        # what the first try had that the latest one no longer has, and what stays
        "gone": _in_order(_issues(first) - _issues(last)) if again else [],
        "still": _in_order(_issues(first) & _issues(last)) if again else [],
    }


def history_params(attempts: list[dict[str, Any]],
                   rows: int = HISTORY_ROWS_PER_SITUATION) -> dict[str, Any]:
    """Attempts grouped per situation, the situation practised last first, each with its
    trend since the first try; plus the progress chart's series (None below two
    attempts, see `history_wants_chart`). Pure and JSON-able: it goes into the outbox."""
    by_situation: dict[str, list[dict[str, Any]]] = {}
    for attempt in attempts:
        by_situation.setdefault(attempt["situation"], []).append(attempt)
    latest = sorted(by_situation, key=lambda sid: by_situation[sid][-1]["at"], reverse=True)
    groups = [_situation_history(sid, by_situation[sid], rows) for sid in latest]
    chart = None
    if len(attempts) >= 2:
        charted = groups[:len(CHART_MARKS)]  # the situations practised most recently
        for group, mark in zip(charted, CHART_MARKS, strict=False):
            group["mark"] = mark if len(charted) > 1 else None
        chart = {"series": [
            {"situation": g["situation"], "mark": g["mark"],
             "scores": [a["score"] for a in by_situation[g["situation"]]],
             "red_flags": [len(a.get("red_flags") or ()) for a in by_situation[g["situation"]]]}
            for g in charted
        ]}
    return {"total": len(attempts), "situations": groups, "chart": chart}


def history_wants_chart(params: dict[str, Any]) -> bool:
    """Whether /history should come with the progress chart: from the second attempt."""
    return bool(params.get("chart"))
