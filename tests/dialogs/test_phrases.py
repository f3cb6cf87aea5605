"""The phrase bank (stronger English wordings with Chinese glosses) and the glossary."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.analyzer.analysis import MATCHERS
from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.findings import IMPROVEMENT_IDS, RED_FLAG_IDS
from leavewell.dialogs.phrases import (
    GLOSSARY_FILE,
    PHRASE_FINDING_IDS,
    PHRASES_FILE,
    default_glossary,
    default_phrase_bank,
    load_glossary,
    load_phrase_bank,
)
from leavewell.dialogs.script import default_script

BANK = default_phrase_bank()
GLOSSARY = default_glossary()
ALTERNATIVES = [(entry.finding, entry.index, alt.text) for entry, alt in BANK.alternatives()]
HAN = re.compile("[\u4e00-\u9fff]")


def run(answer: str, situation: str | None = None) -> dict[str, Any]:
    rubric = default_script().situation(situation).rubric
    return analyze(answer, lang="en", rubric=rubric).to_dict()


def model_answers() -> list[str]:
    situations = default_script().catalogs["en"].situations
    return [texts["skeleton"] for texts in situations.values()]


# -- the shipped data ------------------------------------------------------------------


def test_the_risky_findings_have_phrase_help() -> None:
    assert set(BANK.finding_ids) >= {
        "trash_talk", "blame", "money_headline", "workload_complaint", "oversharing",
        "evasive", "hedging",
    }
    assert set(BANK.finding_ids) <= set(RED_FLAG_IDS + IMPROVEMENT_IDS)
    for fid in BANK.finding_ids:
        assert BANK.default_entry(fid) is not None
        for entry in BANK.entries(fid):
            assert 2 <= len(entry.alternatives) <= 3
            for alt in entry.alternatives:
                assert not HAN.search(alt.text) and HAN.search(alt.gloss)


@pytest.mark.parametrize(("finding", "index", "text"), ALTERNATIVES)
def test_every_alternative_is_itself_a_clean_answer(finding: str, index: int, text: str) -> None:
    result = run(text)
    assert result["red_flags"] == [], (finding, index, result["red_flags"])
    assert "hedging" not in {f["id"] for f in result["improvements"]}
    # not even a single hedge word
    assert not MATCHERS["en"].scan(MATCHERS["en"].normalize(text)).hits.get("hedge")


def test_glossary_size_and_shape() -> None:
    assert 25 <= len(GLOSSARY.words) <= 60
    for word, gloss in GLOSSARY.words.items():
        assert word == word.lower() and not HAN.search(word)
        assert HAN.search(gloss)


def test_every_glossary_word_occurs_in_a_model_answer_or_an_alternative() -> None:
    """So the glossary cannot rot when the texts change."""
    sources = [*model_answers(), *(text for _, _, text in ALTERNATIVES)]
    found = {g["word"] for text in sources for g in GLOSSARY.gloss(text, limit=100)}
    assert set(GLOSSARY.words) - found == set()


def test_the_model_answers_get_glosses() -> None:
    for skeleton in model_answers():
        assert GLOSSARY.gloss(skeleton), skeleton


# -- suggest -----------------------------------------------------------------------------


def test_suggestions_quote_the_answer_and_come_gravest_first() -> None:
    answer = ("Maybe I guess it was time. My boss was a jerk, and honestly it wasn't my fault. "
              "I was underpaid too.")
    analysis = run(answer)
    suggestions = BANK.suggest(analysis, limit=10, answer=answer)
    assert [s["finding"] for s in suggestions] == [
        "trash_talk", "blame", "money_headline", "hedging"]
    for s in suggestions:
        assert s["phrase"] in answer
        assert 2 <= len(s["alternatives"]) <= 3
        assert all(set(a) == {"text", "gloss"} for a in s["alternatives"])
    order = list(PHRASE_FINDING_IDS)
    assert [order.index(s["finding"]) for s in suggestions] == sorted(
        order.index(s["finding"]) for s in suggestions)


def test_limit() -> None:
    answer = "My boss was a jerk. It wasn't my fault. I was underpaid and burned out."
    analysis = run(answer)
    assert len(BANK.suggest(analysis)) == 3
    assert len(BANK.suggest(analysis, limit=1)) == 1
    assert BANK.suggest(analysis, limit=0) == []


def first_alternative(said: str, finding: str, **kwargs: Any) -> tuple[str, str]:
    items = [s for s in BANK.suggest(run(said), limit=10, **kwargs) if s["finding"] == finding]
    assert items, said
    return items[0]["phrase"], items[0]["alternatives"][0]["text"]


def entry_texts(finding: str, trigger: str) -> set[str]:
    entry = next(e for e in BANK.entries(finding) if trigger in e.when)
    return {a.text for a in entry.alternatives}


def test_the_evidence_picks_the_fitting_entry() -> None:
    phrase, text = first_alternative("My manager was terrible.", "trash_talk")
    assert "manager" in phrase.lower() and text in entry_texts("trash_talk", "boss")
    _, text = first_alternative("The company was going nowhere.", "trash_talk")
    assert text in entry_texts("trash_talk", "sinking")
    _, text = first_alternative("I was underpaid for years.", "money_headline")
    assert text in entry_texts("money_headline", "underpaid")
    _, text = first_alternative("I left for more money.", "money_headline")
    assert text in {a.text for a in BANK.default_entry("money_headline").alternatives}
    _, text = first_alternative("I was working weekends all the time.", "workload_complaint")
    assert text in entry_texts("workload_complaint", "weekend")
    _, text = first_alternative("I had a mental breakdown last spring.", "oversharing")
    assert text in entry_texts("oversharing", "health")


def test_the_sentence_around_the_phrase_helps_when_the_answer_is_given() -> None:
    answer = "I worked hard there. My boss was a jerk, to be honest."
    default = {a.text for a in BANK.default_entry("trash_talk").alternatives}
    assert first_alternative(answer, "trash_talk")[1] in default
    _, text = first_alternative(answer, "trash_talk", answer=answer)
    assert text in entry_texts("trash_talk", "boss")


def test_one_suggestion_per_distinct_phrase_and_per_advice() -> None:
    # "jealous" is both trash talk and blame: suggested once, under the graver finding
    answer = "They were jealous of me."
    suggestions = BANK.suggest(run(answer), limit=10)
    assert [(s["finding"], s["phrase"]) for s in suggestions] == [("trash_talk", "jealous")]
    # two insults that would get the same advice: the second gets the default entry once
    answer = "My boss was a jerk and an idiot, a total moron."
    suggestions = BANK.suggest(run(answer), limit=10, answer=answer)
    assert [s["phrase"] for s in suggestions] == ["jerk", "idiot"]
    texts = [tuple(a["text"] for a in s["alternatives"]) for s in suggestions]
    assert len(set(texts)) == 2


def test_no_suggestions_for_clean_or_chinese_answers() -> None:
    clean = ("I'm proud of the reporting pipeline I built, and I'm ready for a larger data "
             "engineering role like this one.")
    assert BANK.suggest(run(clean)) == []
    rubric = default_script().situation(None).rubric
    zh = analyze("我的老板很差劲，不是我的错。", lang="zh", rubric=rubric).to_dict()
    assert zh["red_flags"] and BANK.suggest(zh) == []


@pytest.mark.parametrize(
    "analysis",
    [
        {},
        {"red_flags": None},
        {"red_flags": "x"},
        {"red_flags": [None, 3, {"id": 5}, {"id": "trash_talk", "evidence": None}]},
        {"red_flags": [{"id": "trash_talk", "evidence": [None, {"text": ""}, {"text": 3}]}]},
        {"red_flags": [{"id": "trash_talk", "evidence": "jerk"}]},
        {"lang": ["en"], "red_flags": [{"id": "trash_talk", "evidence": ["jerk"]}]},
        {"improvements": [{"id": "unknown", "evidence": [{"text": "meh"}]}]},
    ],
)
def test_odd_analyses_never_raise(analysis: dict[str, Any]) -> None:
    assert BANK.suggest(analysis, answer="whatever") == []


def test_stored_analyses_with_plain_text_evidence() -> None:
    analysis = {"lang": "en", "red_flags": [{"id": "blame", "evidence": ["not my fault"]}]}
    assert BANK.suggest(analysis)[0]["phrase"] == "not my fault"


# -- glossary ----------------------------------------------------------------------------


def test_gloss_finds_words_and_phrases_in_order_once() -> None:
    text = "I'm PROUD of it; the pace\nwas fine, and what Carries   Over is my pace."
    words = [g["word"] for g in GLOSSARY.gloss(text)]
    assert words == ["proud of", "pace", "carries over"]
    assert all(g["gloss"] == GLOSSARY.words[g["word"]] for g in GLOSSARY.gloss(text))


def test_gloss_respects_word_boundaries_and_limit() -> None:
    assert GLOSSARY.gloss("I adapted quickly and paced myself") == []
    assert [g["word"] for g in GLOSSARY.gloss("adapt, pace.")] == ["adapt", "pace"]
    text = " ".join(GLOSSARY.words)
    assert len(GLOSSARY.gloss(text)) == 6
    assert len(GLOSSARY.gloss(text, limit=2)) == 2
    assert GLOSSARY.gloss("", limit=3) == [] and GLOSSARY.gloss(text, limit=0) == []


def test_longer_phrases_win() -> None:
    assert [g["word"] for g in GLOSSARY.gloss("it is sustainable")] == ["sustainable"]


# -- validation --------------------------------------------------------------------------


def phrases_data() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8")))


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def broken_bank(tmp_path: Path, change: Any) -> str:
    data = phrases_data()
    change(data)
    with pytest.raises(ScriptError) as info:
        load_phrase_bank(write(tmp_path, "phrases.yaml", data))
    return str(info.value)


def test_a_faithful_copy_loads(tmp_path: Path) -> None:
    bank = load_phrase_bank(write(tmp_path, "phrases.yaml", phrases_data()))
    assert bank.finding_ids == BANK.finding_ids


def test_gloss_without_chinese(tmp_path: Path) -> None:
    def change(d: dict[str, Any]) -> None:
        d["trash_talk"][1]["alternatives"][0]["gloss"] = "a gloss in English"

    assert broken_bank(tmp_path, change) == (
        "phrases.yaml: trash_talk[1].alternatives[0].gloss: must contain Chinese")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(growth=d["blame"]), "phrases.yaml: growth: unknown finding id"),
        (lambda d: d.update(bored=d["blame"]), "phrases.yaml: bored: unknown finding id"),
        (lambda d: d["blame"][0]["alternatives"][1].update(text="  "),
         "phrases.yaml: blame[0].alternatives[1].text: must be a non-empty text"),
        (lambda d: d["blame"][0]["alternatives"][1].update(text="I want 成长."),
         "phrases.yaml: blame[0].alternatives[1].text: must be English"),
        (lambda d: d["blame"][1]["alternatives"][0].update(
            text=d["trash_talk"][0]["alternatives"][2]["text"].upper()),
         "phrases.yaml: blame[1].alternatives[0].text: duplicate of "
         "phrases.yaml: trash_talk[0].alternatives[2].text"),
        (lambda d: d["blame"][1]["alternatives"][0].update(gloss=""),
         "phrases.yaml: blame[1].alternatives[0].gloss: must be a non-empty text"),
        (lambda d: d["blame"][0].update(when=["boss", "(unclosed"]),
         "phrases.yaml: blame[0].when[1]: not a valid regular expression"),
        (lambda d: d["blame"][0].update(when=["boss", "x*"]),
         "phrases.yaml: blame[0].when[1]: matches an empty text"),
        (lambda d: d["blame"][0].update(when=["Boss"]),
         "phrases.yaml: blame[0].when[0]: must be lower case"),
        (lambda d: d["blame"][0].update(when=[]),
         "phrases.yaml: blame[0].when: must be a non-empty list"),
        (lambda d: d["blame"].pop(), "phrases.yaml: blame: needs a default entry"),
        (lambda d: d["blame"][0].pop("when"), "phrases.yaml: blame[1]: a second default entry"),
        (lambda d: d["blame"][0]["alternatives"].pop(1) and d["blame"][0]["alternatives"].pop(),
         "phrases.yaml: blame[0].alternatives: needs 2 to 3 alternatives, got 1"),
        (lambda d: d["blame"][0]["alternatives"].append({"text": "x", "gloss": "好"}),
         "phrases.yaml: blame[0].alternatives: needs 2 to 3 alternatives, got 4"),
        (lambda d: d["blame"][0].update(tone="soft"), "phrases.yaml: blame[0]: unknown field"),
        (lambda d: d["blame"][0]["alternatives"][0].update(note="x"),
         "phrases.yaml: blame[0].alternatives[0]: unknown field 'note'"),
        (lambda d: d.update(blame=[]), "phrases.yaml: blame: must be a non-empty list"),
        (lambda d: d.update(blame="oops"), "phrases.yaml: blame: must be a non-empty list"),
    ],
)
def test_broken_phrase_bank_is_refused(tmp_path: Path, change: Any, message: str) -> None:
    assert broken_bank(tmp_path, change).startswith(message)


def test_duplicate_finding_id_is_refused(tmp_path: Path) -> None:
    text = PHRASES_FILE.read_text(encoding="utf-8")
    block = text[text.index("\nevasive:"):text.index("\nhedging:")]
    path = tmp_path / "phrases.yaml"
    path.write_text(text + block, encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^phrases\.yaml: evasive: given twice \(line \d+\)"):
        load_phrase_bank(path)


def test_unreadable_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"^phrases\.yaml: file is missing"):
        load_phrase_bank(tmp_path / "phrases.yaml")
    bad = tmp_path / "glossary.yaml"
    bad.write_text("adapt: [适应\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^glossary\.yaml: not valid YAML"):
        load_glossary(bad)
    bad.write_text("- adapt\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"^glossary\.yaml: must be a non-empty mapping"):
        load_glossary(bad)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Adapt: 适应\n", "glossary.yaml: Adapt: must be lower case"),
        ("adapt: 适应\npace: 节奏\nadapt: 改变\n", "glossary.yaml: adapt: given twice (line 3)"),
        ("adapt: to change\n", "glossary.yaml: adapt: the gloss must contain Chinese"),
        ("adapt: ''\n", "glossary.yaml: adapt: must be a non-empty text"),
        ("yes: 是\n", "glossary.yaml: True: a word must be a text"),
        ("适应: 适应\n", "glossary.yaml: 适应: must be English"),
        ("'build  on': 在……基础上\n", "glossary.yaml: build  on: extra spaces"),
    ],
)
def test_broken_glossary_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "glossary.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as info:
        load_glossary(path)
    assert str(info.value).startswith(message)


def test_the_shipped_files_are_the_defaults() -> None:
    assert load_glossary(GLOSSARY_FILE).words == GLOSSARY.words
    assert load_phrase_bank(PHRASES_FILE).finding_ids == BANK.finding_ids
