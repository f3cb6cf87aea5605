"""The rule files' must-fire and must-not-fire examples, run against the analyzer
(by the test suite and by ``leavewell check``, so a rule added in YAML is checked)."""

from __future__ import annotations

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.analyzer.rulebook import Rulebook, default_rulebook
from leavewell.dialogs.script import default_script


def failing_examples(book: Rulebook | None = None) -> list[str]:
    """One line per example that does not behave as its rule file says."""
    book = book or default_rulebook()
    situations = default_script().situations
    failures = []
    for fid, rule in book.findings.items():
        for lang, examples in rule.examples.items():
            for expect, items in (("fire", examples.fire), ("quiet", examples.quiet)):
                for example in items:
                    spec = situations.get(example.situation)
                    if spec is None:
                        failures.append(f"{rule.file}: examples.{lang}.{expect}: unknown "
                                        f"situation {example.situation!r}")
                        continue
                    result = analyze(example.text, lang=lang, rubric=spec.rubric)
                    found = fid in {f.id for f in (*result.red_flags, *result.improvements,
                                                   *result.strengths)}
                    if found != (expect == "fire"):
                        verb = "should fire on" if expect == "fire" else "fires on"
                        failures.append(f"{rule.file}: {fid} {verb} ({lang}, "
                                        f"{example.situation}) {example.text!r}")
    return failures
