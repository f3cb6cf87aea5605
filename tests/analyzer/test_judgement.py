"""What an interviewer judges, case by case (issue 10): who is talked about and how,
the stated reason, context deciding a word, English as Chinese speakers speak it,
forward-looking and role-link phrasing. Our own sentences, not from any eval set."""

from __future__ import annotations

import pytest

from tests.analyzer.support import found, run


def red_flags(text: str, lang: str = "en", situation: str = "unspecified") -> set[str]:
    return {f.id for f in run(text, lang, situation).red_flags}


# -- the stated reason ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "flag"), [
    ("Honestly it just felt like time for something new.", "evasive"),
    ("The work got pretty monotonous.", "dislikes_work"),
    ("My supervisor ran the place like a prison.", "trash_talk"),
    ("For personal reasons.", "evasive"),
])
def test_short_answers_that_dodge_bore_or_insult_are_red_flags(text: str, flag: str) -> None:
    analysis = run(text, "en")
    assert analysis.verdict == "red_flag" and flag in {f.id for f in analysis.red_flags}


def test_pay_as_the_headline_is_a_red_flag_and_as_an_aside_an_improvement() -> None:
    assert "money_headline" in red_flags("Mainly the salary. It was below market.", "en",
                                         "employed")
    aside = run("I was there five years and there was no room to grow. The pay was also "
                "below market.", "en", "employed")
    assert not aside.red_flags and "pay_aside" in found(aside)
    assert aside.reason == "growth" and "pay" in aside.reasons_stated


def test_a_complaint_does_not_hide_the_money_headline() -> None:
    flags = red_flags("The owner was a jerk and I'm just here for more money.")
    assert {"trash_talk", "money_headline"} <= flags


def test_reason_kinds_are_classified() -> None:
    cases = {
        "Our plant closed when the company moved production overseas.": "company_event",
        "My wife took a job in Calgary, so we relocated.": "relocation_family",
        "My contract ended when the project shipped.": "contract_end",
        "I want to grow into a team lead role.": "growth",
        "I was bored with the work.": "boredom",
        "They switched me to overnights, and days are what I can work.": "practical",
    }
    for text, kind in cases.items():
        assert run(text, "en").reason == kind, text


def test_a_practical_reason_is_an_answer_not_a_dodge() -> None:
    # the shift, the commute, the hours to be had: what hourly workers most often give
    for text, lang in (("The bus stopped running out to the park after 10, so I couldn't "
                        "get home from second shift.", "en"),
                       ("原来那个店上下班太远，坐车要一个半小时，想找个离家近的。", "zh")):
        analysis = run(text, lang)
        assert analysis.reason == "practical", text
        assert "evasive" not in {f.id for f in analysis.red_flags}, text


# -- who is talked about, and how ----------------------------------------------------


def test_negativity_about_an_event_is_not_trash_talk() -> None:
    text = "We lost our biggest client and the company had to cut the team, including my role."
    assert "trash_talk" not in red_flags(text, "en", "laid_off")


def test_the_lexicon_judges_statements_about_the_old_job() -> None:
    # no phrase rule knows these words: the sentiment lexicon (VADER) does
    analysis = run("The management there was careless and cruel.", "en")
    (flag,) = [f for f in analysis.red_flags if f.id == "trash_talk"]
    assert flag.signal == "lexicon" and flag.rule == "trash_talk.lexicon"
    assert flag.evidence[0].text == "management there was careless and cruel"
    praise = run("The management there was careful and kind.", "en")
    assert not praise.red_flags


def test_chinese_lexicon_judges_statements_about_the_old_job() -> None:
    assert "trash_talk" in red_flags("领导专断，团队内耗严重。", "zh")
    assert "trash_talk" not in red_flags("公司失去了最大的客户，团队随之缩减。", "zh")


@pytest.mark.parametrize(("text", "lang"), [
    # the old job cleared of blame: attribution, not criticism
    ("I broke my wrist in a fall at the depot, not the company's fault at all, and the "
     "rehab was long and painful.", "en"),
    ("The cuts were painful, but I don't blame my manager; she fought for us.", "en"),
    ("那次事故很糟糕，不怪公司，是我自己操作失误。", "zh"),
    ("项目失败得很惨，跟领导没有关系，是市场变了。", "zh"),
    # the old job as an event or as the one affected, not as the one criticised
    ("公司清算的时候我留下来做完了结算。", "zh"),
    ("我状态很差，这对团队很不负责任，所以我主动提了离职。", "zh"),
    # an event word the lexicon lacks is still read whole (撑不下去 is not 不下)
    ("甲方都停工了，公司撑不下去，去年注销了。", "zh"),
])
def test_blame_cleared_or_events_are_not_trash_talk(text: str, lang: str) -> None:
    assert "trash_talk" not in red_flags(text, lang, "unspecified")


@pytest.mark.parametrize(("text", "lang"), [
    ("It wasn't my fault; my manager was cruel and useless.", "en"),
    ("不是我的错，领导太差劲了，团队也很恶劣。", "zh"),
])
def test_clearing_oneself_does_not_clear_the_complaint(text: str, lang: str) -> None:
    assert "trash_talk" in red_flags(text, lang, "unspecified")


# -- context decides a word ----------------------------------------------------------


