"""How the answer reads as a whole: a word-pattern model learned from labelled answers.

The rule entries find what an interviewer can point at (an insult, pay as the headline,
a dodge). Many weak answers have nothing to point at: they narrate without a reason,
sound bored or evasive in polite words, or escape rather than move toward something.
Those share word patterns with each other more than with good answers, and a Bernoulli
naive Bayes over short word sequences (characters in Chinese) learns them from answers
labelled good or bad. It is deterministic (the weights are data, in
``scripts/tone/<lang>.json``), explainable (the sequences that weigh most toward a bad
answer are quoted as evidence) and cheap (a dictionary lookup per sequence).

The weights are fitted by ``bench/train_tone.py`` on the project's own labelled sets
(``bench/data``), never on ``../shared/eval`` which stays out of sight to measure it.
An answer's log-odds is the prior plus the weight of every distinct sequence it has;
above the threshold it reads like the bad answers.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import chain, pairwise, repeat
from pathlib import Path

from leavewell.dialogs.errors import ScriptError

Span = tuple[int, int]

MODEL_DIR = Path(__file__).resolve().parent.parent / "scripts" / "tone"
LABELS = ("bad", "good")
LANGS = ("en", "zh")
MAX_N = 3  # the longest sequence: words in English, characters in Chinese
ALPHA = 0.5  # additive smoothing of each sequence's share of the answers of a label
MIN_COUNT = 2  # a sequence seen in fewer answers is one writer's wording: left out
MAX_QUOTED = 3  # sequences quoted as evidence

_EN_WORD = re.compile(r"[a-z']+|\d+")
# Chinese is read a character at a time; spaces and punctuation end nothing (a sequence
# runs across them, as it is spoken) but are never part of one.
_ZH_SKIP = frozenset(" \t\n，。、！？；：“”‘’（）,.!?;:()'\"…—-")


@dataclass(frozen=True, slots=True)
class ToneModel:
    lang: str
    prior: float  # log of bad answers over good ones in the training data
    weights: Mapping[str, float]  # sequence -> log-odds it adds when present
    answers: Mapping[str, int]  # training answers per label
    # log-odds above which the answer reads as bad: languages.yaml, `tone`
    threshold: float = 0.0
    # the weights keyed for the hot path (``_Table``): built on first use
    keyed: _Table | None = field(default=None, init=False, repr=False, compare=False)

    def table(self) -> _Table:
        table = self.keyed
        if table is None:
            table = _Table.of(self.weights, self.lang)
            object.__setattr__(self, "keyed", table)  # a cache: the model is unchanged
        return table

    def to_json(self) -> str:
        body = {
            "lang": self.lang,
            "prior": round(self.prior, 6),
            "answers": dict(sorted(self.answers.items())),
            "weights": {k: round(v, 4) for k, v in sorted(self.weights.items())},
        }
        return json.dumps(body, ensure_ascii=False, indent=0, sort_keys=False) + "\n"


@dataclass(frozen=True, slots=True)
class ToneJudgement:
    log_odds: float
    reads_bad: bool
    evidence: tuple[Span, ...]  # the sequences quoted, in the answer's order
    sequences: tuple[tuple[str, float], ...]  # what weighed most, each way (for --explain)
    # distinct sequences in the answer, known to the model or not
    seen: int = 1

    @property
    def clarity(self) -> float:
        """The log-odds over the square root of the sequences seen: how clearly the
        answer reads one way whatever its length. A sum of per-sequence weights grows with
        the answer, so a raw log-odds limit could only ever be reached by long answers; a
        short answer that reads as clearly good scores as far from zero here as a long
        one."""
        return self.log_odds / math.sqrt(max(1, self.seen))


def _units(low: str, lang: str) -> list[tuple[str, int, int]]:
    if lang == "zh":
        return [(c, i, i + 1) for i, c in enumerate(low) if c not in _ZH_SKIP]
    return [(m.group(), m.start(), m.end()) for m in _EN_WORD.finditer(low)]


def _split(seq: str, lang: str) -> list[str]:
    return list(seq) if lang == "zh" else seq.split(" ")


_ZH_DELETE = dict.fromkeys(map(ord, _ZH_SKIP))


def _plain_units(low: str, lang: str) -> list[str]:
    return list(low.translate(_ZH_DELETE)) if lang == "zh" else _EN_WORD.findall(low)


# A unit by its id (an int), a sequence of two or three by the tuple of their ids
Key = int | tuple[int | str, ...]
assert MAX_N == 3  # _Table.answer builds the sequences of one, two and three units


@dataclass(frozen=True, slots=True)
class _Table:
    """The model's sequences keyed for the hot path, which looks several hundred of them
    up per answer: the keys are built by ``map`` and ``zip`` inside C, not a Python loop,
    and each distinct weight is one shared object (a few thousand of them for 100,000
    sequences), so the sum reads weights that stay in the CPU's caches."""

    ids: Mapping[str, int]  # every unit of a weighted sequence -> its id, from 1
    weights: Mapping[Key, float]
    texts: Mapping[Key, str]  # a key -> its sequence

    @classmethod
    def of(cls, weights: Mapping[str, float], lang: str) -> _Table:
        ids: dict[str, int] = {}
        keyed: dict[Key, float] = {}
        texts: dict[Key, str] = {}
        shared: dict[float, float] = {}
        for seq, weight in weights.items():
            units = tuple(ids.setdefault(unit, len(ids) + 1) for unit in _split(seq, lang))
            key: Key = units[0] if len(units) == 1 else units
            keyed[key] = shared.setdefault(weight, weight)
            texts[key] = seq
        return cls(ids, keyed, texts)

    def answer(self, low: str, lang: str) -> tuple[set[Key | str], set[Key], set[Key]]:
        """The distinct sequences of one, two and three units (``MAX_N``) in ``low`` as
        keys. A unit the model does not know stands for itself (its text), so sequences
        with it are told apart (they are counted as seen) and never found in the table."""
        words = _plain_units(low, lang)
        units: list[int | str] = list(map(self.ids.get, words, words))
        return (set(units), set(pairwise(units)),
                set(zip(units, units[1:], units[2:], strict=False)))


