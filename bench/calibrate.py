"""Measure the analyzer against labelled answers, held-out sources apart from the rest.

    python bench/calibrate.py [PATHS...] [--verbose] [--show-held-out] [--time]

PATHS default to every ``*.jsonl`` in ``../shared/eval/`` next to the project root, plus
our own sets in ``bench/data/``: ``ourset.jsonl`` (160 answers), ``ourset2.jsonl`` (200,
imagined pages and spoken answers), ``ourset3.jsonl`` (200, listicles, forum quotes,
mock-interview transcripts, Chinese articles), ``ourset4.jsonl`` (200 spoken answers),
``ourset5.jsonl`` (240, half spoken, half written, hard near-misses),
``ourset6.jsonl`` (240, a third English as Chinese speakers write it),
``ourset7.jsonl`` (240, good and bad alike in every length band), ``ourset8.jsonl``
(200, trades no other set had), ``ourset9.jsonl`` (240, more trades, a quarter English
as Chinese speakers write it, a third Chinese), ``ourset10.jsonl`` to ``ourset14.jsonl``
(240 each, about 24 more trades each), ``ourset16.jsonl`` (240, career pages' sample
answers, imagined), ``ourset17.jsonl`` (240, a recruiter's notebook), ``ourset18.jsonl``
(240, drafts posted on forums for critique), ``ourset19.jsonl`` (240, phone screens
transcribed), ``ourset20.jsonl`` (240, answers typed in a practice chat), ``ourset21.jsonl``
(240, answers typed on a phone), ``ourset22.jsonl`` (240, timed practice rounds
transcribed), ``ourset23.jsonl`` (240, a bilingual job club), ``ourset24.jsonl`` (240, a
beta testers' batch: typed, voice and pasted), ``ourset25.jsonl`` (240, career pages'
lists of reasons to give and lines to avoid), ``ourset26.jsonl`` (240, mock interviews at
a career centre and a re-employment programme, transcribed), ``ourset27.jsonl`` (240,
one-take answers recorded for asynchronous video interviews), ``ourset28.jsonl`` (240, a
second-chance employment service's coaching sessions), ``ourset29.jsonl`` (240, senior
candidates in panel interviews), ``ourset30.jsonl`` (240, students and new graduates at a
career fair), ``ourset31.jsonl`` (240, an executive search firm's screening calls),
``ourset32.jsonl`` (240, professionals interviewing at multinationals), ``ourset33.jsonl``
(240, short sample lines as career pages quote them), ``ourset34.jsonl`` (240, a hiring
manager's notes from first-round screening calls), ``ourset35.jsonl`` (240, answers said out
loud at community job clubs, transcribed), ``ourset36.jsonl`` (240, the do-say/don't-say tables
of interview-preparation books and courses), ``ourset37.jsonl`` (240, candidates quoted in
recruiters' social-media posts), ``ourset38.jsonl`` (240, transcripts of recorded first-round
interviews), ``ourset39.jsonl`` (240, answers typed in practice chats, native and non-native
English), each written for
the project by an engineer who had seen neither the eval files, the rules nor the other
sets; each was scored once as unseen data before any rule was written against it, and is
development data since (the README keeps those first figures). Each line is a JSON object
with ``id``, ``situation``, ``lang``, ``answer`` and ``label`` (good, bad or mixed). A bad
answer agrees when the verdict is ``red_flag``; a good one when it is not; mixed answers
are left out of the figures.

Split by source, never by item: an answer quoted from a career page belongs to its
site (the page's domain), and an answer written for the project belongs to its set
(``spoken:<style>``). A source is either in the development part (the rules were
written with it in view) or held out (nobody read it while writing rules): see
``side``. The held-out part is what the analyzer's quality claims rest on.

For each part, language and length bucket it prints the agreement, the share of bad
answers caught, the false alarms on good answers and a confusion table. ``--verbose``
lists the development misses; held-out misses are printed only with
``--show-held-out`` (for the closing report, after the rules are written).
``--time`` also measures the mean time to analyse a 150-word answer.

``--by-set`` prints the figures of each file (and each spoken set) instead, one writer's
voice per row. ``--rules DIR`` scores with the rule files of another folder.

``--history`` is leave-one-set-out for rules written by hand: each of our sets is scored
with the current rules minus the rule-file changes that set prompted when it was first
used (the commit ranges in ``HISTORY``), that is with everything learnt since except that
set's own lessons. It needs the git history. The figures are close to what the set would
score if it were new today; they are development figures for every set whose misses
were read while writing the rules being measured.

The one number learned from data, the sentiment lexicon's threshold per language, is
cross-validated by source with ``--cv``: the sources are dealt into folds, the
threshold that agrees best on the other folds is fitted, and the held fold is
scored with it. The declared threshold (``rules/languages.yaml``) is printed beside.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
import timeit
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _use_rules_folder(folder: Path) -> None:
    """Load the analyzer with the rule files of ``folder`` (before anything imports it:
    the analyzer reads its rules once, when its package is imported)."""
    import importlib.util

    import leavewell.dialogs  # noqa: F401 - the parent package, imported normally

    spec = importlib.util.find_spec("leavewell.dialogs.analyzer")
    if spec is None or spec.loader is None or "leavewell.dialogs.analyzer" in sys.modules:
        raise SystemExit("--rules: the analyzer is already loaded")
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package  # so that its rulebook module can load first
    from leavewell.dialogs.analyzer import rulebook

    rulebook.RULES_DIR = folder
    spec.loader.exec_module(package)


if __name__ == "__main__" and "--rules" in sys.argv[:-1]:
    _use_rules_folder(Path(sys.argv[sys.argv.index("--rules") + 1]).resolve())

from leavewell.dialogs.analyzer import analyze, sentiment, tone  # noqa: E402
from leavewell.dialogs.findings import Analysis  # noqa: E402
from leavewell.dialogs.rubric import SituationRubric  # noqa: E402
from leavewell.dialogs.script import default_script  # noqa: E402

EVAL_DIR = ROOT.parent / "shared" / "eval"
# (ourset15 was written and scored while it was still unseen, but its file was lost before
# it was ever committed; the README keeps its figures. Sets written blind wait in
# bench/fresh/, not in use, until they have been scored once with what ships: the next
# round adds them here, and the tone model, fitted on these sets (bench/train_tone.py), is
# fitted again with them.)
OUR_SETS = tuple(ROOT / "bench" / "data" / f"ourset{n}.jsonl"
                 for n in ("", *map(str, range(2, 15)), *map(str, range(16, 112))))

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

# The split, fixed before any rule was written against these files (2026-12-04):
# * dev.jsonl: all development (the first rules were written with it in view);
# * careers2.jsonl: a site is held out when its hash falls under HELD_OUT_SHARE;
# * spoken.jsonl: the sets in HELD_OUT_SETS are held out, the others are development.
HELD_OUT_SHARE = 45
HELD_OUT_SETS = frozenset({"spoken:native", "spoken:zh"})
DEVELOPMENT_FILES = frozenset({"dev.jsonl", *(p.name for p in OUR_SETS)})
# Length buckets: spoken seconds estimated from the text (150 en words or 240 zh
# characters a minute).
BUCKETS: tuple[tuple[str, float], ...] = (("short <20s", 20.0), ("20-45s", 45.0),
                                           ("long >45s", float("inf")))
VERDICTS = ("red_flag", "acceptable", "strong")


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    file: str
    source: str
    lang: str
    situation: str
    answer: str
    label: str

    @property
    def side(self) -> str:
        if self.file in DEVELOPMENT_FILES:
            return "development"
        if self.source.startswith("spoken:"):
            return "held-out" if self.source in HELD_OUT_SETS else "development"
        digest = int(hashlib.sha1(self.source.encode()).hexdigest(), 16)
        return "held-out" if digest % 100 < HELD_OUT_SHARE else "development"

    @property
    def bucket(self) -> str:
        seconds = analysis_seconds(self.answer, self.lang)
        return next(name for name, limit in BUCKETS if seconds < limit)


def analysis_seconds(answer: str, lang: str) -> float:
    units = len(answer.split()) if lang == "en" else len(answer)
    return units * 60.0 / (150.0 if lang == "en" else 240.0)


def source_of(row: Mapping[str, Any], file: str = "") -> str:
    url = row.get("source_url")
    if url:
        return urlparse(str(url)).netloc.lower().removeprefix("www.") or str(url)
    if file in {p.name for p in OUR_SETS}:
        return f"{Path(file).stem}:{row.get('source') or row.get('style', 'unknown')}"
    return f"spoken:{row.get('style', 'unknown')}"


def load_items(paths: Iterable[Path]) -> list[Item]:
    items = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            items.append(Item(
                id=str(row["id"]), file=path.name, source=source_of(row, path.name),
                lang=row["lang"],
                situation=SITUATION_MAP.get(row["situation"], "unspecified"),
                answer=row["answer"], label=row["label"],
            ))
    return items


def load_rubrics() -> dict[str, SituationRubric]:
    """The rubric of every situation, as the validated script declares it."""
    return {sid: spec.rubric for sid, spec in default_script().situations.items()}


def describe(analysis: Analysis) -> str:
    flags = ", ".join(
        f"{f.id}[{'; '.join(e.text for e in f.evidence)}]" for f in analysis.red_flags
    )
    return flags or f"no red flag (score {analysis.score}, {analysis.verdict})"


@dataclass
class Tally:
    bad: int = 0
    caught: int = 0
    good: int = 0
    alarms: int = 0

    def add(self, label: str, verdict: str) -> None:
        flagged = verdict == "red_flag"
        if label == "bad":
            self.bad += 1
            self.caught += flagged
        elif label == "good":
            self.good += 1
            self.alarms += flagged

    def row(self) -> str:
        total = self.bad + self.good
        if not total:
            return f"{'-':>7} {'-':>7} {'-':>7} {'':>13}"
        agree = (self.caught + self.good - self.alarms) / total
        caught = f"{self.caught / self.bad:.1%}" if self.bad else "-"
        alarms = f"{self.alarms / self.good:.1%}" if self.good else "-"
        counts = f"{self.bad}/{self.good}"
        return f"{agree:7.1%} {caught:>7} {alarms:>7} {counts:>13}"


def evaluate(items: list[Item]) -> list[tuple[Item, Analysis]]:
    rubrics = load_rubrics()
    return [(item, analyze(item.answer, lang=item.lang, rubric=rubrics[item.situation]))
            for item in items]


def tone_off() -> None:
    """Judge with the rules alone from now on: the tone model never fires, nor overrules
    a rule (unless a limit was given for that, --overrule-limit)."""
    for lang in tone.LANGS:
        tone.use(dataclasses.replace(tone.load(lang), threshold=math.inf))
        tone.limit_overrides.setdefault(lang, -math.inf)


def tone_without(name: str) -> None:
    """Judge with a tone model fitted on our sets other than ``name``, at the declared
    threshold: that set is then unseen by the model too."""
    import train_tone

    rows = train_tone.read(p for p in train_tone.our_sets() if p.name != name)
    for lang in tone.LANGS:
        tone.use(train_tone.fit_on(rows, lang, tone.threshold(lang)))


def rule_verdicts(items: list[Item]) -> dict[str, bool]:
    """Whether the rules alone (no tone model) find a red flag, per item id."""
    saved = {lang: tone.load(lang) for lang in tone.LANGS}
    limits = dict(tone.limit_overrides)
    try:
        tone_off()
        return {item.id: a.verdict == "red_flag" for item, a in evaluate(items)}
    finally:
        for model in saved.values():
            tone.use(model)
        tone.limit_overrides.clear()
        tone.limit_overrides.update(limits)


def history_verdicts(path: Path, *options: str) -> dict[str, bool] | None:
    """Whether the rules minus the lessons ``path`` prompted (``HISTORY``) find a red
    flag in each of its answers, without the tone model (and with ``options`` of this
    script, e.g. ``--overrule-limit=inf``); None without a history."""
    flags = history_flags(path, *options)
    return None if flags is None else {key: bool(found) for key, found in flags.items()}


def history_flags(path: Path, *options: str) -> dict[str, list[str]] | None:
    """The red flags the rules minus the lessons ``path`` prompted (``HISTORY``) find in
    each of its answers, without the tone model (and with ``options``); None without a
    history."""
    commits = HISTORY.get(path.name)
    if commits is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rules"
        shutil.copytree(ROOT / RULES_PATH, folder)
        for first, second in reversed(commits):
            take_back(first, second, folder)
        child = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--rules", str(folder),
             "--no-tone", *options, "--flags", str(path)],
            capture_output=True, text=True, check=True,
        )
    return json.loads(child.stdout.splitlines()[-1])


def report(results: list[tuple[Item, Analysis]], verbose: bool, show_held_out: bool) -> None:
    tallies: dict[tuple[str, str, str], Tally] = defaultdict(Tally)
    confusion: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    misses: dict[str, list[str]] = defaultdict(list)
    for item, analysis in results:
        for lang in (item.lang, "all"):
            for bucket in (item.bucket, "all"):
                tallies[(item.side, lang, bucket)].add(item.label, analysis.verdict)
        confusion[(item.side, item.lang)][(item.label, analysis.verdict)] += 1
        if item.label != "mixed" and (analysis.verdict == "red_flag") != (item.label == "bad"):
            misses[item.side].append(
                f"  {item.id} ({item.lang}, {item.label}, {item.situation}, {item.source}): "
                f"{describe(analysis)}"
            )
    sides = ("held-out", "development")
    half = f"{'agree':>7} {'caught':>7} {'f.alarm':>7} {'n bad/good':>13}"
    print(f"{'':16} {'held-out (not read while writing rules)':^37} | {'development':^37}")
    print(f"{'lang bucket':16} {half} | {half}")
    for lang in ("en", "zh", "all"):
        for bucket in (*(name for name, _ in BUCKETS), "all"):
            rows = [tallies.get((side, lang, bucket)) for side in sides]
            if any(rows):
                print(f"{lang:4} {bucket:11} " + " | ".join(
                    (t or Tally()).row() for t in rows))
    print()
    for side in sides:
        for lang in ("en", "zh"):
            table = confusion.get((side, lang))
            if not table:
                continue
            print(f"confusion {side} {lang} (rows: label, columns: verdict)")
            print(f"  {'':8}" + "".join(f"{v:>12}" for v in VERDICTS))
            for label in ("bad", "good", "mixed"):
                if any(table[(label, v)] for v in VERDICTS):
                    print(f"  {label:8}" + "".join(f"{table[(label, v)]:>12}" for v in VERDICTS))
    print()
    if verbose:
        print(f"development misses ({len(misses['development'])}):")
        print("\n".join(misses["development"]) or "  none")
    if show_held_out:
        print(f"held-out misses ({len(misses['held-out'])}):")
        print("\n".join(misses["held-out"]) or "  none")


def set_of(item: Item) -> str:
    """The writer's set an item comes from: its file, and the style for spoken.jsonl."""
    return f"{item.file}:{item.source}" if item.source.startswith("spoken:") and \
        item.file not in {p.name for p in OUR_SETS} else item.file


