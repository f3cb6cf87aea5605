"""One language's rules never fire on the other language's text.

A Chinese answer analysed with the English rules (or the other way round) must get no
rule match at all: no red flag, no strength, no quoted evidence. What it may still get
are the structural findings, which look at no words: the absence checks ("no growth",
"not specific" ...), length ("too short", "too long", "concise"), all without evidence.

Language-neutral tokens are the one exception, pinned below: numbers ("30%") and
names of tools ("Python") mean the same in both languages, so either language's rules
may quote them, and then only them.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.analyzer.analysis import ABSENCE_CHECKS, BOOK
from leavewell.dialogs.analyzer.rules import term_table
from leavewell.dialogs.findings import Analysis
from tests.analyzer.support import RUBRICS

STRUCTURAL_IMPROVEMENTS = frozenset(c for c, _ in ABSENCE_CHECKS) | {"too_long", "too_short"}
STRUCTURAL_STRENGTHS = frozenset({"concise"})
SITUATIONS = sorted(RUBRICS)

CHINESE_ANSWERS = (
    "我在上一家公司做了三年数据分析，主导过报表自动化项目。现在希望到更大的平台，"
    "接触更复杂的业务，所以想换一份工作。",
    "老板太差劲了，天天加班，工资也低，这不是我的错，都怪他们。",
    "我被裁员了，整个部门都被解散。我和原来的经理一直保持联系，她愿意做我的推荐人。",
    "说来话长，不太方便说。反正就是不想干了，可能吧。",
    "因为試用期沒通過，我反思了自己的不足，現在已經改進了很多。",  # traditional
    "那段时间我得了抑郁症，还在打离婚官司，每天都很焦虑，压力太大了。",
    "合同到期以后没有续签。我一直在学习新的课程，考了证书，也做了志愿者。",
    "我目前还在职，但想往产品经理方向转型，贵公司的这个岗位正好适合我。",
    "“领导只会画大饼！”——我受不了这种环境；同事之间勾心斗角……",
)

ENGLISH_ANSWERS = (
    "My boss was a jerk and it wasn't my fault. They set me up to fail.",
    "I was laid off when the company restructured. My manager is a reference, and I want "
    "to grow into a larger role at your company.",
    "I'd rather not say, it's complicated. Maybe I guess I was burned out, underpaid and "
    "overworked, with long hours every weekend.",
    "I was fired after a poor performance review. I learned to ask for feedback early, and "
    "since then I have taken a course in project management.",
    "I had anxiety and my divorce was ugly, so I took sick leave and hired a lawyer.",
    "My contract ended when the project wrapped up. I'm still in touch with the team.",
    "Honestly, the culture was toxic and management never listened. I want more money.",
    "I'm currently employed, but I'm looking for a bigger challenge where I can lead.",
)


def rule_matches(analysis: Analysis) -> list[tuple[str, str]]:
    """Every quoted span of an analysis: what a rule matched."""
    return [
        (f.id, e.text)
        for f in (*analysis.red_flags, *analysis.improvements, *analysis.strengths)
        for e in f.evidence
    ]


def assert_no_rule_fired(analysis: Analysis) -> None:
    assert analysis.red_flags == ()
    assert rule_matches(analysis) == []
    assert {f.id for f in analysis.improvements} <= STRUCTURAL_IMPROVEMENTS
    assert {f.id for f in analysis.strengths} <= STRUCTURAL_STRENGTHS
    assert analysis.skills == ()
    assert analysis.verdict != "red_flag"


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("answer", CHINESE_ANSWERS)
def test_english_rules_never_fire_on_chinese(answer: str, situation: str) -> None:
    assert_no_rule_fired(analyze(answer, lang="en", rubric=RUBRICS[situation]))


@pytest.mark.parametrize("situation", SITUATIONS)
@pytest.mark.parametrize("answer", ENGLISH_ANSWERS)
def test_chinese_rules_never_fire_on_english(answer: str, situation: str) -> None:
    assert_no_rule_fired(analyze(answer, lang="zh", rubric=RUBRICS[situation]))


def test_the_answers_do_fire_their_own_rules() -> None:
    """The samples are not trivially clean: each language's rules find plenty in them."""
    zh = [analyze(a, lang="zh", rubric=RUBRICS["unspecified"]) for a in CHINESE_ANSWERS]
    en = [analyze(a, lang="en", rubric=RUBRICS["unspecified"]) for a in ENGLISH_ANSWERS]
    assert sum(bool(a.red_flags) for a in zh) >= 4
    assert sum(bool(a.red_flags) for a in en) >= 4
    assert all(rule_matches(a) for a in (*zh, *en))


