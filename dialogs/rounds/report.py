"""What a round's end produces, as data: the group's summary (no one named), the
mentor's per-member report, its CSV and Markdown exports, and a chart's series.

All builders are pure; the texts are the templates round_summary / round_report.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from leavewell.dialogs.findings import IMPROVEMENT_IDS, RED_FLAG_IDS, STRENGTH_IDS
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import MARKDOWN, default_renderer
from leavewell.dialogs.rounds.state import RATING_POINTS, VERDICTS, RoundState

# Below this many answers the group sees counts only: an average or a "most common red
# flag" of one or two answers would point at the people who answered.
MIN_ANSWERS_FOR_STATS = 3
# A weak point shared by only one answer could point at that person in a small group:
# the public summary names only those at least this many answers had.
MIN_SHARED_WEAKNESS = 2
TOP_FINDINGS = 3
REPORT_ANSWER_CHARS = 700  # in the chat report; the exports carry the whole text
# Over this many members the chat report lists one line each; the files have the rest.
COMPACT_OVER = 12
ATTACHMENTS = ["round_csv", "round_md", "round_chart"]
CSV_COLUMNS: tuple[str, ...] = (
    "no", "name", "user_key", "status", "situation", "score", "verdict", "red_flags",
    "improvements", "strengths", "top", "answer", "followup_answers", "shared",
    "answer_no", *(f"peer_{p}" for p in RATING_POINTS), "comments",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# -- time, for texts -------------------------------------------------------------------


def utc_text(at: float | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def span(seconds: float) -> list[list[Any]]:
    """A duration as [[count, unit]] with units "d", "h", "m" (the templates word it)."""
    minutes = max(0, math.ceil(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [[n, unit] for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return parts or [[0, "m"]]


# -- the group's summary ---------------------------------------------------------------


def _on_time(st: RoundState) -> list[dict[str, Any]]:
    return [m["attempt"] for m in st.members.values() if m.get("attempt") and not m["late"]]


def _most_common(lists: Iterable[Iterable[str]], order: tuple[str, ...],
                 limit: int = TOP_FINDINGS, at_least: int = 1) -> list[dict[str, Any]]:
    counts = Counter(fid for ids in lists for fid in set(ids))
    ranked = sorted((fid for fid in counts if counts[fid] >= at_least),
                    key=lambda fid: (-counts[fid], order.index(fid)))
    return [{"id": fid, "count": counts[fid]} for fid in ranked[:limit]]


def _average(scores: Iterable[int | None]) -> int | None:
    known = [s for s in scores if s is not None]
    return round(sum(known) / len(known)) if known else None


def public_summary(state: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of round_summary. Counts and findings by name only: no person's name,
    key, score or words, and nothing at all beyond counts when too few answered."""
    st = RoundState.from_dict(state)
    attempts = _on_time(st)
    stats = len(attempts) >= MIN_ANSWERS_FOR_STATS
    params: dict[str, Any] = {
        "situation": st.situation,
        "joined": len(st.members),
        "answered": len(attempts),
        "shared": len(st.shared),
        "closed_by": st.closed_by,
        "min_answers": MIN_ANSWERS_FOR_STATS,
        "stats": stats,
        "average": None, "verdicts": [], "red_flags": [],
        "improvements": [], "strengths": [], "tip": None,
    }
    if not stats:
        return params
    verdicts = Counter(a["verdict"] for a in attempts if a["verdict"])
    tips = [[a["top"]] for a in attempts if a["top"]]
    params.update(
        average=_average(a["score"] for a in attempts),
        verdicts=[{"id": v, "count": verdicts[v]} for v in VERDICTS if verdicts[v]],
        red_flags=_most_common((a["red_flags"] for a in attempts), RED_FLAG_IDS,
                               at_least=MIN_SHARED_WEAKNESS),
        improvements=_most_common((a["improvements"] for a in attempts), IMPROVEMENT_IDS,
                                  at_least=MIN_SHARED_WEAKNESS),
        strengths=_most_common((a["strengths"] for a in attempts), STRENGTH_IDS),
        tip=next((t["id"] for t in _most_common(tips, RED_FLAG_IDS + IMPROVEMENT_IDS
                                                 + STRENGTH_IDS, limit=1,
                                                 at_least=MIN_SHARED_WEAKNESS)), None),
    )
    return params


# -- peer feedback ---------------------------------------------------------------------


