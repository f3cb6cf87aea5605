"""Scoring and assembly of an ``Analysis`` from the signals found in an answer.

Four signals, each traced to the rule that produced it:

* the rule entries of ``scripts/rules/`` (phrases and patterns, ``matcher``), after
  negation, other senses of the same words (``unless``) and suppressions;
* the sentiment lexicon, on statements about the old job (``sentiment``);
* the stated reason and what it means in the situation (``reasons``);
* what is missing, and the length.

Points, ranks and suppressions come from the rule files; nothing here is tuned by hand.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import filterfalse, islice

from leavewell.dialogs.analyzer import reasons as reason_rules
from leavewell.dialogs.analyzer import sentiment, tone
from leavewell.dialogs.analyzer.hanzi import TRAD_TO_SIMP
from leavewell.dialogs.analyzer.matcher import Hits, Matcher, Scan, Span
from leavewell.dialogs.analyzer.rulebook import FindingRule, default_rulebook
from leavewell.dialogs.analyzer.skills import extract_skills
from leavewell.dialogs.findings import (
    Analysis,
    Evidence,
    Finding,
    Kind,
    Signal,
    TraceLine,
    Verdict,
)
from leavewell.dialogs.rubric import EXIT_KINDS, SituationRubric

BASE_SCORE = 80
RED_FLAG_CAP = 60  # an answer with any red flag never scores above this
STRONG_SCORE = 75
# Spoken words (en) or characters (zh) per minute.
SPEAKING_RATE: Mapping[str, float] = {"en": 150.0, "zh": 240.0}
CONCISE_SECONDS = (30.0, 60.0)
MIN_HEDGES = 2
MAX_EVIDENCE = 8  # spans quoted per red flag or hedging finding
MAX_STRENGTH_EVIDENCE = 4  # spans quoted per strength
LEXICON_TAG = "trash_talk~lexicon"
LEXICON_RULE = "trash_talk.lexicon"
TONE_ID = "overall_tone"
TONE_RULE = "overall_tone.model"
OVERRULE_RULE = "overall_tone.overrule"

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
_CJK_RUNS = re.compile(f"[{_CJK}]+")
_ALNUM = re.compile(r"[^\W_]")

BOOK = default_rulebook()
MATCHERS: Mapping[str, Matcher] = {
    "en": Matcher(BOOK.lexicons["en"]),
    "zh": Matcher(BOOK.lexicons["zh"], TRAD_TO_SIMP),
}
LANGS: tuple[str, ...] = tuple(MATCHERS)
# Improvement checks that are about something missing, and the strength that answers each.
ABSENCE_CHECKS: tuple[tuple[str, str], ...] = tuple(
    (f.id, f.absent) for f in BOOK.findings.values() if f.absent is not None
)
RED_FLAGS = BOOK.ids("red_flag")
IMPROVEMENTS = BOOK.ids("improvement")
STRENGTHS = BOOK.ids("strength")


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


def _evidence(text: str, spans: list[Span], limit: int = MAX_EVIDENCE,
              rules: Mapping[Span, str] | None = None) -> tuple[Evidence, ...]:
    """The spans as evidence: trimmed, overlaps joined, at most ``limit``; each names
    the rule that found it (the first rule among joined spans)."""
    out: list[Evidence] = []
    ruled = sorted((span, r) for span, r in rules.items() if r) if rules else []
    first = 0  # ruled spans before ``first`` start before this span and every later one
    for start, end in _merge(spans):
        while first < len(ruled) and ruled[first][0][0] < start:
            first += 1
        rule = ""
        for (a, b), r in ruled[first:]:
            if a > end:
                break  # (sorted by start: so do all that follow)
            if b <= end:
                rule = r
                break
        if text[start] in _TRIM or text[end - 1] in _TRIM:
            while start < end and text[start] in _TRIM:
                start += 1
            while end > start and text[end - 1] in _TRIM:
                end -= 1
            if end <= start:
                continue
        out.append(Evidence(start, end, text[start:end], rule))
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
    # a word counts when it has a letter or digit ("job," "don't" do; "—" "🙂" do not),
    # asked only of the words that are not letters and digits alone
    found = list(map(_ALNUM.search, filterfalse(str.isalnum, words)))
    return cjk + len(words) - found.count(None)


@dataclass(slots=True)
class _Found:
    """What one analysis found, before it becomes findings: spans per finding, the
    rule of each span, how each finding was found, and the trace for ``--explain``."""

    spans: dict[str, list[Span]] = field(default_factory=dict)
    rules: dict[str, dict[Span, str]] = field(default_factory=dict)
    signal: dict[str, Signal] = field(default_factory=dict)
    signals: dict[str, set[Signal]] = field(default_factory=dict)  # every signal that added
    trace: list[TraceLine] = field(default_factory=list)

    def add(self, fid: str, span: Span, rule: str, signal: Signal) -> None:
        self.spans.setdefault(fid, []).append(span)
        self.rules.setdefault(fid, {}).setdefault(span, rule)
        self.note(fid, signal)

    def note(self, fid: str, signal: Signal) -> None:
        self.signal.setdefault(fid, signal)
        self.signals.setdefault(fid, set()).add(signal)

    def withdraw(self, fid: str) -> None:
        for table in (self.spans, self.rules, self.signal, self.signals):
            table.pop(fid, None)


def _variants(rule: FindingRule, hits: Hits) -> Iterable[str]:
    prefix = rule.id + "~"
    return [tag for tag in hits if tag == rule.id or tag.startswith(prefix)]


def _suppressed_by(rule: FindingRule, tag: str, span: Span, hits: Hits,
                   rubric: SituationRubric) -> str | None:
    """The condition of the rule file that cancels this match, if any holds."""
    for condition in rule.suppressed_by.get(tag, ()):
        if condition.check:
            if condition.check in rubric.checks:
                return condition.describe()
        elif condition.before:
            if any(s[0] < span[0] for s in hits.get(condition.tag, ())):
                return condition.describe()
        elif condition.around:
            if any(s[0] < span[1] and span[0] < s[1] for s in hits.get(condition.tag, ())):
                return condition.describe()
        elif hits.get(condition.tag):
            return condition.describe()
    return None


def _rule_red_flags(scan: Scan, rubric: SituationRubric, found: _Found, text: str) -> None:
    """Red flags found by rule entries (phrases, patterns, the lexicon), suppressions
    applied and traced."""
    hits = scan.hits
    present = {tag.split("~")[0] for tag in hits}
    for fid in RED_FLAGS:
        if fid not in present:
            continue
        rule = BOOK.findings[fid]
        if rule.raised_by_reason:
            continue
        precise = [s for tag in _variants(rule, hits) if tag != LEXICON_TAG for s in hits[tag]]
        for tag in _variants(rule, hits):
            for span in hits[tag]:
                if tag == LEXICON_TAG and any(s[0] < span[1] and span[0] < s[1]
                                              for s in precise):
                    continue  # a rule already quotes these words, and more exactly
                origin = scan.rule_of(tag, span)
                signal: Signal = "lexicon" if tag == LEXICON_TAG else "rule"
                why = _suppressed_by(rule, tag, span, hits, rubric)
                if why is not None:
                    found.trace.append(TraceLine(tag, origin, span, text[span[0]:span[1]],
                                                 f"suppressed by {why}"))
                    continue
                found.add(fid, span, origin, signal)


def _contradictions(scan: Scan, rubric: SituationRubric, found: _Found, text: str) -> None:
    """An exit statement contradicts the situation unless its words also state the
    situation's own exit ("let go" for someone let go, which can also mean a layoff)."""
    hits = scan.hits
    # an answer that tells two exits ("I resigned ... HR walked me out") contradicts itself
    quit_spans, fired_spans = hits.get("exit:quit", []), hits.get("exit:fired", [])
    if quit_spans and fired_spans and not any(
        q[0] < f[1] and f[0] < q[1] for q in quit_spans for f in fired_spans
    ):
        for tag, spans in (("exit:quit", quit_spans), ("exit:fired", fired_spans)):
            for span in spans[:1]:
                found.add("contradicts_situation", span, scan.rule_of(tag, span), "rule")
    own = hits.get(f"exit:{rubric.exit}", []) if rubric.exit else []
    for kind in EXIT_KINDS:
        if kind not in rubric.contradicts:
            continue
        tag = f"exit:{kind}"
        for span in hits.get(tag, ()):
            if any(span[0] < o[1] and o[0] < span[1] for o in own):
                continue
            # told after the exit itself ("I was let go ... my current job in maintenance"),
            # it is what came next, not a different story (situations.yaml: may_follow)
            if kind in rubric.may_follow and any(o[1] <= span[0] for o in own):
                found.trace.append(TraceLine(tag, scan.rule_of(tag, span), span,
                                             text[span[0]:span[1]], "a later job"))
                continue
            found.add("contradicts_situation", span, scan.rule_of(tag, span), "rule")


