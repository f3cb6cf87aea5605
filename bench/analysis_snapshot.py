"""Everything the analyzer says about every labelled answer, as one JSON file: to show
that a change meant to be invisible (a faster matcher, say) changes no result.

    python bench/analysis_snapshot.py OUT.json          # write the snapshot
    python bench/analysis_snapshot.py OUT.json --check BEFORE.json

Per answer (the files ``bench/calibrate.py`` loads, plus the benchmark's own answers):
the whole analysis (verdict, score, findings with their evidence spans and rules), its
trace, and the matcher's raw scan (hits, the rule of each, dropped matches). ``--check``
exits 1 unless the new file is byte-identical to the old one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import calibrate  # noqa: E402
from bench_core import ANSWER_150, RISKY_EN  # noqa: E402

from leavewell.dialogs.analyzer import analyze  # noqa: E402
from leavewell.dialogs.analyzer.analysis import MATCHERS  # noqa: E402


def cases() -> list[tuple[str, str, str, str]]:
    """(id, lang, situation, answer) for every labelled answer and the benchmark texts."""
    paths = [*sorted(calibrate.EVAL_DIR.glob("*.jsonl")), *calibrate.OUR_SETS]
    out = [(f"{i.file}:{i.id}", i.lang, i.situation, i.answer) for i in calibrate.load_items(paths)]
    out += [
        ("bench:answer_150", "en", "laid_off", ANSWER_150),
        ("bench:risky_en", "en", "laid_off", RISKY_EN),
        ("bench:timing_en", "en", "laid_off", calibrate.TIMING_ANSWER),
        ("bench:timing_zh", "zh", "laid_off", calibrate.TIMING_ANSWER_ZH),
    ]
    return out


def snapshot() -> list[dict[str, Any]]:
    rubrics = calibrate.load_rubrics()
    rows = []
    for key, lang, situation, answer in cases():
        result = analyze(answer, lang=lang, rubric=rubrics[situation])
        matcher = MATCHERS[lang]
        scan = matcher.scan(matcher.normalize(answer))
        rows.append(
            {
                "id": key,
                "analysis": result.to_dict(),
                "trace": [t.to_dict() for t in result.trace],
                "hits": {tag: spans for tag, spans in scan.hits.items()},
                "origins": [[*k, v] for k, v in scan.origins.items()],
                "dropped": [list(d) for d in scan.dropped],
            }
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--check", type=Path, metavar="BEFORE")
    args = parser.parse_args()
    import leavewell.dialogs.analyzer.matcher as matcher_module

    print(f"analyzer: {matcher_module.__file__}")
    rows = snapshot()
    args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(rows)} answers -> {args.out}")
    if args.check is None:
        return 0
    same = args.out.read_bytes() == args.check.read_bytes()
    print("identical" if same else f"DIFFERENT from {args.check}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
