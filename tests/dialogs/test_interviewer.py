"""A sharper interviewer (issue 13), as transcripts in English and Chinese: follow-ups
that listen, one verdict for the whole exchange, consistency across turns, the skeptical
mode and the set-up answers."""

from __future__ import annotations

import pytest

from leavewell.dialogs.engine import DialogSettings, Interviewer
from leavewell.dialogs.events import ChoicePressed
from leavewell.dialogs.modes import MAX_FOLLOWUPS
from leavewell.dialogs.render import Renderer
from tests.support.transcript import Transcript

TABLE = Interviewer().script.followup_table

# A main answer that already gives the achievement, the manager and references, the
# lesson, and why this role.
COMPLETE = {
    "en": (
        "Our analytics team was cut when the company lost its biggest client. Before that I "
        "built the weekly revenue dashboard and cut report time by 60 percent. I learned a "
        "lot about SQL and working with stakeholders. My former manager is one of my "
        "references. Now I want to grow into a senior analyst role, and this role fits "
        "because your team builds data products at scale."
    ),
    "zh": (
        "公司失去了最大的客户，我们整个分析团队被裁了。在那之前我负责每周收入看板，把报表时间"
        "缩短了60%。我在SQL和跨部门沟通上学到了很多。我和前主管一直保持联系，她是我的推荐人。"
        "现在我希望成长为高级分析师，贵公司的数据产品正是我想参与的方向，这个岗位很适合我。"
    ),
}
# The same story without the result and without the references.
THIN = {
    "en": (
        "Our analytics team was cut when the company lost its biggest client. I learned a lot "
        "about SQL there. Now I want to grow into a senior analyst role, and this role fits "
        "because your team builds data products at scale."
    ),
    "zh": (
        "公司失去了最大的客户，我们整个分析团队被裁了。我在那里学到了很多SQL的知识。现在我希望"
        "成长为高级分析师，贵公司的数据产品正是我想参与的方向，这个岗位很适合我。"
    ),
}
RESULT_AND_REFERENCE = {
    "en": "I built the weekly revenue dashboard and cut report time by 60 percent. "
          "My former manager is one of my references.",
    "zh": "我负责每周收入看板，把报表时间缩短了60%。我和前主管一直保持联系，她是我的推荐人。",
}
INSULT = {
    "en": "Honestly the new director was an idiot who ran the team into the ground, "
          "so good riddance.",
    "zh": "说实话，新来的总监就是个白痴，把整个团队搞垮了，走了正好。",
}
BLAME = {
    "en": "I learned nothing, it was all their fault.",
    "zh": "我什么都没学到，全是他们的错。",
}
NEUTRAL = {
    "en": "The timing is right: the project I led has shipped.",
    "zh": "时机合适：我负责的项目已经上线了。",
}
ELIMINATED = {
    "en": "My role was eliminated in a restructuring.",
    "zh": "我的岗位被取消了。",
}
HEDGING = {
    "en": "I guess I kind of wanted something new, maybe. I'm not sure, I think it was time.",
    "zh": "我觉得可能吧，大概就是想换个环境，也许吧。",
}
GIVEN_FOLLOWUPS = {"proudest_contribution", "references", "what_learned", "why_this_role"}


def started(lang: str, situation: str = "laid_off", mode: str | None = None) -> Transcript:
    t = Transcript()
    t.through_setup(lang, situation)
    if mode:
        t.command("mode", mode)
    return t


def finish(t: Transcript, answer: str) -> None:
    while t.stage == "answer_followup":
        t.say(answer)


def current_question(t: Transcript) -> str:
    return t.state["followups"][t.state["followup_index"]]


LANGS = pytest.mark.parametrize("lang", ["en", "zh"])


# -- follow-ups that listen ------------------------------------------------------------


@LANGS
def test_never_asks_for_what_the_main_answer_already_gave(lang: str) -> None:
    t = started(lang)
    t.say(COMPLETE[lang])
    assert t.stage == "answer_followup"
    finish(t, NEUTRAL[lang])
    asked = set(t.state["followups"])
    assert asked and not asked & GIVEN_FOLLOWUPS, asked


