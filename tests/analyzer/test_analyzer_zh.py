"""Chinese rules of the answer analyzer: every finding, both ways, plus robustness."""

from __future__ import annotations

import pytest

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.findings import ALL_FINDING_IDS, Analysis
from tests.analyzer.support import RUBRICS, assert_exact_evidence, found
from tests.analyzer.support import run as run_in

# About 40 seconds spoken: growth, a skill, a number and a link to the new company.
STRONG = (
    "我在上一家公司做了三年的新媒体运营，负责公众号和短视频账号，"
    "把粉丝数从两万做到了十五万，单月转化率提升了30%。"
    "这段经历让我学到了很多，但我希望往用户增长和数据分析方向继续发展。"
    "贵公司的产品正处在快速扩张阶段，这个岗位需要的正是内容和数据结合的能力，"
    "所以我很希望能加入贵公司，和团队一起把用户规模做得更大。"
)
LONG = STRONG * 3


def run(text: str, situation: str = "unspecified", **kwargs: object) -> Analysis:
    return run_in(text, "zh", situation, **kwargs)


POSITIVE: list[tuple[str, str, str, dict[str, object]]] = [
    ("pay_aside", "employed", "没有成长空间，而且工资也偏低。", {}),
    ("dislikes_work", "unspecified", "工作太枯燥了，干够了。", {}),
    ("burned_bridges", "quit", "和领导吵了一架，第二天就不辞而别了。", {}),
    ("not_committed", "employed", "先在这边干两年，然后回老家考公务员。", {}),
    ("sounds_desperate", "between_jobs", "求求您给我一个机会，工资多少都行。", {}),
    ("conditions_first", "employed", "之前通勤太远。咱们这边不用加班吧？", {}),
    ("flippant", "let_go", "我就是被开了，哈哈，无所谓。", {}),
    ("trash_talk", "unspecified", "那边的领导特别无能，什么都不懂。", {}),
    ("trash_talk", "unspecified", "公司天天画大饼，我看不到前途。", {}),
    ("trash_talk", "unspecified", "我和主管一直有矛盾，最后只能离开。", {}),
    ("blame", "let_go", "我被辞退完全是领导的问题，跟我没关系。", {}),
    ("blame", "unspecified", "他们嫉妒我的业绩，所以处处为难我。", {}),
    ("money_headline", "unspecified", "说实话就是想要更高的薪资。", {}),
    ("money_headline", "unspecified", "那边的工资太低了，养不活自己。", {}),
    ("workload_complaint", "unspecified", "几乎天天加班，周末也没有休息。", {}),
    ("oversharing", "unspecified", "那段时间我得了抑郁症，每天都要吃药。", {}),
    ("oversharing", "unspecified", "我连续两个季度绩效不合格。", {}),
    ("evasive", "unspecified", "这个问题我不太想聊。", {}),
    # nothing a rule points at, but it reads like quitting on a whim (the tone model)
    ("overall_tone", "quit", "当时就是想休息一下，没想太多，先辞了再说，后面的事情再慢慢找。", {}),
    ("evasive", "unspecified", "离职的原因一言难尽。", {}),
    ("contradicts_situation", "employed", "我上个月被裁员了。", {}),
    ("contradicts_situation", "laid_off", "我目前在职，只是想换个环境。", {}),
    ("no_growth", "employed", "公司搬到了郊区，通勤要两个小时。", {}),
    ("not_specific", "unspecified", "我想换一个更好的地方。", {}),
    ("no_role_link", "unspecified", "我想在财务领域继续深耕。", {}),
    ("no_results", "unspecified", "我希望学习更多新东西。", {}),
    ("no_lesson", "let_go", "试用期没过，我就离开了。", {}),
    ("no_proactive_steps", "between_jobs", "离职以后我一直在找工作。", {}),
    ("no_good_terms", "laid_off", "公司倒闭了，我只能重新找工作。", {}),
    ("too_long", "unspecified", LONG, {}),
    ("too_short", "unspecified", "想换个环境。", {}),
    ("hedging", "unspecified", "可能是觉得不太合适吧，大概就是这样。", {}),
    ("growth", "unspecified", "我希望找到更大的发展空间。", {}),
    ("specific", "unspecified", "我想继续做数据分析和项目管理。", {}),
    ("specific", "unspecified", "我擅长供应链优化。", {}),
    ("role_link", "unspecified", "我很看好贵公司的发展。", {}),
    ("role_link", "unspecified", "我一直关注星河科技的产品。", {"company": "星河科技"}),
    ("results", "unspecified", "我带领团队把退货率降低了15%。", {}),
    ("lesson", "let_go", "被辞退之后我认真反思了自己的问题。", {}),
    ("proactive", "between_jobs", "这半年我自学了Python，还考取了会计证书。", {}),
    ("good_terms", "laid_off", "我和前主管一直保持联系，他也愿意做我的推荐人。", {}),
    ("ownership", "let_go", "这件事我也有责任，当时我的沟通做得不够。", {}),
    ("concise", "unspecified", STRONG, {}),
    ("concise", "unspecified", "想换个环境。", {"voice_seconds": 35.0}),
]

