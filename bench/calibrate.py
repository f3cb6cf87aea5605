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

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dialogs.analyzer import analyze  # noqa: E402
from dialogs.findings import Analysis  # noqa: E402
from dialogs.rubric import SituationRubric  # noqa: E402
from dialogs.script import default_script  # noqa: E402

DEFAULT_PATH = ROOT.parent / "shared" / "eval" / "dev.jsonl"

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


# About 40 seconds spoken in Chinese (written for this benchmark).
TIMING_ANSWER_ZH = (
    "我在上一家公司做了四年的财务分析，负责月度经营报表和预算跟踪，"
    "期间用SQL和Power BI重建了报表流程，把结账时间从八天缩短到三天。"
    "去年公司业务调整，我所在的部门被合并到总部，岗位也随之取消了。"
    "离职后我考取了管理会计证书，也在一家公益机构做兼职记账。"
    "我和原来的主管一直保持联系，他也愿意做我的推荐人。"
    "这个岗位更贴近业务决策，正是我希望继续成长的方向，所以我很想加入贵公司。"
)


def load_rubrics() -> dict[str, SituationRubric]:
    """The rubric of every situation, as the validated script declares it."""
    return {sid: spec.rubric for sid, spec in default_script().situations.items()}


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


def time_analysis(number: int = 2000, repeat: int = 5) -> None:
    """Mean time per analysis (best of ``repeat`` runs, so other load on the machine
    does not count)."""
    rubric = load_rubrics()["laid_off"]
    for lang, text in (("en", TIMING_ANSWER), ("zh", TIMING_ANSWER_ZH)):
        analyze(text, lang=lang, rubric=rubric)  # warm up (loads the texts)
        runs = timeit.repeat(
            lambda t=text, lg=lang: analyze(t, lang=lg, rubric=rubric),
            number=number,
            repeat=repeat,
        )
        size = f"{len(text.split())} words" if lang == "en" else f"{len(text)} characters"
        print(f"mean analysis time, {lang}, {size}: {min(runs) / number * 1e6:.0f} µs")


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
