"""The tone model: how an answer reads as a whole (dialogs/analyzer/tone.py)."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leavewell.dialogs.analyzer import tone
from leavewell.dialogs.analyzer.analysis import MATCHERS
from leavewell.dialogs.errors import ScriptError
from tests.analyzer.support import run

BENCH = Path(__file__).resolve().parents[2] / "bench"

DRIFT = ("I guess I kind of drifted into it and stayed longer than I meant to. It was "
         "fine, I suppose, but I was ready for whatever came next.")
CLEAR = ("My role was cut in a restructuring with eleven others. I finished a SQL course "
         "since, and I want to bring my reporting work to your team.")
TOY = [("i was bored and left", "bad"), ("bored of it all so i quit", "bad"),
       ("the team was cut and i learned sql", "good"), ("i learned a lot and want to grow", "good")]


@pytest.fixture
def restore_models() -> Iterator[None]:
    saved = {lang: tone.load(lang) for lang in tone.LANGS}
    yield
    for model in saved.values():
        tone.use(model)


def test_shipped_weights_are_a_fit_of_our_labelled_sets() -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import train_tone
    finally:
        sys.path.remove(str(BENCH))
    assert train_tone.main(["--check"]) == 0, "run bench/train_tone.py"


def test_a_fit_weighs_sequences_toward_the_label_they_come_with() -> None:
    model = tone.fit(TOY, "en")
    assert model.weights["bored"] > 0 > model.weights["learned"]
    assert "quit" not in model.weights  # one answer only: one writer's wording
    assert model.prior == 0.0 and model.answers == {"bad": 2, "good": 2}
    assert tone.fit(TOY, "en") == model  # nothing random


def test_a_fit_needs_both_labels() -> None:
    with pytest.raises(ValueError, match="both good and bad"):
        tone.fit([("i was bored", "bad")], "en")


def test_log_odds_is_the_prior_plus_every_distinct_sequence_weight() -> None:
    model = dataclasses.replace(tone.fit(TOY, "en"), threshold=0.0)
    low = "bored, bored and learned"
    expected = model.prior + sum(model.weights.get(k, 0.0)
                                 for k in tone.sequences(low, "en"))
    judgement = tone.judge(low, "en", model, detail=True)
    assert math.isclose(judgement.log_odds, expected, abs_tol=1e-3)
    assert judgement.sequences[0][0] == "bored"


def test_clarity_is_the_log_odds_over_the_root_of_the_sequences_seen() -> None:
    model = dataclasses.replace(tone.fit(TOY, "en"), threshold=0.0)
    for low in ("learned", "the team was cut and i learned sql, then i learned more"):
        judgement = tone.judge(low, "en", model)
        assert judgement.seen == len(tone.sequences(low, "en"))
        assert math.isclose(judgement.clarity, judgement.log_odds / math.sqrt(judgement.seen))


def test_a_bad_reading_quotes_the_words_that_weighed_most() -> None:
    analysis = run(DRIFT, "en", "employed")
    assert [f.id for f in analysis.red_flags] == ["overall_tone"]
    finding = analysis.red_flags[0]
    assert finding.signal == "model" and finding.rule == "overall_tone.model"
    assert 1 <= len(finding.evidence) <= tone.MAX_QUOTED
    for e in finding.evidence:
        assert DRIFT[e.start:e.end] == e.text and e.rule == "overall_tone.model"


def test_it_is_judged_only_when_no_rule_found_a_red_flag() -> None:
    insult = DRIFT + " My manager was an idiot."
    analysis = run(insult, "en", "employed")
    assert "trash_talk" in analysis.finding_ids
    assert "overall_tone" not in analysis.finding_ids


def test_a_clear_answer_leaves_a_trace_of_its_reading() -> None:
    analysis = run(CLEAR, "en", "laid_off")
    assert "overall_tone" not in analysis.finding_ids
    [line] = [t for t in analysis.trace if t.tag == "overall_tone"]
    assert line.outcome.startswith("log-odds -") and "not above +12.0" in line.outcome


def test_zh_reads_characters(restore_models: None) -> None:
    analysis = run("当时就是想休息一下，没想太多，先辞了再说，后面的事情再慢慢找。", "zh", "quit")
    assert "overall_tone" in analysis.finding_ids
    tone.use(dataclasses.replace(tone.load("zh"), threshold=math.inf))
    analysis = run("当时就是想休息一下，没想太多，先辞了再说，后面的事情再慢慢找。", "zh", "quit")
    assert "overall_tone" not in analysis.finding_ids


def test_answers_with_no_words_in_the_language_are_not_read() -> None:
    analysis = run("🙂 ...", "en", "employed")
    assert not [t for t in analysis.trace if t.tag == "overall_tone"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab c'9，。好的 了\n-"), max_size=40),
       st.sampled_from(tone.LANGS))
def test_the_fast_reading_weighs_exactly_the_sequences_and_every_span_holds_its_sequence(
        text: str, lang: str) -> None:
    low = MATCHERS[lang].normalize(text)
    found = tone.sequences(low, lang)
    assert tone._keys(low, lang) == set(found)
    for seq, (start, end) in found.items():
        assert set(tone._keys(low[start:end], lang)) >= {seq}
    # the hot path keys sequences by tuples of unit ids: it must see what the text form sees
    model = tone.load(lang)
    judgement = tone.judge(low, lang, detail=True)
    assert judgement.seen == len(found)
    expected = model.prior + math.fsum(model.weights.get(seq, 0.0) for seq in found)
    assert judgement.log_odds == round(expected, 4)


def test_units_the_model_never_saw_are_told_apart_and_weigh_nothing() -> None:
    low = "zqxv wpyt zqxv wpyt blorf"
    found = tone.sequences(low, "en")
    assert not set(found) & set(tone.load("en").weights)
    judgement = tone.judge(low, "en")
    assert judgement.seen == len(found) == 9  # 3 words, 3 pairs, 3 triples: once each
    assert judgement.log_odds == round(tone.load("en").prior, 4)


def test_the_threshold_is_declared_per_language() -> None:
    assert tone.threshold("en") == 12.0 and tone.threshold("zh") == 8.0
    with pytest.raises(ScriptError, match=r"tone\.fr\.threshold"):
        tone.threshold("fr")


# -- the model overrules one soft red flag in an answer that reads clearly good ----------

TIRING_BUT_GOOD = (
    "I've been a night-shift pharmacist for five years and it has been exhausting, but I've "
    "loved the clinical work. I led our anticoagulation checks and cut dosing errors by half. "
    "I'm applying because your hospital runs a day clinic for anticoagulation, and I'd like to "
    "build that service with you.")
STRICT_BUT_GOOD_ZH = (
    "公司今年业务收缩，我们整个华东区都撤了，我在里面。我在那边做了五年区域培训，带过四十多个新店长，"
    "新人三个月留存率从六成提到八成。领导很严格，但我从他身上学到了很多。现在想找一个连锁品牌继续做"
    "培训体系，贵公司正在扩张，正好需要这样的人。")


@pytest.fixture
def limits() -> Iterator[dict[str, float]]:
    saved = dict(tone.limit_overrides)
    yield tone.limit_overrides
    tone.limit_overrides.clear()
    tone.limit_overrides.update(saved)


@pytest.mark.parametrize(("text", "lang", "situation", "fid"), [
    (TIRING_BUT_GOOD, "en", "employed", "workload_complaint"),
    (STRICT_BUT_GOOD_ZH, "zh", "laid_off", "trash_talk"),
])
def test_a_single_soft_flag_gives_way_to_an_answer_that_reads_clearly_good(
        text: str, lang: str, situation: str, fid: str, limits: dict[str, float]) -> None:
    analysis = run(text, lang, situation)
    assert not analysis.red_flags
    [line] = [t for t in analysis.trace if t.rule == "overall_tone.overrule"]
    assert line.tag == fid and line.outcome.startswith("withdrawn: the answer reads like")
    assert line.text and text[line.span[0]:line.span[1]] == line.text  # the words withdrawn
    limits[lang] = -math.inf  # the model never overrules: the flag stands
    assert [f.id for f in run(text, lang, situation).red_flags] == [fid]


def test_an_insult_or_two_red_flags_are_never_overruled(limits: dict[str, float]) -> None:
    limits["en"] = math.inf  # whatever the reading
    insult = run(CLEAR + " My old manager was an idiot.", "en", "laid_off")
    assert [f.id for f in insult.red_flags] == ["trash_talk"]
    soft_only = run(TIRING_BUT_GOOD + " Also my lawyer says I can leave early.", "en", "employed")
    assert {f.id for f in soft_only.red_flags} == {"workload_complaint", "oversharing"}


def test_the_overrule_is_declared_per_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from leavewell.dialogs.analyzer.rulebook import default_rulebook

    limit, findings = tone.overrule("en")
    assert limit == -4.5 and findings["trash_talk"] == {"lexicon"}
    assert tone.overrule_limit("en", "evasive") == -3.5  # a limit of its own
    assert tone.overrule_limit("en", "dislikes_work") == -4.5  # the shared one
    assert "blame" not in findings and "overall_tone" not in findings
    monkeypatch.setitem(default_rulebook().tone, "en",
                        {"threshold": 12, "overrule": {"limit": "low", "findings": {}}})
    tone._overrule.cache_clear()
    try:
        with pytest.raises(ScriptError, match=r"tone\.en\.overrule\.limit"):
            tone.overrule("en")
    finally:
        monkeypatch.undo()
        tone._overrule.cache_clear()


@pytest.mark.parametrize(("spec", "error"), [
    ({"limit": -3, "findings": {"evasive": ["reason"]}, "limits": {"blame": -2}},
     r"overrule\.limits: blame may not be overruled"),
    ({"limit": -3, "findings": {"evasive": ["reason"]}, "limits": {"evasive": "high"}},
     r"overrule\.limits\.evasive: must be a number"),
    ({"limit": -3, "findings": {"evasive": ["reason"]}, "limits": ["evasive"]},
     r"overrule\.limits: must map"),
])
def test_a_limit_of_its_own_must_be_a_number_for_an_overrulable_finding(
        monkeypatch: pytest.MonkeyPatch, spec: dict[str, object], error: str) -> None:
    from leavewell.dialogs.analyzer.rulebook import default_rulebook

    monkeypatch.setitem(default_rulebook().tone, "en", {"threshold": 12, "overrule": spec})
    tone._overrule.cache_clear()
    try:
        with pytest.raises(ScriptError, match=error):
            tone.overrule("en")
    finally:
        monkeypatch.undo()
        tone._overrule.cache_clear()


def test_a_finding_with_a_limit_of_its_own_uses_it_and_the_others_share_one(
        monkeypatch: pytest.MonkeyPatch, limits: dict[str, float]) -> None:
    from leavewell.dialogs.analyzer.rulebook import default_rulebook

    spec = {"limit": -3.0, "limits": {"evasive": -1.5},
            "findings": {"evasive": ["reason"], "trash_talk": ["lexicon"]}}
    monkeypatch.setitem(default_rulebook().tone, "en", {"threshold": 12, "overrule": spec})
    tone._overrule.cache_clear()
    try:
        assert tone.overrule_limit("en", "evasive") == -1.5
        assert tone.overrule_limit("en", "trash_talk") == -3.0
        limits["en"] = math.inf  # a trial limit stands for every finding
        assert tone.overrule_limit("en", "evasive") == tone.overrule_limit("en", "trash_talk")
    finally:
        monkeypatch.undo()
        tone._overrule.cache_clear()