NEGATIVE: list[tuple[str, str, str]] = [
    ("pay_aside", "employed", "没有成长空间，希望承担更大的职责。"),
    ("dislikes_work", "unspecified", "常规工作已经很熟练，希望做更有挑战的分析。"),
    ("burned_bridges", "quit", "我提前一个月提出离职，把工作都交接好了。"),
    ("not_committed", "employed", "我已经在杭州定居，希望在这个行业长期发展。"),
    ("sounds_desperate", "between_jobs", "我有五年薪酬核算经验，希望在成长中的团队发挥作用。"),
    ("conditions_first", "employed", "咱们这边在做跨境仓储，和我的经验很对口。"),
    ("flippant", "let_go", "同事们给我办了欢送会，主管现在还是我的推荐人。"),
    ("trash_talk", "unspecified", "公司并不差，只是我想尝试新的方向。"),
    ("trash_talk", "let_go", "我和领导有分歧，但这也是我的问题，我当时太固执了。"),
    ("blame", "let_go", "这件事不是领导的错，是我自己没有做好。"),
    ("money_headline", "unspecified", "我想在更大的平台上锻炼自己，当然也希望薪资能相应提高。"),
    ("workload_complaint", "unspecified", "我能接受加班，只是想做更有挑战的事。"),
    ("oversharing", "unspecified", "因为家里的一些事情，现在都已经处理好了。"),
    ("oversharing", "let_go", "我的业绩不达标，这让我意识到要更早制定计划。"),
    ("evasive", "unspecified", "我想说的是，我希望找到更适合自己的岗位。"),
    ("overall_tone", "laid_off",
     "公司业务调整，整个部门被裁撤了。这段时间我考了数据分析证书，希望在贵公司继续做用户增长。"),
    ("contradicts_situation", "laid_off", "我所在的部门被解散了，我也被裁了。"),
    ("contradicts_situation", "employed", "我目前在职，希望找到更大的舞台。"),
    ("no_growth", "employed", "我希望在新的岗位上继续成长。"),
    ("not_specific", "unspecified", "我想在市场营销方向发展。"),
    ("no_role_link", "unspecified", "这个岗位和我的经历很匹配。"),
    ("no_results", "unspecified", "我负责的项目让成本节约了二十万元，提升了效率。"),
    ("no_lesson", "let_go", "被辞退后我总结了教训。"),
    ("no_proactive_steps", "between_jobs", "离职后我参加了项目管理培训。"),
    ("no_good_terms", "laid_off", "我很感谢前公司，也和同事们保持联系。"),
    ("too_long", "unspecified", STRONG),
    ("too_short", "unspecified", STRONG),
    ("hedging", "unspecified", "我会尽可能把工作做好。"),
    ("growth", "unspecified", "公司搬到了郊区。"),
    ("specific", "unspecified", "我想换个工作。"),
    ("role_link", "unspecified", "我想换个工作。"),
    ("results", "unspecified", "我没有完成任何目标。"),
    ("lesson", "let_go", "我没有学到什么。"),
    ("proactive", "between_jobs", "我一直在家休息。"),
    ("good_terms", "laid_off", "我们之间没有保持联系。"),
    ("ownership", "let_go", "这不是我的问题。"),
    ("concise", "unspecified", "想换个环境。"),
]


@pytest.mark.parametrize(("fid", "situation", "text", "kwargs"), POSITIVE)
def test_positive(fid: str, situation: str, text: str, kwargs: dict[str, object]) -> None:
    analysis = run(text, situation, **kwargs)
    assert fid in found(analysis), (fid, text, analysis.to_dict())
    assert_exact_evidence(text, analysis)


@pytest.mark.parametrize(("fid", "situation", "text"), NEGATIVE)
def test_negative(fid: str, situation: str, text: str) -> None:
    analysis = run(text, situation)
    assert fid not in found(analysis), (fid, text, analysis.to_dict())
    assert_exact_evidence(text, analysis)