def report_by_set(results: list[tuple[Item, Analysis]]) -> None:
    """Agreement, bad answers caught and false alarms per set and language."""
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for item, analysis in results:
        tallies[(set_of(item), item.lang)].add(item.label, analysis.verdict)
    print(f"{'set':32} {'lang':4} {'agree':>7} {'caught':>7} {'f.alarm':>7} {'n bad/good':>13}")
    for (name, lang), tally in sorted(tallies.items()):
        print(f"{name:32} {lang:4} {tally.row()}")


# Leave-one-set-out through history: our set -> the commits whose rule-file changes that
# set prompted when it was first used for development (diff from the first to the second).
# Each set's own lessons: ranges of commits (first, second), taken back latest first.
ROUND_6 = ("f5bc09d9064543a10b4f36bdbdf3c3c0b60a97fa",
           "0b745bd0615cad590e4cf0372ed9b3a6e31fe037")
ROUND_7 = ("0b745bd0615cad590e4cf0372ed9b3a6e31fe037",
           "9bd2859e7c2dd146c948affc6833e45653050062")
ROUND_8 = ("9bd2859e7c2dd146c948affc6833e45653050062",
           "e5756fb6be3632a5ece696e61090e9957bbb16ce")
ROUND_9 = ("c4df137a79466c3c8fda06cda89abe493780f899",
           "898caabd60ba2875a9a2498ba90aaac073ac854f")
