"""Scoring and assembly of an ``Analysis`` from the raw matches of the rules.

The rule tables live in ``lexicon_en`` / ``lexicon_zh`` and are compiled once, at
import, by ``matcher.Matcher``; this module gives the tags their meaning (which hits
make which finding, what suppresses what) and computes the score and verdict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from itertools import filterfalse

from dialogs.analyzer import lexicon_en, lexicon_zh
from dialogs.analyzer.hanzi import TRAD_TO_SIMP
from dialogs.analyzer.matcher import Hits, Matcher, Span
from dialogs.analyzer.skills import extract_skills
from dialogs.findings import (
    IMPROVEMENT_IDS,
    RED_FLAG_IDS,
    STRENGTH_IDS,
    Analysis,
    Evidence,
    Finding,
    Kind,
    Verdict,
)
from dialogs.rubric import EXIT_KINDS, SituationRubric

# -- tuning (all in one place) ---------------------------------------------------------

BASE_SCORE = 80
RED_FLAG_CAP = 60  # an answer with any red flag never scores above this
RED_FLAG_PENALTY: Mapping[str, int] = {
    "trash_talk": 35,
    "blame": 35,
    "contradicts_situation": 30,
    "evasive": 30,
    "money_headline": 25,
    "workload_complaint": 25,
    "oversharing": 25,
}
IMPROVEMENT_PENALTY: Mapping[str, float] = {
    "no_growth": 7,
    "not_specific": 5,
    "no_role_link": 5,
    "no_results": 4,
    "no_lesson": 8,
    "no_proactive_steps": 6,
    "no_good_terms": 4,
    "too_long": 6,
    "too_short": 6,
    "hedging": 5,
}
STRENGTH_BONUS: Mapping[str, int] = {
    "growth": 4,
    "specific": 4,
    "role_link": 4,
    "results": 4,
    "lesson": 4,
    "proactive": 3,
    "good_terms": 3,
    "ownership": 3,
    "concise": 4,
}
STRONG_SCORE = 75
# Spoken words (en) or characters (zh) per minute.
SPEAKING_RATE: Mapping[str, float] = {"en": 150.0, "zh": 240.0}
CONCISE_SECONDS = (30.0, 60.0)
MIN_HEDGES = 2
MAX_EVIDENCE = 8  # spans quoted per red flag or hedging finding
MAX_STRENGTH_EVIDENCE = 4  # spans quoted per strength

# Improvement checks that are about something missing, and the strength that answers each.
ABSENCE_CHECKS: tuple[tuple[str, str], ...] = (
    ("no_growth", "growth"),
    ("not_specific", "specific"),
    ("no_role_link", "role_link"),
    ("no_results", "results"),
    ("no_lesson", "lesson"),
    ("no_proactive_steps", "proactive"),
    ("no_good_terms", "good_terms"),
)
# The exit a declared situation itself implies. An exit statement whose words also state
# this one (e.g. "let go" for someone let go, which can also mean a layoff) is no
# contradiction.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_RUNS = re.compile(f"[{_CJK}]+")
_ALNUM = re.compile(r"[^\W_]")
_PUNCT = "\"'“”‘’.,;:!?()[]{}<>-–—…/*&#@%"

MATCHERS: Mapping[str, Matcher] = {
    "en": Matcher(lexicon_en.LEXICON),
    "zh": Matcher(lexicon_zh.LEXICON, TRAD_TO_SIMP),
}
LANGS: tuple[str, ...] = tuple(MATCHERS)


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, overlapping spans joined."""
    out: list[Span] = []
    last = -1
    for start, end in sorted(spans):
        if start < last:
            if end > last:
                out[-1] = (out[-1][0], end)
                last = end
        else:
            out.append((start, end))
            last = end
    return out


_TRIM = frozenset(" .,;:!?\t\n\r\u00a0\u3000，。；：！？")


def _evidence(text: str, spans: list[Span], limit: int = MAX_EVIDENCE) -> tuple[Evidence, ...]:
    """The spans as evidence: trimmed, overlaps joined, at most ``limit``."""
    out: list[Evidence] = []
    for start, end in _merge(spans):
        if text[start] in _TRIM or text[end - 1] in _TRIM:
            while start < end and text[start] in _TRIM:
                start += 1
            while end > start and text[end - 1] in _TRIM:
                end -= 1
            if end <= start:
                continue
        out.append(Evidence(start, end, text[start:end]))
        if len(out) >= limit:
            break
    return tuple(out)


# -- assembly --------------------------------------------------------------------------


def count_words(text: str) -> int:
    """Latin words plus CJK characters (each CJK character counts as one word)."""
    cjk = 0
    if _HAS_CJK.search(text):
        cjk = sum(map(len, _CJK_RUNS.findall(text)))
        text = _CJK_RUNS.sub(" ", text)
    words = text.split()
    count = len(words)
    for word in filterfalse(str.isalnum, words):  # "job," "don't" "—" "🙂"
        core = word.strip(_PUNCT)
        if not core or not (core.isalnum() or _ALNUM.search(core)):
            count -= 1
    return cjk + count


