"""What the per-language analyzer tests share."""

from __future__ import annotations

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.findings import Analysis
from leavewell.dialogs.script import default_script

# The rubrics as declared in situations.yaml.
RUBRICS = {sid: spec.rubric for sid, spec in default_script().situations.items()}


def run(text: str, lang: str, situation: str = "unspecified", **kwargs: object) -> Analysis:
    return analyze(text, lang=lang, rubric=RUBRICS[situation], **kwargs)  # type: ignore[arg-type]


def found(analysis: Analysis) -> set[str]:
    return {f.id for f in (*analysis.red_flags, *analysis.improvements, *analysis.strengths)}


def assert_exact_evidence(text: str, analysis: Analysis) -> None:
    for f in (*analysis.red_flags, *analysis.improvements, *analysis.strengths):
        for e in f.evidence:
            assert 0 <= e.start < e.end <= len(text)
            assert text[e.start:e.end] == e.text, (f.id, e)