@LANGS
def test_never_asks_for_what_an_earlier_followup_answer_gave(lang: str) -> None:
    t = started(lang)
    t.say(THIN[lang])
    assert current_question(t) == "proudest_contribution"  # the gap laid_off weighs most
    t.say(RESULT_AND_REFERENCE[lang])
    finish(t, NEUTRAL[lang])
    assert "references" not in t.state["followups"]  # given in the answer before


@LANGS
def test_a_red_flag_in_a_followup_brings_the_probe_next(lang: str) -> None:
    t = started(lang)
    t.say(THIN[lang])
    reply = t.say(INSULT[lang])
    probe = current_question(t)
    assert probe in TABLE.calling("trash_talk", "coach")
    question = t.engine.script.catalogs[lang].followups[probe]
    assert question.split("{")[0][:12] in reply
    t.say(BLAME[lang])  # past the two follow-ups: a red flag still gets its probe
    assert t.stage == "answer_followup"
    assert current_question(t) in TABLE.calling("blame", "coach")
    assert len(t.state["followups"]) == MAX_FOLLOWUPS


@LANGS
def test_a_red_flag_in_the_main_answer_is_probed_first(lang: str) -> None:
    t = started(lang, "let_go")
    t.say(INSULT[lang])
    assert current_question(t) == "manager_describe"


def test_an_unknown_red_flag_gets_the_fallback_probe() -> None:
    from leavewell.dialogs.findings import Analysis, Finding

    def analyzer(text: str, **kwargs: object) -> Analysis:
        flags = (Finding("boredom", "red_flag", "", ()),) if "bored" in text else ()
        return Analysis("en", "laid_off", "red_flag" if flags else "strong", 60 if flags else 90,
                        flags, (), (), len(text.split()), 30.0)

    renderer = Renderer(finding_text=lambda fid, lang, field: f"[{fid}]")
    t = Transcript(Interviewer(analyzer=analyzer), renderer)
    t.through_setup("en", "laid_off")
    t.say("I was bored out of my mind.")
    assert current_question(t) == TABLE.fallback
    finish(t, "It was a steady job.")
    assert t.outgoing("feedback").params["verdict"] == "red_flag"


# -- one verdict for the whole exchange --------------------------------------------------


@LANGS
def test_a_red_flag_in_a_followup_sinks_a_strong_first_answer(lang: str) -> None:
    t = started(lang)
    t.say(COMPLETE[lang])
    assert t.state["analysis"]["verdict"] == "strong"
    t.say(INSULT[lang])
    finish(t, BLAME[lang])
    feedback = t.outgoing("feedback")
    params = feedback.params
    assert params["verdict"] == "red_flag"
    assert params["score"] <= 60 < params["main_score"]
    flag = next(f for f in params["red_flags"] if f["id"] == "trash_talk")
    assert flag["answer"] == 1 and flag["evidence"]
    text = t.render(feedback)
    assert f"{params['score']}/100" in text
    assert ("follow-up answer 1" if lang == "en" else "第 1 个追问") in text
    assert all(e in text for e in flag["evidence"])
    # history and the retry delta use the same whole-exchange score
    assert t.profile["attempts"][-1]["score"] == params["score"]
    assert t.profile["attempts"][-1]["verdict"] == "red_flag"
    t.press("retry")
    t.say(COMPLETE[lang])
    finish(t, NEUTRAL[lang])
    delta = t.outgoing("feedback").params["delta"]
    assert delta["previous_score"] == params["score"] and delta["score_change"] > 0


@LANGS
def test_followup_answers_fill_the_gaps_of_the_main_answer(lang: str) -> None:
    t = started(lang)
    t.say(THIN[lang])
    t.say(RESULT_AND_REFERENCE[lang])
    finish(t, NEUTRAL[lang])
    params = t.outgoing("feedback").params
    assert "results" in params["filled"]  # the strength that filled the gap
    assert "no_results" not in {f["id"] for f in params["improvements"]}
    assert params["score"] > params["main_score"]