ROUND_10 = ("c274ac8445c30e9fcc6d766662ffcb1ed0eb066a",
            "faca6a81863295388547bd411a20cd7d03a9d237")
ROUND_11 = ("e7e4a9a1805e88fdf670d2b256ae63cc21a3bb7f",
            "59a038dd71e23ccbac07745fb2827a7f1a9b4837")
ROUND_12 = ("039e8605e0866437273b2e32e6d4e5dccc624272",
            "683a1de00081d7359387866119ed43b9b7259c1c")
ROUND_13 = ("2d32a67be2b6a7f920141c504f72d8a46b1578d8",
            "94df4f5b1b71bdffb1d21d1cf7033151b96ed4c7")
ROUND_14 = ("89d7ad0f4cc8ec6a236186248408e3f87cf0d1eb",
            "ae8195ccb652b0ace3d456eaf3354a115672be9c")
ROUND_15 = ("404d9720343cb6be0762cf5cae3f7217ec69f28d",
            "e1641c65e741cb6488b6e929b9d9903f9381f41e")
ROUND_16 = ("8b3924befe7acbdb62e9da4dee2c4b9bca8fb7e4",
            "74571f2aa5887c47c32235911457b3c1822a283b")
ROUND_17 = ("b364f4daa6482a91f3e511a99cb007d2a244eb46",
            "9d55138e9d0e72e278b3f4b44fba14b762330824")
ROUND_18 = ("5ae8dbc0c949501ee125b4ba31440041b4502a4d",
            "9b7e9baaafd03455c8ca3837d5ce72671898ce3d")
ROUND_19 = ("0a6b3846dd6d43e4a74807882cc1d83bb15aaf6b",
            "34b86271b4a19eac8b2f633bbf4cf9374e822af4")
ROUND_20 = ("2094163184f58acaecee745434beed20f362cacf",
            "ab98d767b91e705280602e4a0c86960e2954115d")