def _keys(low: str, lang: str) -> set[str]:
    """Every distinct sequence of one to three units, as text (``sequences`` without the
    spans; the tests compare the two)."""
    u = _plain_units(low, lang)
    joiner = "" if lang == "zh" else " "
    return {joiner.join(u[i:i + n]) for n in range(1, MAX_N + 1) for i in range(len(u) - n + 1)}


def sequences(low: str, lang: str) -> dict[str, Span]:
    """Every sequence of one to ``MAX_N`` units in ``low`` (lower-cased, folded), each
    with the span of its first occurrence."""
    units = _units(low, lang)
    joiner = "" if lang == "zh" else " "
    found: dict[str, Span] = {}
    for i in range(len(units)):
        for n in range(1, MAX_N + 1):
            if i + n > len(units):
                break
            part = units[i:i + n]
            key = joiner.join(u[0] for u in part)
            if key not in found:
                found[key] = (part[0][1], part[-1][2])
    return found


def fit(answers: Iterable[tuple[str, str]], lang: str, threshold: float = 0.0) -> ToneModel:
    """A model from ``(lower-cased answer, label)`` pairs, labels ``good`` or ``bad``."""
    present: dict[str, Counter[str]] = {label: Counter() for label in LABELS}
    totals: Counter[str] = Counter()
    for low, label in answers:
        if label not in present:
            continue
        present[label].update(sequences(low, lang).keys())
        totals[label] += 1
    if not all(totals[label] for label in LABELS):
        raise ValueError(f"{lang}: need answers labelled both good and bad")
    bad, good = present["bad"], present["good"]
    weights: dict[str, float] = {}
    for seq in bad.keys() | good.keys():
        if bad[seq] + good[seq] < MIN_COUNT:
            continue
        share_bad = (bad[seq] + ALPHA) / (totals["bad"] + 2 * ALPHA)
        share_good = (good[seq] + ALPHA) / (totals["good"] + 2 * ALPHA)
        weights[seq] = math.log(share_bad / share_good)
    return ToneModel(lang, math.log(totals["bad"] / totals["good"]), weights, dict(totals),
                     threshold)


def judge(low: str, lang: str, model: ToneModel | None = None, *,
          detail: bool = False) -> ToneJudgement:
    """The log-odds that ``low`` reads like the bad answers. What weighed most, and the
    spans to quote, are worked out only when it does (or with ``detail``)."""
    model = model or load(lang)
    table = model.table()
    weights = table.weights
    ones, twos, threes = table.answer(low, lang)
    seen = len(ones) + len(twos) + len(threes)
    # fsum: the exact sum, whatever order the sets give the weights in (replayable)
    log_odds = model.prior + math.fsum(chain(
        map(weights.get, ones, repeat(0.0)), map(weights.get, twos, repeat(0.0)),
        map(weights.get, threes, repeat(0.0))))
    reads_bad = log_odds > model.threshold
    if not (reads_bad or detail):
        return ToneJudgement(round(log_odds, 4), False, (), (), seen)
    texts = table.texts
    scored = sorted(((w, texts[key]) for key in chain(ones, twos, threes)
                     if (w := weights.get(key)) is not None),
                    key=lambda t: (-t[0], t[1]))  # ties alphabetical: replayable
    weighed = (*scored[:MAX_QUOTED], *[t for t in scored[::-1][:MAX_QUOTED] if t[0] < 0])
    quoted: list[Span] = []
    if reads_bad:
        spans = sequences(low, lang)
        for w, seq in scored:
            if w <= 0 or len(quoted) == MAX_QUOTED:
                break
            span = spans[seq]
            if not any(span[0] < q[1] and q[0] < span[1] for q in quoted):
                quoted.append(span)
    return ToneJudgement(round(log_odds, 4), reads_bad, tuple(sorted(quoted)),
                         tuple((seq, round(w, 2)) for w, seq in weighed), seen)


