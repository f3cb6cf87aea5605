"""Measure the analyzer against a labelled set of answers.

    python bench/calibrate.py [PATH] [--time] [--verbose]

PATH defaults to ``../shared/eval/dev.jsonl`` next to the project root. Each line is a
JSON object with ``id``, ``situation``, ``lang``, ``answer`` and ``label`` (good, bad or
mixed). A bad answer agrees when the verdict is ``red_flag``; a good one when it is
not; mixed answers are left out. Prints agreement per language, a confusion table and
the ids that disagree. ``--time`` also measures the mean time to analyse a 150-word
answer. Always exits 0 when the file can be read.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dialogs.analyzer import analyze  # noqa: E402
from dialogs.findings import Analysis  # noqa: E402
from dialogs.rubric import SituationRubric  # noqa: E402

DEFAULT_PATH = ROOT.parent / "shared" / "eval" / "dev.jsonl"
SITUATIONS_FILE = ROOT / "dialogs" / "scripts" / "situations.yaml"

# Situation names of the dataset -> our situation ids.
SITUATION_MAP: Mapping[str, str] = {
    "still_employed": "employed",
    "laid_off": "laid_off",
    "fired": "let_go",
    "gap": "between_jobs",
    "unemployed_long": "between_jobs",
    "gap/unemployed_long": "between_jobs",
    "quit_without_job": "quit",
    "contract_ended": "contract_ended",
    "relocation": "relocation_family",
    "family": "relocation_family",
    "relocation/family": "relocation_family",
    "career_change": "career_change",
    "company_closed": "laid_off",
    "other": "unspecified",
}

# A 150-word answer for the timing run (written for this benchmark).
TIMING_ANSWER = (
    "For four years I worked as a data analyst in a retail group, where I built the "
    "weekly sales dashboards in SQL and Power BI and led a small project that cut the "
    "time to close the monthly report from eight days to three. I am proud of that work, "
    "and my manager is still one of my references. The company restructured the "
    "analytics function and moved most reporting to a shared service centre abroad, so "
    "my position was eliminated along with several others. I used the last two months to "
    "finish a certification in cloud data engineering and to help a local charity clean "
    "up its donor database as a volunteer. What attracts me to this role is the chance to "
    "work closer to product decisions, to grow into forecasting and experimentation, and "
    "to bring my reporting experience to a team that is scaling its analytics quickly."
)


def load_rubrics(path: Path = SITUATIONS_FILE) -> dict[str, SituationRubric]:
    """The rubric of every situation declared in situations.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rubrics: dict[str, SituationRubric] = {}
    for sid, spec in (data.get("situations") or {}).items():
        checks = spec.get("checks")
        rubrics[sid] = SituationRubric(
            id=sid,
            checks=frozenset(checks) if checks else SituationRubric(id=sid).checks,
            weights={k: float(v) for k, v in (spec.get("weights") or {}).items()},
            contradicts=frozenset(spec.get("contradicts") or ()),
        )
    return rubrics


def load_items(path: Path) -> list[dict[str, Any]]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            items.append(json.loads(line))
    return items


def describe(analysis: Analysis) -> str:
    flags = ", ".join(
        f"{f.id}[{'; '.join(e.text for e in f.evidence)}]" for f in analysis.red_flags
    )
    return flags or f"no red flag (score {analysis.score}, {analysis.verdict})"


def run(path: Path, verbose: bool) -> None:
    rubrics = load_rubrics()
    items = load_items(path)
    totals: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    confusion: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    misses: list[str] = []
    for item in items:
        lang, label = item["lang"], item["label"]
        situation = SITUATION_MAP.get(item["situation"], "unspecified")
        analysis = analyze(item["answer"], lang=lang, rubric=rubrics[situation])
        confusion[lang][(label, analysis.verdict)] += 1
        if verbose:
            print(f"{item['id']} {lang} {label:5} {describe(analysis)}")
        if label == "mixed":
            continue
        totals[lang] += 1
        ok = (analysis.verdict == "red_flag") == (label == "bad")
        agreed[lang] += ok
        if not ok:
            misses.append(f"  {item['id']} ({lang}, {label}, {situation}): {describe(analysis)}")

    print(f"dataset: {path}")
    for lang in sorted(totals):
        share = agreed[lang] / totals[lang]
        print(f"agreement {lang}: {agreed[lang]}/{totals[lang]} = {share:.1%}")
    all_total, all_agreed = sum(totals.values()), sum(agreed.values())
    if all_total:
        print(f"agreement all: {all_agreed}/{all_total} = {all_agreed / all_total:.1%}")
    verdicts = ("red_flag", "acceptable", "strong")
    for lang in sorted(confusion):
        print(f"\nconfusion {lang} (rows: label, columns: verdict)")
        print(f"  {'':8}" + "".join(f"{v:>12}" for v in verdicts))
        for label in ("bad", "good", "mixed"):
            row = confusion[lang]
            if any(row[(label, v)] for v in verdicts):
                print(f"  {label:8}" + "".join(f"{row[(label, v)]:>12}" for v in verdicts))
    print("\nmisclassified:" if misses else "\nmisclassified: none")
    for line in misses:
        print(line)


def time_analysis(number: int = 2000) -> None:
    rubric = load_rubrics()["laid_off"]
    words = len(TIMING_ANSWER.split())
    analyze(TIMING_ANSWER, lang="en", rubric=rubric)  # warm up (loads the texts)
    seconds = timeit.timeit(
        lambda: analyze(TIMING_ANSWER, lang="en", rubric=rubric), number=number
    )
    print(f"\nmean analysis time, {words}-word answer: {seconds / number * 1e6:.0f} µs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--time", action="store_true", help="also time a 150-word answer")
    parser.add_argument("--verbose", action="store_true", help="print every item")
    args = parser.parse_args(argv)
    run(args.path, args.verbose)
    if args.time:
        time_analysis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