ROUND_21 = ("969611ecad29b8f91d6368e00ce33d154ae46c41",
            "604fa4c6cb9e8998c61aa5170dd07f69222ee6b6")
ROUND_22 = ("14f77c950f7fca3948017be59a31fc53d08cdea4",
            "65e74926f5bfce43cef9bac19e952ee964a43ae5")
ROUND_24 = ("0ebac1435af74c54c21ef096187c9e79bdbb2f34",
            "74076a9c724b8f3f59ef588134c99730cc50db20")
ROUND_25 = ("74076a9c724b8f3f59ef588134c99730cc50db20",
            "d3e0bea9c4d3f217aee5d15f987bafb434952d23")
ROUND_26 = ("62a97638a1e2245a5ae4e3fb9667f182cdde85e4",
            "8d78ccc8df6619765150f60fa8be32f307fcefa7")
ROUND_27 = ("8d78ccc8df6619765150f60fa8be32f307fcefa7",
            "f6a0266b654b489adab01e8087f6931dfd537310")
ROUND_28 = ("b18dcc1109cb569197b5ace38525c4a519ea7e28",
            "190df49f952e5f961f64f29fe0ea616f14c80199")
ROUND_29 = ("9b997d7520527537b75b695ff8e1e6c839cf3829",
            "46e842c4a023eeb2a3608429394b37a09cb77e34")
ROUND_30 = ("e5c91b44a3c37978c7e6e552d63c7af86e479d3e",
            "fb8e2c2ca0763db0b38bbdcf5d77958e5fa867a5")
ROUND_31 = ("5f29dca328c39a0845029ce0f71aed647f8225d8",
            "b731c34b4a47c322c4b81a61504330dd4f171628")
ROUND_32 = ("b731c34b4a47c322c4b81a61504330dd4f171628",
            "3c32c5c3f77ea8055434eda1300cef749bf8de8f")
ROUND_33 = ("3a6d84916ed1227d578b9bdac5f859cfe9588394",
            "d602aeed0f99b60de9ddb8c0a0d9f695f0269b00")
ROUND_34 = ("d602aeed0f99b60de9ddb8c0a0d9f695f0269b00",
            "216de5cd2b1fb839aed4a4d32b85818f7995dbec")
ROUND_35 = ("ab2c603b2bd3e512b41a9408ef38888c68ff8661",
            "c072f766aef82a1219a2a12f1f16a24f3d509c76")
ROUND_36 = ("46200d623837380b91ff5cd31e38d16e69d13979",
            "77b035001d44ac45d5ee083d2555d4e0e4dbd5ab")
ROUND_37 = ("918d9e3098208ac0fb1faf59be0dd6af2bd7c1b1",
            "27b987fe6bd45c6b642b410871a26fb2fb7b7f8c")
# round thirty-eight starts after round thirty-seven's narrowing (7baf171), which was a
# self-review of the wording, not drawn from any set: it stays in every set's rules
ROUND_38 = ("53400bdb4e67a525256b926186f267eebfa1e78a^",
            "53400bdb4e67a525256b926186f267eebfa1e78a")
ROUND_39 = ("6805e849bcb6d09dcc39b3124f20d06be37881f4^",
            "662eda075dc8f4da01fa6b5a8051291926d7bb55")
# (to the review's narrowing of round forty's own entries, 3de24f2: taken back with them)
ROUND_40 = ("5878148c45378e6815704cbb66fba93126ba8981^",
            "3de24f2ecf1a0b0274b541f1fe569db655fa3abc")
ROUND_41 = ("1cf35cc0d7497a2e65d1b68e4681278c5d50a84b^",
            "1cf35cc0d7497a2e65d1b68e4681278c5d50a84b")
ROUND_42 = ("eb133913821f49b4d545f249d71d9766b11a42bd^",
            "eb133913821f49b4d545f249d71d9766b11a42bd")
# (to the commit that made two of its additions entries of their own: taken back with it)
ROUND_43 = ("74016df8d92b0332757709e2d65ee12fe274340b^",
            "7c99934592bd07d1b0a002082278a5334d08cfb9")
ROUND_44 = ("3cb608058e953038f5856434907086a6d57c2fca^",
            "3cb608058e953038f5856434907086a6d57c2fca")
ROUND_45 = ("3f8e82886904a7b7a08051a151e0e9d03d59a0d6^",
            "3f8e82886904a7b7a08051a151e0e9d03d59a0d6")
ROUND_46 = ("621f86454628e26f08ffe494c2d27c5edfa47efb^",
            "621f86454628e26f08ffe494c2d27c5edfa47efb")
ROUND_47 = ("60825cafad250881f4eacbfa52fc3cecde73fe6c^",
            "60825cafad250881f4eacbfa52fc3cecde73fe6c")
# (from the commit that made the pay kind read the plain money_headline tag: those sets'
# misses showed it, so it is taken back with the round)
ROUND_48 = ("213725d594764cc7b8272e24e085646c28b9543d^",
            "da9c027fbabc2c2233f8a80d749587490d83f24a")
ROUND_49 = ("ea33ab30ab8a8dd982f2b06f890c49b51ba57f04^",
            "ea33ab30ab8a8dd982f2b06f890c49b51ba57f04")
ROUND_50 = ("973845d3fd1e6f4c033c72dfccb11f07f513a71b^",
            "973845d3fd1e6f4c033c72dfccb11f07f513a71b")
ROUND_51 = ("e0894a029cb8eeda4b4bfe2392a467330fec12a4^",
            "e0894a029cb8eeda4b4bfe2392a467330fec12a4")
ROUND_52 = ("45ae5302582fc23bec230a58a59f3ac125f6f7ce^",
            "45ae5302582fc23bec230a58a59f3ac125f6f7ce")
ROUND_53 = ("84db5e4611079e770989c79c2953932a2e0be9fb^",
            "84db5e4611079e770989c79c2953932a2e0be9fb")
ROUND_54 = ("6922d92fbdc6cf2f1e484f2dd044fb78fd223889^",
            "6922d92fbdc6cf2f1e484f2dd044fb78fd223889")
ROUND_55 = ("65c84de99425bf3b3b29e7a97e9d51c77c55834f^",
            "65c84de99425bf3b3b29e7a97e9d51c77c55834f")