def peer_params(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What the author of a shared answer sees: counts per point and the comments' words,
    never who gave them."""
    ratings = entry.get("ratings") or {}
    comments = list((entry.get("comments") or {}).values())
    raters = {key for keys in ratings.values() for key in keys} | set(entry.get("comments") or {})
    return {
        "points": [{"id": p, "count": len(ratings.get(p, ()))} for p in RATING_POINTS],
        "comments": comments,
        "raters": len(raters),
    }


# -- the mentor's report ---------------------------------------------------------------


def _findings(attempt: Mapping[str, Any], kind: str) -> list[dict[str, Any]]:
    evidence = {f["id"]: f["evidence"] for f in attempt.get("findings", ())
                if f["kind"] == kind}
    return [{"id": fid, "evidence": evidence.get(fid, [])} for fid in attempt.get(kind, ())]


def _member_row(st: RoundState, no: int, user_key: str,
                member: Mapping[str, Any]) -> dict[str, Any]:
    attempt = member.get("attempt") or {}
    shared = st.shared_answer(member["answer_no"]) if member.get("answer_no") else None
    peer = peer_params(shared) if shared else {"points": [], "comments": [], "raters": 0}
    status = "no_answer" if not attempt else "late" if member.get("late") else "answered"
    return {
        "no": no,
        "name": member["name"],
        "user_key": user_key,
        "status": status,
        "joined": utc_text(member.get("joined_at")),
        "answered_at": utc_text(attempt.get("at")),
        "situation": attempt.get("situation") or st.situation,
        "score": attempt.get("score"),
        "verdict": attempt.get("verdict"),
        "top": attempt.get("top"),
        "red_flags": _findings(attempt, "red_flags"),
        "improvements": _findings(attempt, "improvements"),
        "strengths": list(attempt.get("strengths", ())),
        "answer": attempt.get("answer", ""),
        "followup_answers": list(attempt.get("followup_answers", ())),
        "shared": shared is not None,
        "answer_no": member.get("answer_no"),
        "peer": peer["points"],
        "comments": peer["comments"],
    }


def mentor_report(state: Mapping[str, Any], *, chart: bool = True) -> dict[str, Any]:
    """Parameters of round_report, and everything export_csv / export_markdown and the
    chart need: every member who joined, with or without an answer."""
    st = RoundState.from_dict(state)
    members = [_member_row(st, no, key, m) for no, (key, m) in enumerate(st.members.items(), 1)]
    statuses = Counter(m["status"] for m in members)
    params = {
        "round_id": st.round_id,
        "mentor": st.mentor.get("name", ""),
        "situation": st.situation,
        "followups": st.followups,
        "opened": utc_text(st.opened_at),
        "closes": utc_text(st.closes_at),
        "closed": utc_text(st.closed_at),
        "closed_by": st.closed_by,
        "is_open": st.is_open,
        "joined": len(members),
        "answered": statuses["answered"],
        "late": statuses["late"],
        "no_answer": statuses["no_answer"],
        "shared": len(st.shared),
        "average": _average(m["score"] for m in members if m["status"] == "answered"),
        "members": members,
        "points": list(RATING_POINTS),
        "answer_chars": REPORT_ANSWER_CHARS,
        "compact": len(members) > COMPACT_OVER,
        "markdown": False,
        # the follow-up questions' texts mention these when known; a round does not know them
        "company": None,
        "role": None,
        "attachments": list(ATTACHMENTS),
    }
    if chart:
        params["chart"] = _chart(params)
    return params


def chart_series(state: Mapping[str, Any]) -> dict[str, Any]:
    """Every member in the report's order, labelled by their number there (never a name):
    score (None without an answer) and red-flag count. `members` is what
    bot.charts.round_chart draws; the flat lists say the same for other consumers."""
    return _chart(mentor_report(state, chart=False))


def _chart(report_params: Mapping[str, Any]) -> dict[str, Any]:
    rows = [{"no": m["no"], "score": m["score"], "red_flags": len(m["red_flags"]),
             "late": m["status"] == "late"} for m in report_params["members"]]
    return {
        "members": rows,
        "labels": [str(r["no"]) for r in rows],
        "scores": [r["score"] for r in rows],
        "red_flags": [r["red_flags"] for r in rows],
        "average": report_params["average"],
    }


# -- exports ---------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = ("yes" if value else "no") if isinstance(value, bool) else str(value)
    # A spreadsheet must not run a cell as a formula (CSV injection).
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_row(m: Mapping[str, Any]) -> list[str]:
    peer = {p["id"]: p["count"] for p in m["peer"]}
    values = [
        m["no"], m["name"], m["user_key"], m["status"], m["situation"], m["score"],
        m["verdict"], ";".join(f["id"] for f in m["red_flags"]),
        ";".join(f["id"] for f in m["improvements"]), ";".join(m["strengths"]), m["top"],
        m["answer"], "\n".join(f"{f['id'] or 'followup'}: {f['text']}"
                               for f in m["followup_answers"]),
        m["shared"], m["answer_no"], *(peer.get(p, 0) if m["shared"] else None
                                       for p in RATING_POINTS),
        len(m["comments"]),
    ]
    return [_cell(v) for v in values]


def export_csv(report_params: Mapping[str, Any]) -> str:
    """One row per member (mentor_report's params in, CSV text out)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for member in report_params.get("members", ()):
        writer.writerow(_csv_row(member))
    return out.getvalue()


def export_markdown(report_params: Mapping[str, Any], lang: str) -> str:
    """The mentor's report as a Markdown document, every answer in full; the members'
    words are escaped, so they can never become markup or links."""
    params = {**report_params, "markdown": True}
    outgoing = Outgoing("round_report", lang, params)
    return _hard_breaks(default_renderer().render(outgoing, MARKDOWN).text) + "\n"


def _hard_breaks(text: str) -> str:
    """Lines written one under another stay apart in Markdown (two trailing spaces)."""
    lines = text.split("\n")
    return "\n".join(
        f"{line}  " if line.strip() and i + 1 < len(lines) and lines[i + 1].strip()
        and not line.startswith("#") else line
        for i, line in enumerate(lines)
    )