def _red_flags(hits: Hits, rubric: SituationRubric, positive_start: int) -> dict[str, list[Span]]:
    """Spans of each red flag, after the context rules:

    * mild criticism (``trash_talk~soft``) is forgiven when the candidate also owns a
      mistake; insults are not;
    * money is the headline only when it comes before any growth or specific content,
      or when it is a complaint about pay;
    * performance facts (``oversharing~perf``) are expected when the answer is framed
      by a lesson or ownership, or when the situation itself asks for a lesson;
    * an exit statement contradicts the situation unless its words also state the
      situation's own exit.
    """
    ownership = bool(hits.get("ownership"))
    framed = ownership or bool(hits.get("lesson")) or "no_lesson" in rubric.checks
    money = list(hits.get("money_headline~complaint", ()))
    money += [s for s in hits.get("money_headline~want", ()) if s[0] < positive_start]
    own = hits.get(f"exit:{rubric.exit}", []) if rubric.exit else []
    contradiction = [
        span
        for kind in EXIT_KINDS
        if kind in rubric.contradicts
        for span in hits.get(f"exit:{kind}", ())
        # words that also state the declared exit ("were let go") are not a contradiction
        if not any(span[0] < o[1] and o[0] < span[1] for o in own)
    ]
    return {
        "trash_talk": hits.get("trash_talk", [])
        + ([] if ownership else hits.get("trash_talk~soft", [])),
        "blame": hits.get("blame", []),
        "money_headline": money,
        "workload_complaint": hits.get("workload_complaint", []),
        "oversharing": hits.get("oversharing", [])
        + ([] if framed else hits.get("oversharing~perf", [])),
        "evasive": hits.get("evasive", []),
        "contradicts_situation": contradiction,
    }


def analyze(
    text: str,
    *,
    lang: str,
    rubric: SituationRubric,
    messages: Mapping[str, str],
    voice_seconds: float | None = None,
    role: str | None = None,
    company: str | None = None,
) -> Analysis:
    if lang not in MATCHERS:
        raise ValueError(f"unsupported answer language {lang!r}; expected one of {LANGS}")
    matcher = MATCHERS[lang]
    text = text if isinstance(text, str) else str(text)
    low = matcher.normalize(text)
    hits = matcher.scan(low)
    names = matcher.find_names(low, (company, role))
    if names:
        hits.setdefault("role_link", []).extend(names)
    skill_spans, skills = extract_skills(matcher, low, hits)

    strength_spans: dict[str, list[Span]] = {
        sid: list(hits.get(sid, ())) for sid in STRENGTH_IDS if sid != "concise"
    }
    strength_spans["specific"] += skill_spans
    positive_start = min(
        (s[0] for sid in ("growth", "specific") for s in strength_spans[sid]),
        default=len(low) + 1,
    )

    def finding(fid: str, kind: Kind, spans: list[Span] | None = None) -> Finding:
        if not spans:
            return Finding(fid, kind, messages[fid])
        limit = MAX_STRENGTH_EVIDENCE if kind == "strength" else MAX_EVIDENCE
        return Finding(fid, kind, messages[fid], _evidence(text, spans, limit))

    red = _red_flags(hits, rubric, positive_start)
    red_flags = tuple(finding(fid, "red_flag", red[fid]) for fid in RED_FLAG_IDS if red[fid])

    word_count = count_words(text)
    voice = voice_seconds is not None
    if voice_seconds is not None and math.isfinite(voice_seconds) and voice_seconds >= 0:
        seconds = float(voice_seconds)
    else:  # no (usable) duration: estimate it from the text
        seconds = word_count * 60.0 / SPEAKING_RATE[lang]
    seconds = round(seconds, 1)

    improvements: dict[str, Finding] = {}
    strengths: dict[str, Finding] = {}
    checks = rubric.checks
    for check, strength in ABSENCE_CHECKS:
        if strength_spans[strength]:
            strengths[strength] = finding(strength, "strength", strength_spans[strength])
        elif check in checks:
            improvements[check] = finding(check, "improvement")
    if strength_spans["ownership"]:
        strengths["ownership"] = finding("ownership", "strength", strength_spans["ownership"])
    low_s, high_s = CONCISE_SECONDS
    if seconds > high_s and "too_long" in checks:
        improvements["too_long"] = finding("too_long", "improvement")
    elif seconds < low_s and "too_short" in checks:
        improvements["too_short"] = finding("too_short", "improvement")
    elif low_s <= seconds <= high_s:
        strengths["concise"] = finding("concise", "strength")
    hedges = _merge(hits.get("hedge", ()))
    if len(hedges) >= MIN_HEDGES and "hedging" in checks:
        improvements["hedging"] = finding("hedging", "improvement", hedges)

    score = float(BASE_SCORE)
    score -= sum(RED_FLAG_PENALTY[f.id] for f in red_flags)
    score -= sum(IMPROVEMENT_PENALTY[i] * rubric.weight(i) for i in improvements)
    score += sum(STRENGTH_BONUS[s] for s in strengths)
    final = max(0, min(100, round(score)))
    if red_flags:
        final = min(final, RED_FLAG_CAP)
    verdict: Verdict = (
        "red_flag" if red_flags else "strong" if final >= STRONG_SCORE else "acceptable"
    )
    return Analysis(
        lang=lang,
        situation=rubric.id,
        verdict=verdict,
        score=final,
        red_flags=red_flags,
        improvements=tuple(improvements[i] for i in IMPROVEMENT_IDS if i in improvements),
        strengths=tuple(strengths[s] for s in STRENGTH_IDS if s in strengths),
        word_count=word_count,
        speaking_seconds=seconds,
        voice=voice,
        skills=skills,
    )