ROUND_56 = ("fdfc50fa04d3fbc32dc1ede384f6a38a6d6993ce^",
            "fdfc50fa04d3fbc32dc1ede384f6a38a6d6993ce")
ROUND_57 = ("d1526203f607317d09a150b6605b3f18506b7234^",
            "d1526203f607317d09a150b6605b3f18506b7234")
ROUND_58 = ("c1c9484c91d5da3abbf57b81964a1f355b85d167^",
            "c1c9484c91d5da3abbf57b81964a1f355b85d167")
# the review's narrowing of each of rounds forty-one to forty-three, one commit a round,
# taken back after (that is, before) the round itself
MEND_41 = ("7c8fe779d850ed75f54ad671ebe1e8c03d2223b8^",
           "7c8fe779d850ed75f54ad671ebe1e8c03d2223b8")
MEND_42 = ("f752d2ec8e5059663d0dcde33ecf5ecc4c65ec1a^",
           "f752d2ec8e5059663d0dcde33ecf5ecc4c65ec1a")
MEND_43 = ("b99c31e7b5fe9783ade2877dcd833380cb20d2a0^",
           "b99c31e7b5fe9783ade2877dcd833380cb20d2a0")
# The patterns of rounds six to eight restructured to start at their rarest word (no
# verdict changed): taken back first, so that each round's own entries are found whole.
RESTARTED = ("bec14e56b4718663a354e647634b200241ac273a",
             "1fa890c5e46ffdef9c6202a18db2f7fe4d5af13d")