# -- generated text ----------------------------------------------------------------------

CHINESE_PUNCTUATION = "，。！？；：、“”‘’（）《》【】…—·～ \n"
chinese_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF),
        st.sampled_from(CHINESE_PUNCTUATION),
        # characters the Chinese rules look for, so their words turn up often
        st.sampled_from("老板领导公司同事不是我的错被裁员辞退加班工资低焦虑离婚说来话长可能也许"),
    ),
    max_size=200,
)


def _english_vocabulary() -> list[str]:
    """Words of the English rules (flags, exits, hedges ...) plus glue words, without the
    Latin terms the Chinese rules know (tool names such as "python", which are shared)."""
    shared = {t for t in term_table(BOOK.lexicons['zh'].terms) if t.isascii()}
    words = {w for phrase in term_table(BOOK.lexicons['en'].terms) for w in phrase.split()}
    words |= {"i", "my", "boss", "was", "the", "and", "it", "they", "we", "to", "of", "a", "in",
              "because", "but", "so"}
    return sorted(w for w in words if w not in shared and not any(c.isdigit() for c in w))


english_text = st.lists(
    st.tuples(st.sampled_from(_english_vocabulary()), st.sampled_from([" ", " ", ", ", ". "])),
    max_size=60,
).map(lambda pairs: "".join(w + sep for w, sep in pairs))


@settings(max_examples=300, deadline=None)
@given(text=chinese_text, situation=st.sampled_from(SITUATIONS))
def test_generated_chinese_never_fires_english_rules(text: str, situation: str) -> None:
    assert_no_rule_fired(analyze(text, lang="en", rubric=RUBRICS[situation]))


@settings(max_examples=300, deadline=None)
@given(text=english_text, situation=st.sampled_from(SITUATIONS))
def test_generated_english_never_fires_chinese_rules(text: str, situation: str) -> None:
    assert_no_rule_fired(analyze(text, lang="zh", rubric=RUBRICS[situation]))


# -- language-neutral tokens -------------------------------------------------------------


def test_numbers_and_tool_names_are_shared_and_only_they_are_quoted() -> None:
    zh = "我用Python把报表自动化，效率提升了30%。"
    result = analyze(zh, lang="en", rubric=RUBRICS["unspecified"])
    assert result.red_flags == ()
    assert sorted(rule_matches(result)) == [("results", "30%"), ("specific", "Python")]
    en = "I automated our reports in Python and cut the time by 30%."
    result = analyze(en, lang="zh", rubric=RUBRICS["unspecified"])
    assert result.red_flags == ()
    assert sorted(rule_matches(result)) == [("results", "30%"), ("specific", "Python")]


@pytest.mark.parametrize(
    ("answer", "flagged"),
    [
        # regression: the Chinese "996" rule fired on any number 996 or 007
        ("I resolved 996 tickets last year.", False),
        ("We ran on a 996 schedule, and agent 007 approved.", False),
        ("我去年一共处理了996个工单。", False),
        ("我们公司是996，节奏很快。", True),
        ("996工作制让人吃不消。", True),
        ("每天都是 007 的状态。", True),
    ],
)
def test_the_chinese_996_rule_needs_chinese_around_it(answer: str, flagged: bool) -> None:
    result = analyze(answer, lang="zh", rubric=RUBRICS["unspecified"])
    assert ("workload_complaint" in {f.id for f in result.red_flags}) is flagged