_LANGUAGE_WORDS: Mapping[str, re.Pattern[str]] = {
    "en": re.compile(r"[a-z]{2,}"),
    "zh": re.compile(f"[{_CJK}]"),
}
# An answer dodges the question only if it says something in the language judged:
# text in another language, or no words at all, is handled before analysis.
MIN_WORDS_TO_DODGE = 2


def _reason_findings(reasons: reason_rules.Reasons, rubric: SituationRubric, scan: Scan,
                     found: _Found, low: str, lang: str) -> None:
    """What the stated reason means in this situation (``rules/reasons.yaml``)."""
    table = reason_rules.reason_table()
    headline = reasons.headline
    said = _says_something(low, lang)
    claimed: set[str] = set()  # kinds a combination has judged
    for combo in table.combinations:
        if combo.applies(rubric.id, reasons.stated, scan.hits, headline):
            if reason_rules.NONE in combo.kinds and headline in combo.kinds:
                if not said():
                    continue  # no words in the language judged: nothing is dodged
                if _notes_praise(scan, low, lang):
                    continue
                claimed.add(headline)
            # the finding stands even when the kind said is `none`, which has no words
            found.note(combo.means, "reason")
            found.spans.setdefault(combo.means, [])
            for kind in sorted(combo.kinds & reasons.stated.keys()):
                claimed.add(kind)
                for span in reasons.stated[kind]:
                    found.add(combo.means, span, _first_rule(scan, table.kinds[kind], span),
                              "reason")
            for tag in combo.tags:
                for span in scan.hits.get(tag, ()):
                    found.add(combo.means, span, scan.rule_of(tag, span), "reason")
    if headline in claimed:
        return
    # a `none` row in `meaning` (the older way to declare it) still holds
    if headline in (reason_rules.NONE, "vague") and not reasons.looks_forward and said():
        fid = table.means(rubric.id, reason_rules.NONE, "headline")
        if fid == "ok":
            return
        if _notes_praise(scan, low, lang):
            return
        for span in reasons.stated.get("vague", []):
            found.add(fid, span, _first_rule(scan, table.kinds["vague"], span), "reason")
        found.note(fid, "reason")
        found.spans.setdefault(fid, [])
        return
    for kind, spans in reasons.stated.items():
        if kind in claimed:
            continue
        role = "aside"
        if kind == headline and not (kind in reasons.rated_aside and reasons.looks_forward):
            role = "framed" if "growth" in reasons.stated else "headline"
        fid = table.means(rubric.id, kind, role)
        if fid == "ok" or fid not in BOOK.findings:
            continue
        for span in spans:
            found.add(fid, span, _first_rule(scan, table.kinds[kind], span), "reason")