# -- consistency across turns ------------------------------------------------------------


@LANGS
def test_a_story_that_drifts_from_the_declared_situation_is_asked_about(lang: str) -> None:
    t = started(lang, "let_go")
    reply = t.say(ELIMINATED[lang])
    assert current_question(t) == "clarify_exit"
    assert reply.strip()
    finish(t, NEUTRAL[lang])
    feedback = t.outgoing("feedback")
    drift = feedback.params["inconsistencies"][0]
    assert drift["first"] is None and drift["second"]["answer"] == 0
    text = t.render(feedback)
    label = t.engine.script.catalogs[lang].situations["let_go"]["label"]
    assert label in text and drift["second"]["evidence"][0] in text


@LANGS
def test_good_terms_then_a_complaint_is_checked_with_both_quotes(lang: str) -> None:
    t = started(lang)
    t.say(COMPLETE[lang])
    reply = t.say(INSULT[lang])
    assert current_question(t) == "consistency_check"
    pair = t.state["followup_pair"]
    assert pair["first"] in COMPLETE[lang] and pair["second"] in INSULT[lang]
    assert pair["first"] in reply and pair["second"] in reply
    finish(t, NEUTRAL[lang])
    feedback = t.outgoing("feedback")
    found = feedback.params["inconsistencies"]
    assert any(c["id"] == "good_terms/trash_talk" for c in found)
    text = t.render(feedback)
    assert pair["first"] in text and pair["second"] in text


# -- the skeptical interviewer -----------------------------------------------------------


@LANGS
def test_a_skeptical_round_pushes_back_three_times_without_hints(lang: str) -> None:
    t = Transcript()
    t.start("zh" if lang == "en" else "en")
    t.command("lang", f"{t.profile['lang']} {lang}")  # hints would show a translation
    t.press("skip")
    t.press("skip")
    reply = t.command("mode", "skeptical" if lang == "en" else "严格")
    assert t.profile["mode"] == "skeptical" and reply.strip()
    question = t.press("laid_off")
    assert "30 to 60" not in question and "30 到 60" not in question  # no pacing hint
    assert t.last.outgoing[-1].params["hint_lang"] is None
    assert t.last.outgoing[-1].params["guide"] is False
    t.say(COMPLETE[lang])
    first = current_question(t)
    assert first in {"rehearsed", "call_manager", "fix_from_inside"}
    finish(t, NEUTRAL[lang])
    assert len(t.state["followups"]) == 3
    assert t.outgoing("feedback").params["mode"] == "skeptical"


@LANGS
def test_hedging_costs_more_with_the_skeptical_interviewer(lang: str) -> None:
    scores = {}
    for mode in ("coach", "skeptical"):
        t = started(lang, "quit", mode)
        t.say(HEDGING[lang])
        scores[mode] = t.state["analysis"]["score"]
    assert scores["skeptical"] < scores["coach"]


@LANGS
def test_the_mode_button_after_feedback_retries_with_the_skeptic(lang: str) -> None:
    t = started(lang)
    t.say(COMPLETE[lang])
    finish(t, NEUTRAL[lang])
    reply = t.press("retry_skeptical")
    assert t.stage == "answer_main" and t.profile["mode"] == "skeptical"
    assert reply.strip()
    t.say(COMPLETE[lang])
    finish(t, NEUTRAL[lang])
    assert len(t.state["followups"]) == 3
    # remembered for the user's next round, until they switch back
    t.press("another")
    t.press("laid_off")
    t.say(COMPLETE[lang])
    assert current_question(t) in {"rehearsed", "call_manager", "fix_from_inside"}
    t.command("mode", "coach" if lang == "en" else "教练")
    assert t.profile["mode"] is None


