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


def test_headline_only_kinds_count_as_the_headline_and_none_as_no_reason() -> None:
    combo = _combination({"id": "x", "kinds": ["none", "vague"], "headline": True,
                          "without": ["direction"], "means": "evasive"},
                         0, KINDS, "reasons.yaml")
    assert combo.headline_only
    assert combo.applies("employed", {}, {}, "none")
    assert combo.applies("employed", {"vague": [(0, 4)]}, {}, "vague")
    # vague said in passing, with another reason as the headline, is not this
    assert not combo.applies("employed", {"vague": [(0, 4)], "pay": [(5, 9)]}, {}, "pay")
    assert not combo.applies("employed", {}, {"direction": [(0, 3)]}, "none")


def test_an_answer_with_no_reason_and_nothing_forward_dodges_the_question() -> None:
    result = analyze("There were a few things. It is what it is.", lang="en",
                     rubric=RUBRICS["unspecified"])
    assert [f.id for f in result.red_flags] == ["evasive"]
    quiet = analyze("There were a few things, and I now want to run a warehouse team.",
                    lang="en", rubric=RUBRICS["unspecified"])
    assert not any(f.id == "evasive" for f in quiet.red_flags)


def test_a_firing_told_as_a_parting_quotes_the_parting() -> None:
    result = analyze("It was a mutual decision after the merger. These things happen.",
                     lang="en", rubric=RUBRICS["let_go"])
    flag = next(f for f in result.red_flags if f.id == "contradicts_situation")
    assert "mutual decision" in [e.text for e in flag.evidence]


def test_a_none_row_in_meaning_still_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    # the older way to declare "no reason and no direction" keeps working
    from leavewell.dialogs.analyzer import analysis
    from leavewell.dialogs.analyzer.reasons import ReasonTable

    table = reason_table()
    old = ReasonTable(table.kinds, table.direction, table.not_headline, table.markers,
                      table.marker_reach, {"default": {"none": {"headline": "evasive"}}},
                      table.asides, table.aside_reach, ())
    monkeypatch.setattr(analysis.reason_rules, "reason_table", lambda: old)
    result = analyze("There were a few things. It is what it is.", lang="en",
                     rubric=RUBRICS["unspecified"])
    assert [(f.id, f.signal) for f in result.red_flags] == [("evasive", "reason")]


def test_pay_said_again_and_again_is_the_headline_wherever_it_starts() -> None:
    opens_with_growth = (
        "I've learned a lot on this team and grown as a planner. What pulls me here is the "
        "take-home: the gratuities are on another level, and a friend doubled her take-home "
        "in a year. Honestly, it's the earning potential.")
    result = analyze(opens_with_growth, lang="en", rubric=RUBRICS["employed"])
    assert result.reason == "pay"
    assert "money_headline" in [f.id for f in result.red_flags]
    once = analyze("I've learned a lot on this team and grown as a planner, and I want to "
                   "run weddings end to end, which your studio does; the pay is better too.",
                   lang="en", rubric=RUBRICS["employed"])
    assert once.reason == "growth"
    assert "money_headline" not in [f.id for f in once.red_flags]
