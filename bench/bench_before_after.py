"""This checkout's core step and durable turns beside an older checkout's, in one run.

    git worktree add /tmp/lw-before <older commit>
    python bench/bench_before_after.py /tmp/lw-before [--rounds 3] [--steps 3000]

Runs `bench/bench_core.py` of each checkout in its own process, alternating, `--rounds`
times (alternating spreads a busy machine's noise over both), and prints the median of
each figure and the ratio this/before. Both use this interpreter and its libraries. A
checkout from before the `leavewell` namespace imports its folders at the top level; one
after it is imported through a `leavewell` package of links to its own folders, put first
on the path, so the editable install of this checkout cannot stand in for it.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.checkout import import_path  # noqa: E402

FIGURES = {
    "answer step p50 ms": re.compile(r"answer step\s+p50 ([\d.]+) ms"),
    "answer step p99 ms": re.compile(r"answer step\s+p50 [\d.]+ ms\s+p99 ([\d.]+) ms"),
    "feedback step p99 ms": re.compile(r"feedback step p50 [\d.]+ ms\s+p99 ([\d.]+) ms"),
    "durable turns/s": re.compile(r"= ([\d,]+) turns/s"),
}


# Runs a checkout's bench_core.py after making sure its bot package is the one imported.
LAUNCH = """import importlib, os, runpy, sys
bot = importlib.import_module(sys.argv[1])
assert os.path.realpath(bot.__path__[0]) == os.path.realpath(sys.argv[2]), bot.__path__
sys.argv = sys.argv[3:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run(root: Path, steps: int, turns: int, shims: Path) -> dict[str, float]:
    path, bot = import_path(root, shims)
    env = {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", LAUNCH, bot, str(root / "bot"),
                           str(root / "bench" / "bench_core.py"),
                           "--steps", str(steps), "--turns", str(turns)],
                          cwd=root, env=env, capture_output=True, text=True, check=True)
    found: dict[str, float] = {}
    for name, pattern in FIGURES.items():
        match = pattern.search(done.stdout)
        if match is None:
            raise SystemExit(f"{root}: no '{name}' in its output:\n{done.stdout}")
        found[name] = float(match.group(1).replace(",", ""))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the older checkout")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--turns", type=int, default=20000)
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"this": [], "before": []}
    with tempfile.TemporaryDirectory() as shims:
        for n in range(args.rounds):
            order = [("this", ROOT), ("before", args.before.resolve())]
            for name, root in order if n % 2 == 0 else reversed(order):
                results[name].append(run(root, args.steps, args.turns, Path(shims)))
    print(f"bench_core, {args.rounds} alternating runs each, medians:")
    print(f"  {'figure':24} {'this':>10} {'before':>10} {'this/before':>12}")
    for figure in FIGURES:
        this = statistics.median(r[figure] for r in results["this"])
        before = statistics.median(r[figure] for r in results["before"])
        print(f"  {figure:24} {this:10.3f} {before:10.3f} {this / before:12.2f}")


if __name__ == "__main__":
    main()
