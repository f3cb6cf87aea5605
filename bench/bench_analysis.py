"""Analysis time (mean, p99) and the core's answer step (p50, p99), optionally beside an
older checkout's in one run.

    python bench/bench_analysis.py [--runs 3000] [--passes 5]
    python bench/bench_analysis.py --before /tmp/lw-before [--rounds 3]

Timed: the analysis of the answers ``bench_core`` steps with (150 words, and the risky
one the Chinese-interface case answers), of a Chinese answer, and of every labelled
answer ``bench/calibrate.py`` loads (``--passes`` times each); then ``bench_core``'s
answer step for the English and the Chinese-interface case. With ``--before``, each
checkout runs in its own process, alternating, ``--rounds`` times (so a busy machine's
noise falls on both), its own code imported (``bench/checkout.py``), and the medians are
printed side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(runs: int, passes: int) -> dict[str, float]:
    import calibrate
    from bench_core import ANSWER_150, RISKY_EN, SETUPS

    from leavewell.dialogs.analyzer import analyze
    from leavewell.dialogs.engine import Interviewer
    from leavewell.dialogs.events import Command, Start, TextAnswer
    from leavewell.dialogs.render import HTML, default_renderer

    figures: dict[str, float] = {}
    rubrics = calibrate.load_rubrics()

    def timed(calls: list[tuple[str, str, str]], repeat: int) -> list[float]:
        samples = []
        for _ in range(repeat):
            for text, lang, situation in calls:
                rubric = rubrics[situation]
                started = time.perf_counter()
                analyze(text, lang=lang, rubric=rubric)
                samples.append((time.perf_counter() - started) * 1000)
        return samples

    for name, text, lang in (
        ("en 150 words", ANSWER_150, "en"),
        ("en risky", RISKY_EN, "en"),
        ("zh timing", calibrate.TIMING_ANSWER_ZH, "zh"),
    ):
        timed([(text, lang, "laid_off")], 50)  # warm up
        samples = timed([(text, lang, "laid_off")], runs)
        figures[f"analysis {name} mean ms"] = statistics.fmean(samples)
        figures[f"analysis {name} p99 ms"] = percentile(samples, 0.99)
    paths = [*sorted(calibrate.EVAL_DIR.glob("*.jsonl")), *calibrate.OUR_SETS]
    items = [(i.answer, i.lang, i.situation) for i in calibrate.load_items(paths)]
    samples = timed(items, passes)
    figures[f"analysis labelled x{len(items)} mean ms"] = statistics.fmean(samples)
    figures[f"analysis labelled x{len(items)} p99 ms"] = percentile(samples, 0.99)

    renderer = default_renderer()
    for commands in SETUPS.values():
        case = "en" if not commands else "zh-ui"
        answer = ANSWER_150 if not commands else RISKY_EN
        engine = Interviewer()
        profile: dict = {}
        state: dict = {}
        setup = [Command(at=0.5, name=n, args=a) for n, a in commands]
        for event in (
            *setup,
            Start(at=1, lang_hint="en"),
            TextAnswer(at=2, text="skip"),
            TextAnswer(at=3, text="Acme"),
            TextAnswer(at=4, text="3"),
        ):
            result = engine.step(profile, state, event)
            profile, state = result.profile, result.state
        steps = []
        for i in range(runs):
            started = time.perf_counter()
            result = engine.step(profile, state, TextAnswer(at=10 + i, text=answer))
            for outgoing in result.outgoing:
                renderer.render(outgoing, HTML)
            steps.append((time.perf_counter() - started) * 1000)
        figures[f"step {case} p50 ms"] = statistics.median(steps)
        figures[f"step {case} p99 ms"] = percentile(steps, 0.99)
    return figures


def run_checkout(root: Path, args: argparse.Namespace, shims: Path) -> dict[str, float]:
    from checkout import import_path

    path, _ = import_path(root, shims)
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--json",
            "--runs",
            str(args.runs),
            "--passes",
            str(args.passes),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(done.stdout)
    imported = Path(out.pop("imported")).resolve()
    if not imported.is_relative_to(root.resolve()):
        raise SystemExit(f"{root}: imported {imported}, not its own analyzer")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        from leavewell.dialogs.analyzer import matcher

        print(json.dumps({"imported": matcher.__file__, **measure(args.runs, args.passes)}))
        return
    if args.before is None:
        for name, value in measure(args.runs, args.passes).items():
            print(f"  {name:36} {value:8.3f}")
        return
    this_root = HERE.parent
    results: dict[str, list[dict[str, float]]] = {"this": [], "before": []}
    with tempfile.TemporaryDirectory() as shims:
        for n in range(args.rounds):
            order = [("this", this_root), ("before", args.before.resolve())]
            for name, root in order if n % 2 == 0 else reversed(order):
                results[name].append(run_checkout(root, args, Path(shims)))
    print(
        f"{args.rounds} alternating runs each ({args.runs} runs per text, labelled answers "
        f"x{args.passes}), medians:"
    )
    print(f"  {'figure':36} {'before':>8} {'this':>8} {'this/before':>12}")
    for figure in results["this"][0]:
        this = statistics.median(r[figure] for r in results["this"])
        before = statistics.median(r[figure] for r in results["before"])
        print(f"  {figure:36} {before:8.3f} {this:8.3f} {this / before:12.2f}")


if __name__ == "__main__":
    main()
