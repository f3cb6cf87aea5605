"""Instructions and cache misses of the English answer step, counted by valgrind's
cachegrind: the same counts from run to run, whatever else the machine is doing, where
the step's time moves by a third (bench_core.py prints the machine's own spread).

    python bench/bench_instructions.py [--steps 100] [--variants full,no-tone,no-analysis]

Per variant, two runs of the same script under cachegrind (PYTHONHASHSEED=0, so both
build the same dictionaries): one steps ``--warm`` times, the other ``--warm`` plus
``--steps`` times; the difference over ``--steps`` is one step, start-up and imports
cancelled out. The last-level cache is simulated as ``--ll`` bytes (this machine's L2 is
1 MiB a core; its L3 is shared with other machines' work). Variants:

* full: the step as ``bench_core.py`` times it (analysis, transition, rendering);
* no-tone: the tone model's reading replaced by its own result;
* no-analysis: the analysis replaced by its own result (what the step adds around it).

Needs valgrind; a variant takes a few minutes (cachegrind runs Python some fifty times
slower), two at a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

VARIANTS = ("full", "no-tone", "no-analysis")
EVENTS = ("Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw")
SHOWN = {"Ir": "instructions", "I1mr": "L1i misses", "D1mr": "L1d read misses",
         "DLmr": "last-level read misses"}


def child(steps: int, variant: str) -> None:
    """Step the English answer ``steps`` times, as the variant says."""
    from bench_core import ANSWER_150, answer_and_render, at_main_question, leave_out_tone_reading

    from leavewell.dialogs.analyzer import analysis
    from leavewell.dialogs.render import default_renderer

    engine, profile, state = at_main_question()
    renderer = default_renderer()
    if variant == "no-tone":
        leave_out_tone_reading()
    elif variant == "no-analysis":
        whole = analysis.analyze
        remembered: dict[str, object] = {}

        def analyze(text: str, **kwargs: object) -> object:
            # by identity: the step passes the same rubric and messages every time, and
            # a key that printed them would cost more than the step around the analysis
            key = repr((text, sorted((k, id(v)) for k, v in kwargs.items())))
            if key not in remembered:
                remembered[key] = whole(text, **kwargs)
            return remembered[key]

        for module in list(sys.modules.values()):
            if getattr(module, "analyze", None) is whole:
                module.analyze = analyze  # type: ignore[attr-defined]
    for i in range(steps):
        answer_and_render(engine, profile, state, renderer, 10 + i, ANSWER_150)


def counted(steps: int, variant: str, ll: int, folder: Path) -> dict[str, int]:
    out = folder / f"{variant}.{steps}.out"
    env = dict(os.environ, PYTHONHASHSEED="0")
    subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=yes", f"--LL={ll},16,64",
         f"--cachegrind-out-file={out}", sys.executable, str(Path(__file__).resolve()),
         "--child", str(steps), variant],
        env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for line in out.read_text().splitlines():
        if line.startswith("summary:"):
            return dict(zip(EVENTS, map(int, line.split()[1:]), strict=True))
    raise SystemExit(f"{out}: no summary line")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--ll", type=int, default=1 << 20, help="last-level cache bytes")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", nargs=2, metavar=("STEPS", "VARIANT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1])
        return
    variants = [v for v in args.variants.split(",") if v]
    if unknown := sorted(set(variants) - set(VARIANTS)):
        raise SystemExit(f"unknown variants: {', '.join(unknown)} (known: {VARIANTS})")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt install valgrind)")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        runs = {(variant, n): pool.submit(counted, n, variant, args.ll, Path(tmp))
                for variant in variants for n in (args.warm, args.warm + args.steps)}
        print(f"per English answer step (cachegrind, {args.steps} steps, last level "
              f"{args.ll // 1024} KiB):")
        for variant in variants:
            low = runs[(variant, args.warm)].result()
            high = runs[(variant, args.warm + args.steps)].result()
            per = {k: (high[k] - low[k]) / args.steps for k in SHOWN}
            print(f"  {variant:12} " + "  ".join(f"{SHOWN[k]} {per[k]:,.0f}" for k in SHOWN))


if __name__ == "__main__":
    main()