@pytest.mark.parametrize(("text", "situation", "not_flag"), [
    ("The effort paid off: we shipped the release on time.", "employed", "money_headline"),
    ("It was a demanding role I loved, and I want to keep growing.", "employed",
     "trash_talk"),
    ("The contract was terminated when the client left.", "contract_ended",
     "contradicts_situation"),
    ("My role was terminated in the restructuring last spring.", "laid_off",
     "contradicts_situation"),
    ("My role was terminated along with eight others.", "laid_off", "contradicts_situation"),
    ("I had exhausted everything that role could teach me.", "employed",
     "workload_complaint"),
    ("We were understaffed, so I volunteered to cover two territories and grew revenue 20%.",
     "employed", "workload_complaint"),
    ("那份工作压力很大，但我很喜欢，也学到了很多。", "employed", "workload_complaint"),
])
def test_a_word_in_another_sense_is_not_that_red_flag(text: str, situation: str,
                                                      not_flag: str) -> None:
    lang = "zh" if not text.isascii() else "en"
    assert not_flag not in red_flags(text, lang, situation)


def test_the_same_words_in_their_risky_sense_still_fire() -> None:
    assert "contradicts_situation" in red_flags("I was terminated after a bad review.",
                                                "en", "laid_off")
    assert "workload_complaint" in red_flags("We were understaffed and I was exhausted.",
                                             "en", "employed")


def test_other_senses_are_recorded_in_the_trace() -> None:
    analysis = run("My role was terminated in the restructuring.", "en", "laid_off")
    assert any(line.outcome == "other sense" and line.text == "was terminated"
               for line in analysis.trace)


# -- English as Chinese speakers speak it --------------------------------------------


@pytest.mark.parametrize(("text", "flag"), [
    ("My company have some change, the boss is not very good to me, so I leave.",
     "trash_talk"),
    ("Salary not match my ability, so I want to change.", "money_headline"),
])
def test_esl_complaints_are_heard(text: str, flag: str) -> None:
    assert flag in red_flags(text, "en", "employed")


@pytest.mark.parametrize("text", [
    "I want to find more big platform to develop myself.",
    "There is no space to improve, so I want to learn more knowledges.",
])
def test_esl_growth_counts_as_growth(text: str) -> None:
    analysis = run(text, "en", "employed")
    assert not analysis.red_flags and "growth" in found(analysis)


# -- forward-looking and role link ----------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [
    ("I led the billing migration, and I want to bring that experience to your operations "
     "team.", "en"),
    ("What drew me to this role is the chance to build analytics from scratch.", "en"),
    ("我希望在贵公司有更大的发展空间。", "zh"),
])
def test_role_links_are_recognised(text: str, lang: str) -> None:
    analysis = run(text, lang, "employed")
    assert "role_link" in found(analysis) and "no_role_link" not in found(analysis)


def test_pay_the_answer_rates_as_one_part_is_an_aside_when_it_looks_forward() -> None:
    aside = run("Commission is part of it, since our plan was cut, but mainly I want to sell "
                "a product with a longer cycle.", "en", "employed")
    assert "money_headline" not in {f.id for f in aside.red_flags}
    assert "pay_aside" in found(aside)
    zh = run("薪资是一方面，更主要的是希望独立负责一条产品线。", "zh", "employed")
    assert "money_headline" not in {f.id for f in zh.red_flags}
    assert "money_headline" in red_flags("Mainly the salary. It was below market.", "en",
                                         "employed")


@pytest.mark.parametrize("text", [
    "I was burned out after two years of night releases, so I planned a four-month "
    "break, took a course in test automation, and I'm rested and ready.",
    "By the end I was burned out. I took a planned two-month leave and I feel like "
    "myself again, so this lab's slower release cycle fits me.",
])
def test_burnout_told_with_the_recovery_is_not_a_complaint(text: str) -> None:
    flags = red_flags(text, "en", "quit")
    assert "workload_complaint" not in flags and "dislikes_work" not in flags


def test_a_contract_ended_by_the_employer_is_a_firing_not_a_contradiction() -> None:
    text = "我是被原来的公司解除劳动合同的，这件事让我明白流程不能省，后来我考了安全员证。"
    assert "contradicts_situation" not in red_flags(text, "zh", "let_go")


@pytest.mark.parametrize(("text", "lang", "situation"), [
    ("My supervisor kept moving my deadlines, so eventually they let me go.", "en", "let_go"),
    ("The account lead always rewrote my decks, and in the end I was out.", "en", "let_go"),
    ("主管老是临时改方案，最后说我跟不上，就让我走了。", "zh", "let_go"),
])
def test_another_persons_habit_told_as_the_cause_is_blame(text: str, lang: str,
                                                          situation: str) -> None:
    assert "blame" in red_flags(text, lang, situation)


@pytest.mark.parametrize(("text", "lang"), [
    ("My supervisor always backed me, and I left to move into design.", "en"),
    ("I kept missing handoffs, and my lead kept coaching me; I own that I was slow.", "en"),
    ("主管总是支持我们，我离开是想转做产品设计。", "zh"),
])
def test_a_habit_of_praise_or_an_owned_part_is_not_blame(text: str, lang: str) -> None:
    assert "blame" not in red_flags(text, lang, "quit")