def _tone(found: _Found, low: str, lang: str) -> None:
    """How the answer reads as a whole (``tone``), judged only when nothing in it was
    flagged: a red flag when it reads like the bad answers, else a trace line."""
    if any(fid in found.spans for fid in RED_FLAGS):
        return
    if not _says_something(low, lang)():
        return
    judgement = tone.judge(low, lang)
    if not judgement.reads_bad:
        found.trace.append(TraceLine(
            TONE_ID, TONE_RULE, (0, 0), "",
            f"log-odds {judgement.log_odds:+.1f}, not above {tone.load(lang).threshold:+.1f}"))
        return
    found.signal[TONE_ID] = "model"
    found.spans.setdefault(TONE_ID, [])
    for span in judgement.evidence:
        found.add(TONE_ID, span, TONE_RULE, "model")


def _overrule(found: _Found, text: str, low: str, lang: str) -> None:
    """A single red flag of a kind the tone model may overrule (``languages.yaml``,
    ``tone.<lang>.overrule``) is withdrawn when the whole answer reads clearly like the
    good ones: one word rule, the sentiment lexicon or a missing reason misreads a trade's
    own words far more often than a whole answer that reads this well is a bad one. The
    trace keeps what was withdrawn and why."""
    flagged = [fid for fid in found.spans if fid in RED_FLAGS]
    if len(flagged) != 1:
        return
    fid = flagged[0]
    _, overrulable = tone.overrule(lang)
    signals = found.signals.get(fid, set())
    if not signals or not signals <= overrulable.get(fid, frozenset()):
        return
    limit = tone.overrule_limit(lang, fid)
    judgement = tone.judge(low, lang)
    if judgement.clarity > limit:
        return
    why = (f"withdrawn: the answer reads like the good ones (log-odds "
           f"{judgement.log_odds:+.1f} over {judgement.seen} sequences, clarity "
           f"{judgement.clarity:+.2f}, at or below {limit:+.2f})")
    for span in found.spans[fid] or [(0, 0)]:
        found.trace.append(TraceLine(fid, OVERRULE_RULE, span, text[span[0]:span[1]], why))
    found.withdraw(fid)


def _says_something(low: str, lang: str) -> Callable[[], bool]:
    """Whether ``low`` has words in the language judged, asked only when it matters (and
    counted only as far as the minimum)."""

    def said() -> bool:
        words = _LANGUAGE_WORDS[lang].finditer(low)
        return sum(1 for _ in islice(words, MIN_WORDS_TO_DODGE)) >= MIN_WORDS_TO_DODGE

    return said