def test_every_finding_id_has_cases_both_ways() -> None:
    assert {row[0] for row in POSITIVE} == set(ALL_FINDING_IDS)
    assert {row[0] for row in NEGATIVE} == set(ALL_FINDING_IDS)


def test_traditional_characters_are_read_like_simplified() -> None:
    text = "因為領導太無能，我實在受不了。"
    analysis = run(text)
    assert "trash_talk" in {f.id for f in analysis.red_flags}
    assert_exact_evidence(text, analysis)
    assert any(e.text == "領導太無能" for f in analysis.red_flags for e in f.evidence)


def test_money_as_a_second_point_is_fine_but_as_the_first_is_not() -> None:
    assert run("我希望在技术上继续成长，同时也想要更高的收入。").red_flags == ()
    first = run("我想要更高的收入，其次才是成长。")
    assert [f.id for f in first.red_flags] == ["money_headline"]


def test_counting_and_speaking_time() -> None:
    text = "我想做Python开发。"  # 3 characters + 1 Latin word + 2 characters
    analysis = run(text)
    assert analysis.word_count == 6
    assert analysis.speaking_seconds == pytest.approx(1.5)
    assert run("字" * 240).speaking_seconds == pytest.approx(60.0)


def test_scores_and_verdicts() -> None:
    strong = run(STRONG)
    assert strong.verdict == "strong" and strong.score >= 85
    one_line = run("我希望找到更大的发展空间。")
    assert one_line.verdict == "acceptable" and 50 <= one_line.score <= 65
    flagged = run(STRONG + "另外，前公司的领导太无能了。")
    assert flagged.verdict == "red_flag" and flagged.score <= 60


def test_skills_are_chinese_terms_in_order() -> None:
    analysis = run("我在用户研究方面有经验，也熟悉数据分析、SQL和项目管理。")
    assert analysis.skills == ("用户研究", "数据分析", "sql", "项目管理")


def test_messages_default_to_the_answer_language() -> None:
    analysis = run("领导太无能了。")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in analysis.red_flags[0].message)
    english = run("领导太无能了。", messages_lang="en")
    assert english.red_flags[0].message.isascii()


def test_chinese_rules_do_not_fire_on_english_text() -> None:
    text = "The owner was a jerk, none of it was my fault, and I'd rather not get into it."
    analysis = analyze(text, lang="zh", rubric=RUBRICS["employed"])
    assert analysis.red_flags == ()
    assert analysis.strengths == ()


@pytest.mark.parametrize(
    "text",
    ["", " \u3000\n", "🙂🙂", "。。。！！！", "好" * 20_000, ("领导太差，" * 5000)[:20_000]],
)
def test_odd_input_never_raises(text: str) -> None:
    for situation in RUBRICS:
        analysis = run(text, situation, company="", role="某")
        assert 0 <= analysis.score <= 100
        assert_exact_evidence(text, analysis)
        analysis.to_dict()


def test_every_chinese_term_is_found_on_its_own() -> None:
    from leavewell.dialogs.analyzer.analysis import BOOK, MATCHERS
    from leavewell.dialogs.analyzer.rules import term_table

    matcher = MATCHERS["zh"]
    for term, meanings in term_table(BOOK.lexicons["zh"].terms).items():
        hits = matcher.scan(matcher.normalize(term)).hits
        for tag, rule, _ in meanings:
            assert (0, len(term)) in hits.get(tag, []), (term, tag, rule)


def test_traditional_folding_keeps_every_offset_and_leaves_simplified_text_alone() -> None:
    from leavewell.dialogs.analyzer.hanzi import TRAD_TO_SIMP

    traditional = "我辭職係因為個上司成日喺人哋面前鬧我，我頂唔順。"
    folded = traditional.translate(TRAD_TO_SIMP)
    assert folded == "我辞职系因为个上司成日喺人哋面前闹我，我顶唔顺。"
    assert len(folded) == len(traditional)
    # characters that simplified writing uses itself stay as they are
    assert "显著提升，乾坤未定".translate(TRAD_TO_SIMP) == "显著提升，乾坤未定"
    assert all(len(simplified) == 1 for simplified in TRAD_TO_SIMP.values())


def test_cantonese_complaint_in_traditional_characters_is_heard() -> None:
    text = "我辭職係因為個上司成日喺人哋面前鬧我，我頂唔順。"
    analysis = run(text)
    assert "trash_talk" in {f.id for f in analysis.red_flags}
    assert_exact_evidence(text, analysis)
