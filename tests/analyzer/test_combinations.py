"""The combinations of ``rules/reasons.yaml``: a reason kind that means a finding
wherever it is said, when nothing in the answer looks forward."""

from __future__ import annotations

import pytest

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.analyzer.reasons import _combination, reason_table
from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.script import default_script

RUBRICS = {sid: spec.rubric for sid, spec in default_script().situations.items()}
KINDS = reason_table().kinds


def test_every_combination_declares_examples_both_ways() -> None:
    for combo in reason_table().combinations:
        assert combo.examples, combo.id
        for lang, examples in combo.examples.items():
            assert examples.fire and examples.quiet, (combo.id, lang)


def test_pay_said_as_an_aside_with_nothing_forward_is_the_headline() -> None:
    text = "My position was cut in March, and now I only want better compensation."
    result = analyze(text, lang="en", rubric=RUBRICS["laid_off"])
    flag = next(f for f in result.red_flags if f.id == "money_headline")
    assert [e.text for e in flag.evidence] == ["better compensation"]
    assert not any(f.id == "pay_aside" for f in result.improvements)


@pytest.mark.parametrize("entry, message", [
    ({"id": "x", "kinds": ["salary"], "means": "money_headline"}, "unknown reason kind"),
    ({"id": "x", "kinds": ["pay"]}, "malformed"),
    ({"id": "x", "means": "money_headline"}, "give kinds or tags"),
    ({"id": "x", "kinds": ["pay"], "means": "money_headline", "when": 1}, "unknown key"),
    ("pay", "must be a mapping"),
])
def test_malformed_combinations_are_refused(entry: object, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        _combination(entry, 0, KINDS, "reasons.yaml")


def test_with_tags_must_be_found_and_without_tags_must_not() -> None:
    combo = _combination({"id": "x", "kinds": ["growth"], "with": ["cliche"],
                          "without": ["specific"], "means": "evasive",
                          "situations": ["employed"]}, 0, KINDS, "reasons.yaml")
    stated = {"growth": [(0, 4)]}
    assert combo.applies("employed", stated, {"cliche": [(5, 9)]})
    assert not combo.applies("employed", stated, {})
    assert not combo.applies("employed", stated, {"cliche": [(5, 9)], "specific": [(1, 2)]})
    assert not combo.applies("laid_off", stated, {"cliche": [(5, 9)]})