HISTORY: Mapping[str, tuple[tuple[str, str], ...]] = {
    "ourset.jsonl": (("206678b6674a673783bf6ab1f4e0e6b1fa16b4d8^1",
                      "206678b6674a673783bf6ab1f4e0e6b1fa16b4d8"),),
    "ourset2.jsonl": (("7b4fc27e3c34976ae506a61779ff964bc8c0b7e3^",
                       "7b4fc27e3c34976ae506a61779ff964bc8c0b7e3"),),
    "ourset3.jsonl": (("c85bb0f0610acd20ea741cb1378b988d7187d985^",
                       "c85bb0f0610acd20ea741cb1378b988d7187d985"),),
    "ourset4.jsonl": (("fbd8a2384159f795c034b1936dd5892d3daa5d12",
                       "d62fe48934bbfb80cecc5dedc851d0048877f70c"),),
    # issue 10, third round: the families written with ourset5's misses in view; fourth
    # round: the two changes its remaining misses prompted
    "ourset5.jsonl": (("ba81512aa3b9f2800b4f2e391932bf2e3d850d99",
                       "446540592eec21ca61addf7ebbb49df8d2768243"),
                      ("a90cc65c802bd3dcb1a58ad72f7e42833486f713",
                       "6776d06f404470620b317578da41884621a21177")),
    # issue 10, fourth round: written with ourset6's misses in view (the whole round is
    # taken back, the two ourset5 changes too: ourset6's figure is a lower bound)
    "ourset6.jsonl": (("a0aea5abbc4703658cb19790f09eb8e6324bd89c",
                       "b5a15031d64eae53424f850ebd68b9195d246c0d"),),
    # issue 10, fifth round: general false-alarm fixes and structure families written
    # with ourset7's misses in view
    "ourset7.jsonl": (("69ae59e00e169b1331ff30fcf78a00d1db3a5a61",
                       "2c3fcae79cf6a8e3d20d51ca87fb4a353050d5e5"),),
    # no rule was written from these two: the rules are the current ones, and the tone
    # model is fitted without the set
    # issue 10, sixth round: false alarms and misses of the development part, ourset3 to
    # ourset9 among them; taken back whole from every set it drew on (a lower bound)
    "ourset8.jsonl": (ROUND_6, RESTARTED),
    "ourset9.jsonl": (ROUND_6, RESTARTED),
    # issue 10, seventh round: written from ourset10's misses after its first-seen score
    "ourset10.jsonl": (ROUND_7, RESTARTED),
    # issue 10, eighth round: written from ourset11's misses after its first-seen score
    "ourset11.jsonl": (ROUND_8, RESTARTED),
    # issue 10, ninth round: written from ourset12's misses after its first-seen score
    "ourset12.jsonl": (ROUND_9,),
    # issue 10, tenth round: written from ourset13's misses after its first-seen score
    "ourset13.jsonl": (ROUND_10,),
    # issue 10, eleventh round: written from ourset14's misses after its first-seen score
    "ourset14.jsonl": (ROUND_11,),
    # issue 10, rounds twelve to twenty: each written from that set's misses after its
    # first-seen score
    "ourset16.jsonl": (ROUND_12,),
    "ourset17.jsonl": (ROUND_13,),
    "ourset18.jsonl": (ROUND_14,),
    "ourset19.jsonl": (ROUND_15,),
    "ourset20.jsonl": (ROUND_16,),
    "ourset21.jsonl": (ROUND_17,),
    "ourset22.jsonl": (ROUND_18,),
    "ourset23.jsonl": (ROUND_19,),
    "ourset24.jsonl": (ROUND_20,),
    # issue 10, rounds twenty-one and twenty-two: the same, from ourset25 and ourset26
    "ourset25.jsonl": (ROUND_21,),
    "ourset26.jsonl": (ROUND_22,),
    # rounds twenty-four and twenty-five: written from ourset28's and then ourset27's
    # misses, both sets scored first with the same rules (round twenty-three took nothing
    # from a labelled set: stock reasons, checked on our own sentences)
    "ourset27.jsonl": (ROUND_25,),
    "ourset28.jsonl": (ROUND_24,),
    # rounds twenty-six and twenty-seven: from ourset30's and then ourset29's misses, both
    # sets scored first with the rules of round twenty-five
    "ourset29.jsonl": (ROUND_27,),
    "ourset30.jsonl": (ROUND_26,),
    # round twenty-eight: from the misses of ourset31 and ourset32 together, both scored
    # first with the rules of round twenty-seven
    "ourset31.jsonl": (ROUND_28,),
    "ourset32.jsonl": (ROUND_28,),
    "ourset33.jsonl": (ROUND_29,),
    "ourset34.jsonl": (ROUND_30,),
    "ourset35.jsonl": (ROUND_32,),
    "ourset36.jsonl": (ROUND_31,),
    # round thirty-three: from the misses of ourset37 and ourset38 together, both scored
    # first with the rules of round thirty-two
    "ourset37.jsonl": (ROUND_33,),
    "ourset38.jsonl": (ROUND_33,),
    "ourset39.jsonl": (ROUND_34,),
    # round thirty-five: from the misses of ourset40, ourset41 and ourset42 together, all
    # three scored first with the rules of round thirty-four
    "ourset40.jsonl": (ROUND_35,),
    "ourset41.jsonl": (ROUND_35,),
    "ourset42.jsonl": (ROUND_35,),
    # round thirty-six: from the misses of ourset43, ourset44 and ourset45 together, all
    # three scored first with the rules of round thirty-five
    "ourset43.jsonl": (ROUND_36,),
    "ourset44.jsonl": (ROUND_36,),
    "ourset45.jsonl": (ROUND_36,),
    # round thirty-seven: from the misses of ourset46, ourset47 and ourset48 together, all
    # three scored first with the rules of round thirty-six
    "ourset46.jsonl": (ROUND_37,),
    "ourset47.jsonl": (ROUND_37,),
    "ourset48.jsonl": (ROUND_37,),
    # round thirty-eight: from the misses of ourset49, ourset50 and ourset51 together, all
    # three scored first with the rules of round thirty-seven as narrowed
    "ourset49.jsonl": (ROUND_38,),
    "ourset50.jsonl": (ROUND_38,),
    "ourset51.jsonl": (ROUND_38,),
    # round thirty-nine: from the misses of ourset52, ourset53 and ourset54 together, all
    # three scored first with the rules of round thirty-eight
    "ourset52.jsonl": (ROUND_39,),
    "ourset53.jsonl": (ROUND_39,),
    "ourset54.jsonl": (ROUND_39,),
    # round forty: from the misses of ourset55, ourset56 and ourset57 together, all three
    # scored first with round thirty-nine and the limits picked after it
    "ourset55.jsonl": (ROUND_40,),
    "ourset56.jsonl": (ROUND_40,),
    "ourset57.jsonl": (ROUND_40,),
    # round forty-one: from the misses of ourset58, ourset59 and ourset60 together, all
    # three scored first with round forty
    "ourset58.jsonl": (ROUND_41, MEND_41),
    "ourset59.jsonl": (ROUND_41, MEND_41),
    "ourset60.jsonl": (ROUND_41, MEND_41),
    # round forty-two: from the misses of ourset61, ourset62 and ourset63 together, all
    # three scored first with round forty-one and the model fitted on 59 sets
    "ourset61.jsonl": (ROUND_42, MEND_42),
    "ourset62.jsonl": (ROUND_42, MEND_42),
    "ourset63.jsonl": (ROUND_42, MEND_42),
    # round forty-three: from the misses of ourset64, ourset65 and ourset66 together, all
    # three scored first with round forty-two and the model fitted on 62 sets
    "ourset64.jsonl": (ROUND_43, MEND_43),
    "ourset65.jsonl": (ROUND_43, MEND_43),
    "ourset66.jsonl": (ROUND_43, MEND_43),
    # round forty-four: from the misses of ourset67, ourset68 and ourset69 together, all
    # three scored first with round forty-three, the typed variants and the model fitted on
    # 65 sets
    "ourset67.jsonl": (ROUND_44,),
    "ourset68.jsonl": (ROUND_44,),
    "ourset69.jsonl": (ROUND_44,),
    # round forty-five: from the misses of ourset70, ourset71 and ourset72 together, all
    # three scored first with round forty-four and the model fitted on 68 sets
    "ourset70.jsonl": (ROUND_45,),
    "ourset71.jsonl": (ROUND_45,),
    "ourset72.jsonl": (ROUND_45,),
    # round forty-six: from the misses of ourset73, ourset74 and ourset75 together, all
    # three scored first with round forty-five and the model fitted on 71 sets
    "ourset73.jsonl": (ROUND_46,),
    "ourset74.jsonl": (ROUND_46,),
    "ourset75.jsonl": (ROUND_46,),
    # round forty-seven: from the misses of ourset76, ourset77 and ourset78 together, all
    # three scored first with round forty-six and the model fitted on 74 sets
    "ourset76.jsonl": (ROUND_47,),
    "ourset77.jsonl": (ROUND_47,),
    "ourset78.jsonl": (ROUND_47,),
    # round forty-eight: from the misses of ourset79, ourset80 and ourset81 together, all
    # three scored first with round forty-seven and the model fitted on 77 sets
    "ourset79.jsonl": (ROUND_48,),
    "ourset80.jsonl": (ROUND_48,),
    "ourset81.jsonl": (ROUND_48,),
    # round forty-nine: from the misses of ourset82, ourset83 and ourset84 together, all
    # three scored first with round forty-eight, the model fitted on 80 sets and the
    # overrule limits picked on 80
    "ourset82.jsonl": (ROUND_49,),
    "ourset83.jsonl": (ROUND_49,),
    "ourset84.jsonl": (ROUND_49,),
    # round fifty: from the misses of ourset85, ourset86 and ourset87 together, all three
    # scored first with round forty-nine, the model fitted on 83 sets and the overrule
    # limits picked on 80
    "ourset85.jsonl": (ROUND_50,),
    "ourset86.jsonl": (ROUND_50,),
    "ourset87.jsonl": (ROUND_50,),
    # round fifty-one: from the misses of ourset88, ourset89 and ourset90 together, all
    # three scored first with round fifty, the model fitted on 86 sets and the overrule
    # limits picked on 80
    "ourset88.jsonl": (ROUND_51,),
    "ourset89.jsonl": (ROUND_51,),
    "ourset90.jsonl": (ROUND_51,),
    # round fifty-two: from the misses of ourset91, ourset92 and ourset93 together, all
    # three scored first with round fifty-one, the model fitted on 89 sets and the
    # overrule limits picked on 80
    "ourset91.jsonl": (ROUND_52,),
    "ourset92.jsonl": (ROUND_52,),
    "ourset93.jsonl": (ROUND_52,),
    # round fifty-three: from the misses of ourset94, ourset95 and ourset96 together, all
    # three scored first with round fifty-two, the model fitted on 92 sets and the
    # overrule limits picked on 80
    "ourset94.jsonl": (ROUND_53,),
    "ourset95.jsonl": (ROUND_53,),
    "ourset96.jsonl": (ROUND_53,),
    # round fifty-four: from the misses of ourset97, ourset98 and ourset99 together, all
    # three scored first with round fifty-three, the model fitted on 95 sets and the
    # overrule limits picked on 80
    "ourset97.jsonl": (ROUND_54,),
    "ourset98.jsonl": (ROUND_54,),
    "ourset99.jsonl": (ROUND_54,),
    # round fifty-five: from the misses of ourset100, ourset101 and ourset102 together, all
    # three scored first with round fifty-four, the model fitted on 98 sets and the
    # overrule limits picked on 80
    "ourset100.jsonl": (ROUND_55,),
    "ourset101.jsonl": (ROUND_55,),
    "ourset102.jsonl": (ROUND_55,),
    # round fifty-six: from the misses of ourset103, ourset104 and ourset105 together, all
    # three scored first with round fifty-five, the model fitted on 101 sets and the
    # overrule limits picked on 80
    "ourset103.jsonl": (ROUND_56,),
    "ourset104.jsonl": (ROUND_56,),
    "ourset105.jsonl": (ROUND_56,),
    # round fifty-seven: from the misses of ourset106, ourset107 and ourset108 together, all
    # three scored first with round fifty-six, the model fitted on 104 sets and the
    # overrule limits picked on 80
    "ourset106.jsonl": (ROUND_57,),
    "ourset107.jsonl": (ROUND_57,),
    "ourset108.jsonl": (ROUND_57,),
    # round fifty-eight: from the misses of ourset109, ourset110 and ourset111 together, all
    # three scored first with round fifty-seven, the model fitted on 107 sets and the
    # overrule limits picked on 80
    "ourset109.jsonl": (ROUND_58,),
    "ourset110.jsonl": (ROUND_58,),
    "ourset111.jsonl": (ROUND_58,),
}
RULES_PATH = "dialogs/scripts/rules"


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)")


