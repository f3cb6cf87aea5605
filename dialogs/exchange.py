"""One verdict for the whole exchange. Pure.

An interviewer remembers the conversation, not the first answer alone: a follow-up
answer that names a result fills the gap the main answer left, and one insult in a
follow-up sinks a polished opening. ``judge`` combines the per-answer analyses
(``Analysis.to_dict()`` of the analyzer, or the compact form the interview keeps for
follow-up answers) into one score, one verdict, every red flag with the answer it
was heard in, and the places where the story does not hold together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from leavewell.dialogs.modes import Mode, mode_of

MAIN = "main"  # the question id of the main answer
Verdict = Literal["red_flag", "acceptable", "strong"]

# A gap in the main answer (an improvement id) and the strength that fills it when a
# later answer shows it.
FILLED_BY: Mapping[str, str] = {
    "no_growth": "growth",
    "not_specific": "specific",
    "no_role_link": "role_link",
    "no_results": "results",
    "no_lesson": "lesson",
    "no_proactive_steps": "proactive",
    "no_good_terms": "good_terms",
}
# A strength said in one answer and a red flag said in another that cannot both be
# true: "I left on good terms", then a complaint about the boss.
CONTRADICTIONS: tuple[tuple[str, str], ...] = (
    ("good_terms", "trash_talk"),
    ("good_terms", "blame"),
    ("ownership", "blame"),
)
# The red flag the analyzer raises when an answer describes another exit than the
# situation the candidate declared: the story drifts from what they told us first.
DRIFT = "contradicts_situation"


@dataclass(frozen=True, slots=True)
class Said:
    """One answer of the exchange."""

    question: str  # MAIN, or the follow-up's id
    text: str
    analysis: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Heard:
    """A finding, and where in the exchange it was heard."""

    id: str
    answer: int  # 0: the main answer; n: the n-th follow-up answer
    question: str
    evidence: tuple[str, ...] = ()
    rule: str = ""  # the rule entry and the signal that found it ("Why was this flagged?")
    signal: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "answer": self.answer, "question": self.question,
                "evidence": list(self.evidence), "rule": self.rule, "signal": self.signal}


@dataclass(frozen=True, slots=True)
class Inconsistency:
    id: str  # DRIFT, or "<strength>/<red flag>" from CONTRADICTIONS
    first: Heard | None  # None: what contradicts it is the declared situation itself
    second: Heard

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "first": self.first.to_dict() if self.first else None,
                "second": self.second.to_dict()}


@dataclass(frozen=True, slots=True)
class Exchange:
    score: int
    verdict: Verdict
    main_score: int
    red_flags: tuple[Heard, ...]
    gaps: tuple[Heard, ...]  # the main answer's improvements that no later answer filled
    strengths: tuple[Heard, ...]  # each strength where it was first shown
    filled: tuple[str, ...]  # the main answer's gaps a follow-up answer filled
    inconsistencies: tuple[Inconsistency, ...]
    mode: str
    answers: int

    @property
    def given(self) -> frozenset[str]:
        """What the candidate has already told the interviewer (strength ids)."""
        return frozenset(h.id for h in self.strengths)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "verdict": self.verdict,
            "main_score": self.main_score,
            "red_flags": [h.to_dict() for h in self.red_flags],
            "gaps": [h.to_dict() for h in self.gaps],
            "strengths": [h.to_dict() for h in self.strengths],
            "filled": list(self.filled),
            "inconsistencies": [i.to_dict() for i in self.inconsistencies],
            "mode": self.mode,
            "answers": self.answers,
        }


def _heard(said: Sequence[Said], key: str) -> list[Heard]:
    """Findings under ``key``, with where they were heard and the words quoted."""
    return [
        Heard(str(f["id"]), n, s.question,
              tuple(e["text"] if isinstance(e, dict) else str(e)
                    for e in f.get("evidence", ())),
              str(f.get("rule") or ""), str(f.get("signal") or ""))
        for n, s in enumerate(said) for f in s.analysis.get(key, ())
    ]


SENTENCE_ENDS = ".!?;\n。！？；"
SENTENCE_LIMIT = 160


def sentence_around(text: str, evidence: Mapping[str, Any]) -> str:
    """The sentence of ``text`` that holds the evidence span (at most SENTENCE_LIMIT
    characters around it); the span alone when it does not point into ``text``."""
    start, end = evidence.get("start"), evidence.get("end")
    if not isinstance(start, int) or not isinstance(end, int) \
            or text[start:end] != evidence["text"]:
        return str(evidence["text"])
    floor, ceiling = max(0, start - SENTENCE_LIMIT // 2), min(len(text), end + SENTENCE_LIMIT // 2)
    left = max(floor, *(text.rfind(c, floor, start) + 1 for c in SENTENCE_ENDS))
    ends = [i for i in (text.find(c, end, ceiling) for c in SENTENCE_ENDS) if i >= 0]
    right = min(ends, default=ceiling)
    # A sentence longer than the limit is cut at a word boundary, never inside a word,
    # and the cut is marked so the quote does not read as the whole sentence.
    cut_left = left == floor > 0 and text[left - 1] not in SENTENCE_ENDS
    cut_right = right == ceiling < len(text)
    if cut_left and not text[left - 1].isspace() and " " in text[left:start]:
        left = text.index(" ", left, start) + 1
    if cut_right and not text[right].isspace() and " " in text[end:right]:
        right = text.rindex(" ", end, right)
    quoted = text[left:right].strip()
    if not quoted:
        return str(evidence["text"])
    return ("…" if cut_left else "") + quoted + ("…" if cut_right else "")


def _as_sentence(said: Sequence[Said], heard: Heard, key: str) -> Heard:
    """The finding with its first quote widened to the whole sentence: a contradiction
    reads better as two statements than as two words."""
    answer = said[heard.answer]
    found = next((f for f in answer.analysis.get(key, ()) if f["id"] == heard.id), None)
    spans = found.get("evidence", ()) if found else ()
    if not spans or not isinstance(spans[0], Mapping):
        return heard
    return replace(heard, evidence=(sentence_around(answer.text, spans[0]),))


def _first_of_each(heard: Iterable[Heard]) -> list[Heard]:
    seen: dict[str, Heard] = {}
    for h in heard:
        seen.setdefault(h.id, h)
    return list(seen.values())


def _inconsistencies(said: Sequence[Said], strengths: list[Heard],
                     red_flags: list[Heard]) -> list[Inconsistency]:
    found = [Inconsistency(DRIFT, None, h) for h in red_flags if h.id == DRIFT]
    for strength_id, flag_id in CONTRADICTIONS:
        pair = next(
            ((s, f) for s in strengths if s.id == strength_id and s.evidence
             for f in red_flags if f.id == flag_id and f.answer != s.answer and f.evidence),
            None,
        )
        if pair is not None:
            statements = (_as_sentence(said, pair[0], "strengths"),
                          _as_sentence(said, pair[1], "red_flags"))
            said_first, said_second = sorted(statements, key=lambda h: h.answer)
            found.append(Inconsistency(f"{strength_id}/{flag_id}", said_first, said_second))
    return found


def judge(said: Sequence[Said], mode: Mode | str | None = None) -> Exchange:
    """The whole exchange's score and verdict; ``said[0]`` is the main answer."""
    if not said:
        raise ValueError("an exchange needs at least the main answer")
    mode = mode if isinstance(mode, Mode) else mode_of(mode)
    weigh = mode.weighing
    main = said[0].analysis
    red_flags = _heard(said, "red_flags")
    all_strengths = _heard(said, "strengths")
    strengths = _first_of_each(all_strengths)
    later = {h.id for h in all_strengths if h.answer > 0}
    main_gaps = _heard(said[:1], "improvements")
    filled = [h.id for h in main_gaps if FILLED_BY.get(h.id) in later]
    gaps = [h for h in main_gaps if h.id not in filled]
    inconsistencies = _inconsistencies(said, all_strengths, red_flags)

    main_flags = {h.id for h in red_flags if h.answer == 0}
    new_flags = {h.id for h in red_flags if h.answer > 0} - main_flags
    later_soft = {(h.answer, h.id) for h in _heard(said[1:], "improvements")
                  if h.id in weigh.followup_improvements}
    score = float(main["score"])
    score += weigh.gap_filled * len(filled)
    score -= weigh.followup_red_flag * len(new_flags)
    score -= weigh.inconsistency * sum(1 for i in inconsistencies if i.id != DRIFT)
    score -= weigh.followup_improvement * len(later_soft)
    final = max(0, min(100, round(score)))
    risky = bool(red_flags or inconsistencies)
    if risky:
        final = min(final, weigh.red_flag_cap)
    verdict: Verdict = ("red_flag" if risky
                        else "strong" if final >= weigh.strong_score else "acceptable")
    return Exchange(
        score=final,
        verdict=verdict,
        main_score=int(main["score"]),
        red_flags=tuple(red_flags),
        gaps=tuple(gaps),
        strengths=tuple(strengths),
        filled=tuple(filled),
        inconsistencies=tuple(inconsistencies),
        mode=mode.id,
        answers=len(said),
    )


def compact(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """What the interview keeps of a follow-up answer's analysis: the findings and their
    quoted spans, without the messages (the feedback renders those from the catalog)."""
    return {
        key: [{"id": f["id"], "evidence": [dict(e) for e in f.get("evidence", ())],
               **{k: f[k] for k in ("rule", "signal") if f.get(k)}}
              for f in analysis.get(key, ())]
        for key in ("red_flags", "improvements", "strengths")
    }
