"""A mentor's round as JSON-able data: who started it, who joined, what they answered,
which answers were shared and how peers rated them. Survives restarts as is."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from leavewell.dialogs.findings import ALL_FINDING_IDS, IMPROVEMENT_IDS, RED_FLAG_IDS, STRENGTH_IDS
from leavewell.dialogs.script import LANGS, default_script

# The shared rubric points peers rate a shared answer on (buttons under it).
RATING_POINTS: tuple[str, ...] = ("positive", "specific", "owns_story", "forward_looking",
                                  "concise")
MAX_COMMENT_CHARS = 280
MAX_MEMBERS = 100  # the whole round is loaded for every event; also bot.charts' limit
MAX_NAME_CHARS = 64
MAX_ANSWER_CHARS = 5000
MAX_FOLLOWUP_ANSWERS = 5
VERDICTS = ("strong", "acceptable", "red_flag")


@dataclass(slots=True)
class RoundState:
    stage: str = "none"  # "none" (no round yet), "open", "closed"
    round_id: str = ""
    lang: str = "en"
    group: dict[str, str] = field(default_factory=dict)
    mentor: dict[str, Any] = field(default_factory=dict)  # {"user_key", "name", "reach"}
    situation: str | None = None  # None: each member picks their own
    followups: bool = True
    mode: str | None = None  # the interviewer the mentor chose for everyone (dialogs.modes)
    opened_at: float = 0.0
    closes_at: float = 0.0
    closed_at: float | None = None
    closed_by: str | None = None  # "deadline" or "end"
    # user_key -> {"name", "reach", "joined_at", "attempt", "late", "answer_no"}, in join order
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    # shared answers; answer number n is shared[n - 1]:
    # {"user_key", "at", "ratings": {point: [rater keys]}, "comments": {rater key: text}}
    shared: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.stage == "open"

    def to_dict(self) -> dict[str, Any]:
        return {f.name: copy.deepcopy(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RoundState:
        """A private deep copy: the machine never changes the caller's mapping."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: copy.deepcopy(v) for k, v in (data or {}).items() if k in names})

    def member_no(self, user_key: str) -> int:
        """The member's ordinal in join order (1-based), as reports number them."""
        return list(self.members).index(user_key) + 1

    def shared_answer(self, answer_no: int) -> dict[str, Any] | None:
        if 1 <= answer_no <= len(self.shared):
            return self.shared[answer_no - 1]
        return None


def person_record(user_key: str, name: str, reach: Mapping[str, str]) -> dict[str, Any]:
    return {"user_key": user_key, "name": clean_name(name, user_key), "reach": clean_reach(reach)}


def clean_reach(reach: Mapping[str, str] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (reach or {}).items()}


def clean_name(name: str, fallback: str) -> str:
    text = " ".join(str(name or "").split())[:MAX_NAME_CHARS]
    return text or fallback[:MAX_NAME_CHARS] or "?"


def clean_lang(lang: str) -> str:
    code = (lang or "").lower()[:2]
    return code if code in LANGS else LANGS[0]


# -- what the interview reports, checked so that every report can be rendered ---------


def _text(value: Any, limit: int = MAX_ANSWER_CHARS) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _ids(value: Any, known: tuple[str, ...]) -> list[str]:
    if not isinstance(value, list | tuple):
        return []
    return list(dict.fromkeys(v for v in value if isinstance(v, str) and v in known))


def _score(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return max(0, min(100, round(value)))


def _situation(value: Any) -> str:
    situations = default_script().situations
    return value if isinstance(value, str) and value in situations else "unspecified"


def _followup_answers(value: Any) -> list[dict[str, Any]]:
    known = default_script().catalogs["en"].followups
    rows = []
    for item in value if isinstance(value, list | tuple) else ():
        if isinstance(item, Mapping) and isinstance(item.get("text"), str):
            fid = item.get("id")
            rows.append({"id": fid if isinstance(fid, str) and fid in known else None,
                         "text": _text(item["text"])})
    return rows[:MAX_FOLLOWUP_ANSWERS]


def _findings(value: Any) -> list[dict[str, Any]]:
    kinds = {"red_flags": RED_FLAG_IDS, "improvements": IMPROVEMENT_IDS,
             "strengths": STRENGTH_IDS}
    rows = []
    for item in value if isinstance(value, list | tuple) else ():
        if not isinstance(item, Mapping) or item.get("kind") not in kinds \
                or item.get("id") not in kinds[item["kind"]]:
            continue
        evidence = item.get("evidence")
        texts = [_text(e, 300) for e in evidence if isinstance(e, str)] \
            if isinstance(evidence, list | tuple) else []
        rows.append({"id": item["id"], "kind": item["kind"], "evidence": texts[:5]})
    return rows


def _top(value: Any) -> str | None:
    return value if isinstance(value, str) and value in ALL_FINDING_IDS else None


def _verdict(value: Any) -> str | None:
    return value if value in VERDICTS else None


ATTEMPT_FIELDS: dict[str, Callable[[Any], Any]] = {
    "situation": _situation,
    "score": _score,
    "verdict": _verdict,
    "red_flags": lambda v: _ids(v, RED_FLAG_IDS),
    "improvements": lambda v: _ids(v, IMPROVEMENT_IDS),
    "strengths": lambda v: _ids(v, STRENGTH_IDS),
    "top": _top,
    "answer": _text,
    "followup_answers": _followup_answers,
    "findings": _findings,
}


def clean_attempt(raw: Mapping[str, Any], at: float) -> dict[str, Any]:
    """The attempt as the round keeps it: known fields only, ids the texts know."""
    data = raw if isinstance(raw, Mapping) else {}
    attempt = {name: clean(data.get(name)) for name, clean in ATTEMPT_FIELDS.items()}
    attempt["at"] = at
    return attempt
