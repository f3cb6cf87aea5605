"""The rule files: one entry per finding, validated on load, examples run as tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from leavewell.dialogs.analyzer import analyze, finding_message, finding_tip
from leavewell.dialogs.analyzer.examples import failing_examples, rule_entries, rule_matches
from leavewell.dialogs.analyzer.rulebook import (
    LANGS,
    RULES_DIR,
    default_rulebook,
    load_rulebook,
    parse_finding,
)
from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.findings import ALL_FINDING_IDS, IMPROVEMENT_IDS, RED_FLAG_IDS, STRENGTH_IDS
from leavewell.dialogs.script import default_script

BOOK = default_rulebook()
RUBRICS = {sid: spec.rubric for sid, spec in default_script().situations.items()}
EXAMPLES = [
    pytest.param(fid, lang, example, expect, id=f"{fid}-{lang}-{expect}-{i}")
    for fid, rule in BOOK.findings.items()
    for lang, examples in rule.examples.items()
    for expect, items in (("fire", examples.fire), ("quiet", examples.quiet))
    for i, example in enumerate(items)
]


def _ids(text: str, lang: str, situation: str) -> set[str]:
    result = analyze(text, lang=lang, rubric=RUBRICS[situation])
    return {f.id for f in (*result.red_flags, *result.improvements, *result.strengths)}


@pytest.mark.parametrize(("fid", "lang", "example", "expect"), EXAMPLES)
def test_rule_examples(fid: str, lang: str, example, expect: str) -> None:
    found = fid in _ids(example.text, lang, example.situation)
    assert found == (expect == "fire"), (fid, lang, example.text)


RULE_EXAMPLES = [
    pytest.param(lang, row.rule, text, expect, id=f"{row.rule}-{lang}-{expect}-{i}")
    for lang, row in rule_entries(BOOK)
    for expect, items in (("fire", row.examples.fire), ("quiet", row.examples.quiet))
    for i, text in enumerate(items)
]


@pytest.mark.parametrize(("lang", "rule", "text", "expect"), RULE_EXAMPLES)
def test_rule_entry_examples(lang: str, rule: str, text: str, expect: str) -> None:
    assert rule_matches(lang, rule, text) == (expect == "fire"), (rule, text)


def test_rule_entry_examples_are_checked_by_leavewell_check(tmp_path: Path) -> None:
    assert RULE_EXAMPLES, "no rule entry declares examples"
    assert failing_examples() == []
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    data = yaml.safe_load((folder / "blame.yaml").read_text(encoding="utf-8"))
    data["rules"]["en"][0]["examples"] = {"fire": "not a list"}
    (folder / "blame.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                       encoding="utf-8")
    with pytest.raises(ScriptError, match=r"blame.yaml: rules.en\[0\].examples.fire"):
        load_rulebook(folder)


def test_a_key_given_twice_is_an_error_not_silently_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    path = folder / "blame.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\nrules:\n", "\nrank: 21\nrules:\n", 1), encoding="utf-8")
    with pytest.raises(ScriptError, match=r"blame.yaml: line \d+: 'rank' is given twice"):
        load_rulebook(folder)


def test_every_red_flag_has_examples_both_ways_in_every_language() -> None:
    for fid in RED_FLAG_IDS:
        for lang in LANGS:
            examples = BOOK.findings[fid].examples.get(lang)
            assert examples is not None and examples.fire and examples.quiet, (fid, lang)


def test_ids_come_from_the_rule_files() -> None:
    files = {p.stem for p in RULES_DIR.glob("*.yaml")} - {"signals", "languages", "reasons"}
    assert set(ALL_FINDING_IDS) == files
    assert ALL_FINDING_IDS == RED_FLAG_IDS + IMPROVEMENT_IDS + STRENGTH_IDS
    ranks = [BOOK.findings[f].rank for f in RED_FLAG_IDS]
    assert ranks == sorted(ranks)


def test_texts_exist_in_every_language() -> None:
    for fid in ALL_FINDING_IDS:
        for lang in LANGS:
            assert finding_message(fid, lang)
            if fid not in STRENGTH_IDS:
                assert finding_tip(fid, lang)


def test_every_rule_id_is_unique_and_named_after_its_file() -> None:
    for lang, lexicon in BOOK.lexicons.items():
        rules = [r.rule for r in (*lexicon.terms, *lexicon.patterns)]
        assert len(rules) == len(set(rules)), lang
        for rule in rules:
            owner = rule.split(".")[0]
            assert owner in ALL_FINDING_IDS or owner == "signal", rule


def _finding(**changes: object) -> dict[str, object]:
    data = yaml.safe_load((RULES_DIR / "blame.yaml").read_text(encoding="utf-8"))
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"kind": "warning"}, r"blame\.yaml: kind: must be one of"),
        ({"rank": "first"}, r"blame\.yaml: rank: must be a whole number"),
        ({"id": "Blame"}, r"blame\.yaml: id: 'Blame' must be lower_case"),
        ({"surprise": 1}, r"blame\.yaml\.surprise: unknown field"),
        ({"rules": {"en": [{"id": "x", "regex": "(unclosed"}]}},
         r"rules\.en\[0\]\.regex: not a valid regular expression"),
        ({"rules": {"en": [{"id": "x", "regex": "a", "after": "b"}]}},
         r"rules\.en\[0\]\.after: must end with \$"),
        ({"rules": {"en": [{"id": "x", "terms": "a", "not_after": "b$"}]}},
         r"rules\.en\[0\]: after and not_after need a regex, not terms"),
        ({"rules": {"fr": []}}, r"rules\.fr: unknown language"),
        ({"texts": {"en": {"name": "n", "message": "m", "tip": "t", "infer": "i"}}},
         r"texts\.zh: missing"),
        ({"suppressed_by": {"trash_talk~soft": ["ownership"]}},
         r"suppressed_by\.trash_talk~soft: must be a tag of this finding"),
    ],
)
def test_a_bad_entry_names_its_file_and_field(changes: dict[str, object], error: str) -> None:
    with pytest.raises(ScriptError, match=error):
        parse_finding(_finding(**changes), "blame.yaml")


def test_a_mentor_adds_a_rule_in_yaml_only(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    (folder / "name_dropping.yaml").write_text(yaml.safe_dump({
        "id": "name_dropping", "kind": "red_flag", "rank": 65, "points": 20,
        "meaning": "Drops the names of famous people to impress.",
        "texts": {lang: {"name": "Name dropping", "message": "m", "tip": "t", "infer": "i"}
                  for lang in LANGS},
        "rules": {"en": [{"id": "words", "terms": ["i know elon | friends with elon"]}]},
    }), encoding="utf-8")
    book = load_rulebook(folder)
    assert "name_dropping" in book.ids("red_flag")
    assert any(t.rule == "name_dropping.words" for t in book.lexicons["en"].terms)


def test_a_missing_folder_or_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="rules folder is missing"):
        load_rulebook(tmp_path / "nowhere")
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    (folder / "blame.yaml").write_text("id: [", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^blame\.yaml: not valid YAML"):
        load_rulebook(folder)


def test_check_reports_an_example_that_does_not_behave(tmp_path: Path) -> None:
    from leavewell.dialogs.analyzer.examples import failing_examples

    assert failing_examples() == []
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    path = folder / "blame.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["examples"]["en"]["fire"].append("I loved every day there and want to grow.")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    failures = failing_examples(load_rulebook(folder))
    assert failures == ["blame.yaml: blame should fire on (en, unspecified) "
                        "'I loved every day there and want to grow.'"]


def test_check_reports_a_tag_that_raises_nothing() -> None:
    # money_headline is raised only through the reason table: an entry tagged with a
    # variant the table's kinds do not list matches and passes its own examples, yet
    # can never raise the finding (22 entries were in that state before it was checked)
    import dataclasses

    from leavewell.dialogs.analyzer.examples import unread_reason_tags
    from leavewell.dialogs.analyzer.reasons import reason_table

    table = reason_table()
    assert unread_reason_tags(BOOK, table) == []
    kinds = {kind: tuple(tag for tag in tags if tag != "money_headline")
             for kind, tags in table.kinds.items()}
    failures = unread_reason_tags(BOOK, dataclasses.replace(table, kinds=kinds))
    assert "rule money_headline.better-off-pattern (en): tag 'money_headline' is read by " \
           "nothing: money_headline is raised only through the kinds of reasons.yaml, " \
           "which do not list it" in failures
    assert any("money_headline.earns-more-pattern (zh)" in line for line in failures)


def test_a_pay_entry_of_the_rule_files_raises_money_as_the_headline() -> None:
    result = analyze("With your shift allowances I'd be about four hundred a month better "
                     "off, so that's what's driving it.", lang="en", rubric=RUBRICS["employed"])
    assert "money_headline" in {f.id for f in result.red_flags}