def _nearest(found: list[int], where: int) -> int:
    return min(found, key=lambda line: abs(line - where))


def _line_of(commit: str, name: str, index: int) -> str | None:
    """Line ``index + 1`` (1-based) of rule file ``name`` as of ``commit``: the line a
    removal followed."""
    lines = _lines_at(str(ROOT), commit, name)
    return lines[index] if 0 <= index < len(lines) else None


@functools.cache
def _lines_at(root: str, commit: str, name: str) -> tuple[str, ...]:
    """A rule file as of ``commit``, read once however many removals it had."""
    return tuple(subprocess.run(
        ["git", "-C", root, "show", f"{commit}:{RULES_PATH}/{name}"],
        capture_output=True, text=True, check=False,
    ).stdout.split("\n"))


def take_back(first: str, second: str, folder: Path) -> list[str]:
    """Take the rule-file changes from ``first`` to ``second`` out of the rules in
    ``folder``: each added block that is still there word for word goes back to what it
    replaced; a line that later changes only lengthened (words appended to a list) goes
    back with those words kept; an entry edited since is dropped whole; a file the range
    created and that is left empty is removed. Returns what could not be taken back.

    Blocks are taken back from the bottom of each file up, and where the same lines occur
    more than once (an example moved to a new entry, an id in both languages) the
    occurrence nearest to where the diff put them is meant."""
    diff = subprocess.run(
        ["git", "-C", str(ROOT), "diff", "-U0", first, second, "--", RULES_PATH],
        capture_output=True, text=True, check=True,
    ).stdout
    blocks: list[tuple[str, int, list[str], list[str]]] = []
    name = ""
    for line in diff.splitlines():
        if line.startswith("+++ "):
            name = line.rsplit("/", 1)[-1]
        elif line.startswith("@@"):
            hunk = _HUNK.match(line)
            blocks.append((name, int(hunk.group(1)) - 1 if hunk else 0, [], []))
        elif blocks and line.startswith("+"):
            blocks[-1][3].append(line[1:])
        elif blocks and line.startswith("-") and not line.startswith("---"):
            blocks[-1][2].append(line[1:])
    left: list[str] = []
    for name, where, removed, added in sorted(blocks, key=lambda b: (b[0], -b[1])):
        path = folder / name
        if not path.exists():
            left.append(f"{name}: {(removed or added)[:1]}")
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        if not added:  # lines the range removed: back after the line they followed
            before = _line_of(second, name, where)
            after = [i for i, text in enumerate(lines) if before is not None and text == before]
            if not after:
                left.append(f"{name}: {removed[:1]}")
                continue
            at_line = _nearest(after, where) + 1
            lines[at_line:at_line] = removed
            path.write_text("\n".join(lines), encoding="utf-8")
            continue

        size = len(added)
        at = [i for i in range(len(lines) - size + 1) if lines[i:i + size] == added]
        # each line of the block still starts the line it became (words appended since)
        lengthened = [i for i in range(len(lines) - size + 1) if size == len(removed)
                      and all(lines[i + j].startswith(line) for j, line in enumerate(added))
                      and not lines[i].startswith("  - id: ")]
        ids = [i for i, text in enumerate(lines) if text == added[0]]
        if at:
            start = _nearest(at, where)
            lines[start:start + size] = removed
        elif lengthened:
            start = _nearest(lengthened, where)
            for j, line in enumerate(added):
                lines[start + j] = removed[j] + lines[start + j][len(line):]
        elif added[0].startswith("  - id: ") and ids:
            start = end = _nearest(ids, where)
            end += 1
            while end < len(lines) and lines[end].startswith("    "):
                end += 1
            lines[start:end] = removed
        else:
            left.append(f"{name}: {added[0].strip()}")
            continue
        path.write_text("\n".join(lines), encoding="utf-8")
    for path in folder.glob("*.yaml"):
        if not path.read_text(encoding="utf-8").strip():
            path.unlink()
    return left