def _notes_praise(scan: Scan, low: str, lang: str) -> bool:
    """Speaking well of the old job is substance, and good terms: its words are kept as
    such. Whether there were any."""
    kind_words = sentiment.praise(low, lang)
    for span in kind_words:
        scan.hits.setdefault("good_terms", []).append(span)
        scan.origins[("good_terms", *span)] = "good_terms.lexicon"
    return bool(kind_words)


def _first_rule(scan: Scan, tags: Iterable[str], span: Span) -> str:
    return next((r for t in tags if (r := scan.rule_of(t, span))), "")


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
    scan = matcher.scan(low)
    hits = scan.hits
    names = matcher.find_names(low, (company, role))
    if names:
        hits.setdefault("role_link", []).extend(names)
    known = [s for tag, spans in hits.items() if tag.startswith(("trash_talk", "blame"))
             for s in spans]
    for judgement in sentiment.judge(low, lang, known):
        hits.setdefault(LEXICON_TAG, []).append(judgement.span)
        scan.origins[(LEXICON_TAG, *judgement.span)] = LEXICON_RULE
    skill_spans, skills = extract_skills(matcher, low, hits)

    found = _Found()
    for tag, span, rule, why in scan.dropped:
        found.trace.append(TraceLine(tag, rule, span, text[span[0]:span[1]], why))
    _rule_red_flags(scan, rubric, found, text)
    _contradictions(scan, rubric, found, text)
    reasons = reason_rules.classify(hits)
    _reason_findings(reasons, rubric, scan, found, low, lang)
    _tone(found, low, lang)
    _overrule(found, text, low, lang)

    def finding(fid: str, kind: Kind, spans: list[Span] | None = None) -> Finding:
        signal = found.signal.get(fid, "rule" if spans else "absence")
        if not spans:
            return Finding(fid, kind, messages[fid], (), "", signal)
        limit = MAX_STRENGTH_EVIDENCE if kind == "strength" else MAX_EVIDENCE
        evidence = _evidence(text, spans, limit, found.rules.get(fid)
                             or {s: scan.rule_of(fid, s) for s in spans})
        return Finding(fid, kind, messages[fid], evidence,
                       next((e.rule for e in evidence if e.rule), ""), signal)

    red_flags = tuple(
        finding(fid, "red_flag", found.spans[fid])
        for fid in RED_FLAGS if fid in found.spans
    )

    strength_spans: dict[str, list[Span]] = {
        sid: list(hits.get(sid, ())) for sid in STRENGTHS if sid != "concise"
    }
    strength_spans["specific"] += skill_spans
    # a stated growth reason looks forward, whatever words said it ("more big platform")
    strength_spans["growth"] += hits.get("reason:growth", [])
    for sid, spans in strength_spans.items():
        for span in spans:
            found.rules.setdefault(sid, {}).setdefault(span, scan.rule_of(sid, span)
                                                      or scan.rule_of("skill", span))

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
        if strength_spans.get(strength):
            strengths[strength] = finding(strength, "strength", strength_spans[strength])
        elif check in checks:
            improvements[check] = finding(check, "improvement")
    if strength_spans["ownership"]:
        strengths["ownership"] = finding("ownership", "strength", strength_spans["ownership"])
    low_s, high_s = CONCISE_SECONDS
    if seconds > high_s and "too_long" in checks:
        improvements["too_long"] = Finding("too_long", "improvement", messages["too_long"],
                                           signal="length")
    elif seconds < low_s and "too_short" in checks:
        improvements["too_short"] = Finding("too_short", "improvement", messages["too_short"],
                                            signal="length")
    elif low_s <= seconds <= high_s:
        strengths["concise"] = Finding("concise", "strength", messages["concise"],
                                       signal="length")
    hedges = _merge(hits.get("hedge", ()))
    if len(hedges) >= MIN_HEDGES and "hedging" in checks:
        found.rules["hedging"] = {s: scan.rule_of("hedge", s) for s in hedges}
        improvements["hedging"] = finding("hedging", "improvement", hedges)
    for fid in IMPROVEMENTS:  # raised by the reason (pay as an aside)
        if fid in found.spans and fid not in improvements:
            improvements[fid] = finding(fid, "improvement", found.spans[fid])

    score = float(BASE_SCORE)
    score -= sum(BOOK.findings[f.id].points for f in red_flags)
    score -= sum(BOOK.findings[i].points * rubric.weight(i) for i in improvements)
    score += sum(BOOK.findings[s].points for s in strengths)
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
        improvements=tuple(improvements[i] for i in IMPROVEMENTS if i in improvements),
        strengths=tuple(strengths[s] for s in STRENGTHS if s in strengths),
        word_count=word_count,
        speaking_seconds=seconds,
        voice=voice,
        skills=skills,
        reason=reasons.headline,
        reasons_stated=tuple(reasons.stated),
        trace=tuple(found.trace),
    )
