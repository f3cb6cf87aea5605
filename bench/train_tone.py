"""Fit the tone model (dialogs/analyzer/tone.py) on the project's own labelled sets.

    python bench/train_tone.py            # write dialogs/scripts/tone/<lang>.json
    python bench/train_tone.py --check    # exit 1 if the shipped files differ from a fit
    python bench/train_tone.py --loso     # leave-one-set-out figures of the model alone

Only our own sets (``calibrate.OUR_SETS``, in ``bench/data``) are used: answers written for
the project. The answers in ``../shared/eval`` are never fitted on, so every one of them is
unseen by the model.
``--loso`` fits on all sets but one and scores the one left out, for each set: the
model's own generalisation across writers (agreement / bad caught / false alarms), with
the threshold that suits the model alone, fitted on the other sets too.

``--spread`` prints the held-out figures of the eval set with the model fitted on all our
sets but one, for each set (a report of how much the result depends on the data; nothing
is chosen from it).

``--pick`` prints how the rules and the model agree together for each threshold, on two
parts the model was not fitted on: each of our sets scored by a model fitted on the
others, with the rules minus that set's own lessons (``calibrate.py --history``), and the
development part of ``../shared/eval`` with the current rules. The threshold declared in
``rules/languages.yaml`` (``tone``) is the best mean of the two; the held-out part of the
eval set plays no part in it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT, ROOT / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import calibrate  # noqa: E402

from leavewell.dialogs.analyzer import tone  # noqa: E402
from leavewell.dialogs.analyzer.analysis import MATCHERS  # noqa: E402

DATA = ROOT / "bench" / "data"
LANGS = ("en", "zh")


def our_sets() -> list[Path]:
    """The sets the rules are developed on (``calibrate.OUR_SETS``): one list for both."""
    return list(calibrate.OUR_SETS)


def read(paths: Iterable[Path]) -> list[tuple[str, str, str, str]]:
    """(set, lang, lower-cased answer, label) of every good or bad answer."""
    return [(Path(i.file).stem, i.lang, MATCHERS[i.lang].normalize(i.answer), i.label)
            for i in calibrate.load_items(paths)
            if i.label in tone.LABELS and i.lang in LANGS]


Row = tuple[str, str, str, str]
THRESHOLDS = tuple(float(t) for t in range(-30, 21))


def fit_on(rows: list[Row], lang: str, threshold: float = 0.0) -> tone.ToneModel:
    """The tone model of one language fitted on these rows (calibrate's --tone-without
    fits one per left-out set with it)."""
    return tone.fit(((low, label) for _, lg, low, label in rows if lg == lang), lang,
                    threshold)


def held_out_scores(rows: list[Row], lang: str) -> list[tuple[float, str]]:
    """The log-odds of each answer under a model fitted on the other sets."""
    scores = []
    for held in sorted({s for s, lg, _, _ in rows if lg == lang}):
        model = fit_on([r for r in rows if r[0] != held], lang)
        scores += [(tone.judge(low, lang, model).log_odds, label)
                   for s, lg, low, label in rows if lg == lang and s == held]
    return scores


def best_threshold(scores: list[tuple[float, str]]) -> float:
    """The threshold that agrees best with the labels; of equals, the fewest false
    alarms (the highest)."""
    def agreement(t: float) -> tuple[int, float]:
        return sum((x > t) == (label == "bad") for x, label in scores), t
    return max(THRESHOLDS, key=agreement)


def fit_all(rows: list[Row]) -> dict[str, tone.ToneModel]:
    """The weights, from every set (the threshold is declared in languages.yaml)."""
    return {lang: fit_on(rows, lang) for lang in LANGS}


def loso(rows: list[Row]) -> None:
    print("tone model alone, leave-one-set-out: weights and its own best threshold fitted "
          "on the other sets (agree / bad caught / false alarms)")
    for lang in LANGS:
        total = {"bad": 0, "good": 0, "bad_hit": 0, "good_hit": 0}
        for held in sorted({s for s, lg, _, _ in rows if lg == lang}):
            inner = [r for r in rows if r[0] != held]
            model = fit_on(inner, lang, best_threshold(held_out_scores(inner, lang)))
            counts = {"bad": 0, "good": 0, "bad_hit": 0, "good_hit": 0}
            for s, lg, low, label in rows:
                if lg == lang and s == held:
                    counts[label] += 1
                    counts[label + "_hit"] += tone.judge(low, lang, model).reads_bad
            for key in total:
                total[key] += counts[key]
            print(f"  {lang} {held:8s} {_figures(counts)}  threshold {model.threshold:+.0f}")
        print(f"  {lang} all      {_figures(total)}")


def pick(rows: list[Row]) -> None:
    ids = [(i.file, i.id) for i in calibrate.load_items(our_sets())
           if i.label in tone.LABELS and i.lang in LANGS]
    assert len(ids) == len(rows)
    eval_items = [i for i in calibrate.load_items(sorted(calibrate.EVAL_DIR.glob("*.jsonl")))
                  if i.side == "development" and i.label in tone.LABELS and i.lang in LANGS]
    eval_red = calibrate.rule_verdicts(eval_items)
    print("threshold: agreement of rules + model on our sets (left out) / eval development "
          "part / mean")
    for lang in LANGS:
        ours: list[tuple[str, bool, float]] = []
        for held in sorted({s for s, lg, _, _ in rows if lg == lang}):
            red = calibrate.history_verdicts(DATA / f"{held}.jsonl")
            if red is None:
                continue
            model = fit_on([r for r in rows if r[0] != held], lang)
            ours += [(label, red[ids[k][1]], tone.judge(low, lang, model).log_odds)
                     for k, (s, lg, low, label) in enumerate(rows) if lg == lang and s == held]
        model = fit_on(rows, lang)
        theirs = [(i.label, eval_red[i.id], tone.judge(MATCHERS[lang].normalize(i.answer),
                                                       lang, model).log_odds)
                  for i in eval_items if i.lang == lang]
        best = max(THRESHOLDS, key=lambda t: (_agree(ours, t) + _agree(theirs, t), t))
        for t in THRESHOLDS[THRESHOLDS.index(-10.0):]:
            a, b = _agree(ours, t), _agree(theirs, t)
            mark = ("  <- best" if t == best else "") + (
                "  <- declared" if t == tone.threshold(lang) else "")
            print(f"  {lang} {t:+5.0f}  {a:6.1%} {b:6.1%} {(a + b) / 2:6.1%}{mark}")


# Clarity limits tried (ToneJudgement.clarity: log-odds over the root of the sequences).
LIMITS = tuple(t / 4 for t in range(-32, -3))
# A caught bad answer given up weighs this many false alarms withdrawn when a limit is
# picked: an answer called acceptable that is not teaches the candidate to say it.
COST_OF_A_MISS = 4


# A finding gets a limit of its own when at least this many of its false alarms could be
# withdrawn; the others share the limit picked on all of them.
MIN_OWN = 20

Candidate = tuple[str, str, float]  # (finding, label, clarity) of an overrulable answer


def _limit_score(candidates: list[Candidate], limit: float) -> int:
    withdrawn = [label for _, label, x in candidates if x <= limit]
    return withdrawn.count("good") - COST_OF_A_MISS * withdrawn.count("bad")


def best_limit(candidates: list[Candidate]) -> float:
    """The limit that withdraws most false alarms for the caught bad answers it gives up
    (``COST_OF_A_MISS``); of equals, the strictest."""
    return max(LIMITS, key=lambda t: (_limit_score(candidates, t), -t))


def best_limits(candidates: list[Candidate]) -> tuple[float, dict[str, float]]:
    """The shared limit, and the limits of the findings with enough false alarms of their
    own to pick one (``MIN_OWN``)."""
    own: dict[str, float] = {}
    for finding in sorted({f for f, _, _ in candidates}):
        mine = [c for c in candidates if c[0] == finding]
        if sum(label == "good" for _, label, _ in mine) >= MIN_OWN:
            own[finding] = best_limit(mine)
    return best_limit(candidates), own


def _withdrawn(candidates: list[Candidate], shared: float,
               own: dict[str, float]) -> tuple[int, int]:
    out = [label for f, label, x in candidates if x <= own.get(f, shared)]
    return out.count("good"), out.count("bad")


def overrule_table(rows: list[Row]) -> None:
    """How many false alarms each overrule limit withdraws, and how many caught bad
    answers it gives up, on our sets: each scored with the rules minus its own lessons
    (``calibrate.py --history``) and the clarity under a model fitted without it; then the
    findings with limits of their own. Last, the limits cross-validated by set: picked
    (``best_limits``) on the other sets, applied to the one left out."""
    ids = [(i.file, i.id) for i in calibrate.load_items(our_sets())
           if i.label in tone.LABELS and i.lang in LANGS]
    assert len(ids) == len(rows)
    print("overrule limit (clarity): false alarms withdrawn / caught bad answers given up, "
          "on our sets left out (the answers whose only red flag is one the model may "
          "overrule)")
    for lang in LANGS:
        per_set: dict[str, list[Candidate]] = {}
        for held in sorted({s for s, lg, _, _ in rows if lg == lang}):
            never = calibrate.history_flags(DATA / f"{held}.jsonl", "--overrule-limit=-inf")
            always = calibrate.history_verdicts(DATA / f"{held}.jsonl", "--overrule-limit=inf")
            if never is None or always is None:
                continue
            model = fit_on([r for r in rows if r[0] != held], lang)
            per_set[held] = [(never[ids[k][1]][0], label, tone.judge(low, lang, model).clarity)
                             for k, (s, lg, low, label) in enumerate(rows)
                             if lg == lang and s == held
                             and never[ids[k][1]] and not always[ids[k][1]]]
        candidates = [c for found in per_set.values() for c in found]
        declared = tone.overrule(lang)[0]
        shared, own = best_limits(candidates)
        bad = sum(label == "bad" for _, label, _ in candidates)
        print(f"  {lang}: {len(candidates) - bad} good and {bad} bad answers could be withdrawn")
        for limit in LIMITS:
            withdrawn = [label for _, label, x in candidates if x <= limit]
            mark = ("  <- best" if limit == shared else "") + (
                "  <- declared" if limit == declared else "")
            print(f"  {lang} {limit:+6.2f}  {withdrawn.count('good'):4d} "
                  f"{withdrawn.count('bad'):4d}{mark}")
        for finding in sorted({f for f, _, _ in candidates}):
            mine = [c for c in candidates if c[0] == finding]
            good = sum(label == "good" for _, label, _ in mine)
            at = own.get(finding, shared)
            g, b = _withdrawn(mine, shared, {})
            line = (f"  {lang} {finding:22s} {good:4d} good {len(mine) - good:4d} bad; "
                    f"shared limit withdraws {g}/{b}")
            if finding in own:
                g, b = _withdrawn(mine, shared, own)
                line += (f", its own {at:+.2f} {g}/{b} (declared "
                         f"{tone.overrule_limit(lang, finding):+.2f})")
            print(line)
        for name, pick in (("shared limit only", lambda c: (best_limit(c), {})),
                           ("with limits of their own", best_limits)):
            good = given_up = 0
            for held, found in per_set.items():
                limit, limits = pick([c for s, f in per_set.items() if s != held for c in f])
                g, b = _withdrawn(found, limit, limits)
                good, given_up = good + g, given_up + b
            print(f"  {lang} cross-validated by set, {name} (picked on the other sets): "
                  f"{good} false alarms withdrawn, {given_up} caught bad answers given up")


def spread(rows: list[Row]) -> None:
    """The held-out figures of ``../shared/eval`` with the model fitted on all our sets but
    one, for each set: how far the result depends on which sets the model saw. A report
    only: nothing is chosen from it."""
    held = [i for i in calibrate.load_items(sorted(calibrate.EVAL_DIR.glob("*.jsonl")))
            if i.side == "held-out"]
    seen: dict[str, Counter[str]] = {lang: Counter() for lang in LANGS}
    for left in sorted({r[0] for r in rows}, key=lambda n: (len(n), n)):
        kept = [r for r in rows if r[0] != left]
        for lang in LANGS:
            tone.use(fit_on(kept, lang, tone.threshold(lang)))
        line = []
        for lang in LANGS:
            c: dict[str, int] = {"bad": 0, "good": 0, "bad_hit": 0, "good_hit": 0}
            for item, analysis in calibrate.evaluate([i for i in held if i.lang == lang]):
                c[item.label] += 1
                c[f"{item.label}_hit"] += analysis.verdict == "red_flag"
            figures = _figures(c)
            seen[lang][figures] += 1
            line.append(f"{lang} {figures}")
        print(f"  without {left:12} " + "   ".join(line), flush=True)
    for lang in LANGS:
        for figures, times in seen[lang].most_common():
            print(f"  {lang} {figures}: {times} of {sum(seen[lang].values())} models")


def _agree(rows: list[tuple[str, bool, float]], t: float) -> float:
    return sum((red or x > t) == (label == "bad") for label, red, x in rows) / len(rows)


def _figures(c: dict[str, int]) -> str:
    agree = (c["bad_hit"] + c["good"] - c["good_hit"]) / (c["bad"] + c["good"])
    return (f"{agree:6.1%} {c['bad_hit'] / max(1, c['bad']):6.1%} "
            f"{c['good_hit'] / max(1, c['good']):6.1%}   n {c['bad']}/{c['good']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--loso", action="store_true")
    parser.add_argument("--pick", action="store_true")
    parser.add_argument("--overrule", action="store_true")
    parser.add_argument("--spread", action="store_true")
    args = parser.parse_args(argv)
    rows = read(our_sets())
    if args.spread:
        spread(rows)
        return 0
    if args.overrule:
        overrule_table(rows)
        return 0
    if args.loso:
        loso(rows)
        return 0
    if args.pick:
        pick(rows)
        return 0
    stale = []
    for lang, model in fit_all(rows).items():
        path = tone.MODEL_DIR / f"{lang}.json"
        text = model.to_json()
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(model.weights)} sequences, "
              f"{model.answers['bad']} bad and {model.answers['good']} good answers")
    if stale:
        print("out of date (run bench/train_tone.py): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