def test_mode_without_a_word_offers_buttons_typed_numbers_work_too() -> None:
    t = started("en")
    reply = t.command("mode")
    assert "1. Friendly coach" in reply and "2. Skeptical interviewer" in reply
    t.send(ChoicePressed(at=t.tick(), choice="mode.skeptical"))
    assert t.profile["mode"] == "skeptical" and t.stage == "answer_main"
    t.say(COMPLETE["en"])
    finish(t, NEUTRAL["en"])
    feedback_menu = t.log[-1][1]
    assert "4. Try again with the friendly coach" in feedback_menu
    t.say("4")
    assert t.profile["mode"] is None and t.stage == "answer_main"


def test_a_typed_number_in_any_script_picks_a_button_and_a_superscript_does_not_crash() -> None:
    t = Transcript()
    t.start("en")
    t.say("skip")
    t.say("skip")
    assert t.stage == "choose_situation"
    reply = t.say("\u00b2")  # "²" is a digit to str.isdigit(), but int() refuses it
    assert t.stage == "choose_situation" and reply
    t.say("\uff12")  # a full-width 2, as a Chinese keyboard types it
    assert t.state["situation"] == "laid_off" and t.stage != "choose_situation"


# -- set-up answers ----------------------------------------------------------------------


@pytest.mark.parametrize("word", ["skip", "Skip.", "跳过", "none", "-", ""])
def test_skip_words_skip_every_setup_prompt(word: str) -> None:
    for lang in ("en", "zh"):
        t = Transcript()
        t.start(lang)
        t.say(word)
        assert t.stage == "ask_company" and t.profile["role"] is None
        t.say(word)
        assert t.stage == "choose_situation" and t.profile["company"] is None
        t.press("between_jobs")
        t.say(word)
        assert t.stage == "answer_main" and t.state["detail"] is None
        if word:  # at the situation buttons a skip word picks "Skip, just ask me"
            t.command("practice")
            t.say(word)
            assert t.stage == "answer_main" and t.state["situation"] == "unspecified"


@LANGS
def test_role_and_company_are_trimmed_limited_and_echoed(lang: str) -> None:
    t = Transcript()
    t.start(lang)
    t.say('  "Data   analyst."  ')
    reply = t.say("A" * 200)
    assert t.profile["role"] == "Data analyst"
    assert t.profile["company"] == "A" * 60
    assert "Data analyst" in reply and "/role" in reply and "60" in reply


def test_pacing_states_the_measured_time() -> None:
    t = started("en", "quit")
    t.say(" ".join(["I wanted to grow into data engineering and lead projects."] * 5))
    finish(t, NEUTRAL["en"])
    feedback = t.outgoing("feedback")
    text = t.render(feedback)
    seconds = feedback.params["speaking_seconds"]
    assert f"about {seconds} s; aim for 30–60 s" in text
    assert "few seconds" not in text


def test_a_mentor_can_choose_the_skeptic_for_a_round() -> None:
    from leavewell.dialogs.events import RoundInvite

    t = Transcript(Interviewer(settings=DialogSettings(max_followups=2)))
    t.start("en")
    t.send(RoundInvite(at=t.tick(), round_id="r1", situation="laid_off", mode="skeptical"))
    assert t.profile.get("mode") is None  # the member's own setting is untouched
    t.say(COMPLETE["en"])
    finish(t, NEUTRAL["en"])
    assert len(t.state["followups"]) == 3
    assert t.last.round_attempt is not None and t.last.round_attempt["mode"] == "skeptical"


@LANGS
def test_the_skeptic_presses_on_hedging(lang: str) -> None:
    t = started(lang, "quit", "skeptical")
    t.say(HEDGING[lang])  # hedged and vague: the two soft spots the skeptic weighs most
    assert current_question(t) in {"straight_answer", "concrete_example", "clarify_exit"}
    finish(t, NEUTRAL[lang])
    assert "straight_answer" in t.state["followups"]


@LANGS
def test_a_gap_already_asked_about_is_not_asked_again(lang: str) -> None:
    t = started(lang, "laid_off", "skeptical")
    t.say(THIN[lang])  # no result and no word about the old manager
    finish(t, NEUTRAL[lang])
    asked = t.state["followups"]
    assert "call_manager" in asked and "references" not in asked, asked