def _parse(data: object, lang: str, threshold: float, where: str) -> ToneModel:
    if not isinstance(data, Mapping) or data.get("lang") != lang:
        raise ScriptError(f"{where}: must be the tone model of {lang!r}")
    try:
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        answers = {str(k): int(v) for k, v in data["answers"].items()}
        return ToneModel(lang, float(data["prior"]), weights, answers, threshold)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ScriptError(f"{where}: {exc!r}") from None


def threshold(lang: str) -> float:
    """The declared threshold (``languages.yaml``, ``tone``) of ``lang``."""
    from leavewell.dialogs.analyzer.rulebook import default_rulebook

    entry = default_rulebook().tone.get(lang)
    value = entry.get("threshold") if isinstance(entry, Mapping) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ScriptError(f"languages.yaml: tone.{lang}.threshold: must be a number")
    return float(value)


# Limits tried by bench/train_tone.py --overrule (through calibrate --overrule-limit);
# empty in normal use, where the declared limit applies.
limit_overrides: dict[str, float] = {}


def overrule(lang: str) -> tuple[float, Mapping[str, frozenset[str]]]:
    """The clarity (``ToneJudgement.clarity``) at or below which the answer reads clearly
    like the good ones, and the findings (with the signals that may have raised them) such
    a reading withdraws when one is the answer's only red flag (``languages.yaml``,
    ``tone.<lang>.overrule``; none declared: nothing is withdrawn)."""
    limit, findings, _ = _overrule(lang)
    return limit_overrides.get(lang, limit), findings


def overrule_limit(lang: str, finding: str) -> float:
    """The limit that withdraws ``finding``: its own (``overrule.limits``) or the shared
    one; a limit given for trials (``limit_overrides``) stands for every finding."""
    limit, _, own = _overrule(lang)
    return limit_overrides.get(lang, own.get(finding, limit))


def _number(value: object, where: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ScriptError(f"{where}: must be a number")
    return float(value)


@cache
def _overrule(lang: str) -> tuple[float, Mapping[str, frozenset[str]], Mapping[str, float]]:
    from leavewell.dialogs.analyzer.rulebook import default_rulebook

    entry = default_rulebook().tone.get(lang)
    spec = entry.get("overrule") if isinstance(entry, Mapping) else None
    if spec is None:
        return -math.inf, {}, {}
    where = f"languages.yaml: tone.{lang}.overrule"
    if not isinstance(spec, Mapping):
        raise ScriptError(f"{where}: must give `limit` and `findings`")
    limit = _number(spec.get("limit"), f"{where}.limit")
    findings = spec.get("findings")
    if not isinstance(findings, Mapping) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in findings.values()
    ):
        raise ScriptError(f"{where}.findings: must map a finding to its signals")
    own = spec.get("limits") or {}
    if not isinstance(own, Mapping):
        raise ScriptError(f"{where}.limits: must map a finding to its limit")
    limits = {str(k): _number(v, f"{where}.limits.{k}") for k, v in own.items()}
    if unknown := sorted(set(limits) - set(findings)):
        raise ScriptError(f"{where}.limits: {', '.join(unknown)} may not be overruled")
    return limit, {str(k): frozenset(v) for k, v in findings.items()}, limits


_IN_USE: dict[str, ToneModel] = {}


def use(model: ToneModel) -> None:
    """Judge ``model.lang`` with ``model`` from now on (cross-validation fits one per
    fold; ``threshold=inf`` turns the signal off)."""
    _IN_USE[model.lang] = model


def load(lang: str) -> ToneModel:
    model = _IN_USE.get(lang)
    if model is None:
        model = _IN_USE[lang] = _load(lang)
    return model


@cache
def _load(lang: str) -> ToneModel:
    path = MODEL_DIR / f"{lang}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ScriptError(f"{path.name}: cannot read the tone model ({exc})") from None
    return _parse(data, lang, threshold(lang), path.name)