def history(paths: Iterable[Path]) -> None:
    """Score each of our sets with the current rules minus that set's own lessons."""
    print("leave-one-set-out through history (current rules minus the changes each set "
          "prompted)")
    for path in paths:
        commits = HISTORY.get(path.name)
        if commits is None:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "rules"
            shutil.copytree(ROOT / RULES_PATH, folder)
            try:
                left = [item for first, second in reversed(commits)
                        for item in take_back(first, second, folder)]
            except (OSError, subprocess.CalledProcessError) as exc:
                print(f"  {path.name}: the history is not available ({exc})")
                continue
            child = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--rules", str(folder),
                 "--tone-without", path.name, "--by-set", str(path)],
                capture_output=True, text=True, check=False,
            )
        if child.returncode:
            print(f"  {path.name}: failed: {child.stderr.strip().splitlines()[-1:]}")
            continue
        for line in child.stdout.splitlines()[2:]:
            print(f"  {line}")
        if left:
            print(f"    ({len(left)} change(s) could not be taken back)")


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


def time_analysis(number: int = 2000, repeat: int = 5) -> None:
    """Mean time per analysis (best of ``repeat`` runs, so other load does not count)."""
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


CV_FOLDS = 5
CV_THRESHOLDS: Mapping[str, tuple[float, ...]] = {
    "en": (-0.05, -0.15, -0.25, -0.3, -0.4, -0.5, -0.6, -0.7),
    "zh": (-0.5, -1.0, -1.5, -2.0, -2.5, -3.0),
}


def _fold(source: str) -> int:
    return int(hashlib.sha1(f"fold:{source}".encode()).hexdigest(), 16) % CV_FOLDS


def _agreement(pairs: Iterable[tuple[Item, Analysis]]) -> tuple[int, int]:
    agreed = total = 0
    for item, analysis in pairs:
        if item.label == "mixed":
            continue
        total += 1
        agreed += (analysis.verdict == "red_flag") == (item.label == "bad")
    return agreed, total


def cross_validate(items: list[Item]) -> None:
    """Fit the sentiment threshold per fold (folds by source), score the held fold."""
    print(f"cross-validation of the sentiment threshold, {CV_FOLDS} folds by source")
    for lang, grid in CV_THRESHOLDS.items():
        chosen = [i for i in items if i.lang == lang and i.label != "mixed"]
        by_threshold: dict[float, list[tuple[Item, Analysis]]] = {}
        for value in grid:
            sentiment.threshold_overrides[lang] = value
            by_threshold[value] = evaluate(chosen)
        sentiment.threshold_overrides.pop(lang, None)
        declared = sentiment.settings(lang).threshold
        fitted_agreed = fitted_total = 0
        picks = []
        for fold in range(CV_FOLDS):
            def on(results: list[tuple[Item, Analysis]], inside: bool,
                   fold: int = fold) -> list[tuple[Item, Analysis]]:
                return [(i, a) for i, a in results if (_fold(i.source) == fold) == inside]
            best = max(grid, key=lambda v: (_agreement(on(by_threshold[v], False))[0], -abs(v)))
            agreed, total = _agreement(on(by_threshold[best], True))
            fitted_agreed += agreed
            fitted_total += total
            picks.append(best)
        fixed = _agreement(evaluate(chosen))
        development = max(grid, key=lambda v: (_agreement(
            (i, a) for i, a in by_threshold[v] if i.side == "development")[0], -abs(v)))
        print(f"  {lang}: fitted per fold {picks} -> held folds {fitted_agreed}/{fitted_total}"
              f" = {fitted_agreed / max(1, fitted_total):.1%}; declared {declared}: "
              f"{fixed[0]}/{fixed[1]} = {fixed[0] / max(1, fixed[1]):.1%} (all sources); "
              f"best on the development part alone: {development}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--verbose", action="store_true", help="list the development misses")
    parser.add_argument("--show-held-out", action="store_true",
                        help="also list the held-out misses (only once the rules are written)")
    parser.add_argument("--time", action="store_true", help="also time a 150-word answer")
    parser.add_argument("--cv", action="store_true",
                        help="cross-validate the sentiment threshold by source")
    parser.add_argument("--by-set", action="store_true",
                        help="figures per file and spoken set instead of the held-out split")
    parser.add_argument("--history", action="store_true",
                        help="leave-one-set-out: each of our sets without its own rule changes")
    parser.add_argument("--rules", type=Path, metavar="DIR",
                        help="score with the rule files of another folder")
    parser.add_argument("--no-tone", action="store_true",
                        help="the rules alone: the tone model never fires")
    parser.add_argument("--tone-without", metavar="SET",
                        help="a tone model fitted on our sets other than SET (a file name)")
    parser.add_argument("--overrule-limit", type=float, metavar="CLARITY",
                        help="withdraw a single overrulable red flag at or below this "
                             "clarity (the tone model's log-odds over the root of the "
                             "answer's sequences) instead of the declared limit (inf: "
                             "always, -inf: never)")
    parser.add_argument("--verdicts", action="store_true",
                        help="print only whether the analyzer finds a red flag, per id (JSON)")
    parser.add_argument("--flags", action="store_true",
                        help="print only the red flags the analyzer finds, per id (JSON)")
    args = parser.parse_args(argv)
    if args.overrule_limit is not None:
        tone.limit_overrides.update(dict.fromkeys(tone.LANGS, args.overrule_limit))
    if args.no_tone:
        tone_off()
    elif args.tone_without:
        tone_without(args.tone_without)
    paths = args.paths or [*sorted(EVAL_DIR.glob("*.jsonl")), *OUR_SETS]
    if not paths:
        print(f"no labelled answers found in {EVAL_DIR}", file=sys.stderr)
        return 1
    if args.verdicts:
        print(json.dumps({item.id: a.verdict == "red_flag"
                          for item, a in evaluate(load_items(paths))}))
        return 0
    if args.flags:
        print(json.dumps({item.id: [f.id for f in a.red_flags]
                          for item, a in evaluate(load_items(paths))}))
        return 0
    print("datasets: " + ", ".join(str(p) for p in paths))
    if args.history:
        history(p for p in paths if p.name in HISTORY)
        return 0
    items = load_items(paths)
    if args.by_set:
        report_by_set(evaluate(items))
    else:
        report(evaluate(items), args.verbose, args.show_held_out)
    if args.cv:
        cross_validate(items)
    if args.time:
        time_analysis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
