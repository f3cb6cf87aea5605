"""Transcripts: user says X -> bot replies Y, state Z. Every situation, both languages."""

from __future__ import annotations

import pytest

from leavewell.dialogs.events import ChoicePressed, TextAnswer
from leavewell.dialogs.script import default_script
from tests.support.transcript import Transcript

SITUATIONS = default_script().situation_order

GOOD_EN = (
    "I'm proud of my four years at Northwind, where I led the migration of our billing "
    "system to Python and cut processing time by 30 percent. I've learned a lot, and I'm "
    "ready to grow into a team lead role. That is why this role excites me: your team is "
    "building data pipelines at a larger scale, and I want to contribute to that. My "
    "manager and I are still in touch, and she is one of my references."
)
GOOD_ZH = (
    "我在上一家公司工作了三年，负责数据分析平台，带领团队把报表生成时间缩短了40%。"
    "我很感谢那段经历，也学到了很多。现在我希望在更大的平台上成长，承担更多的管理职责。"
    "贵公司在数据产品方面的投入正是我想参与的方向，我相信这个岗位能让我发挥所长。"
    "我和前主管一直保持联系，她也愿意做我的推荐人。"
)
MAIN_QUESTION_HINT = {
    ("en", "employed"): "leave your current job",
    ("en", "between_jobs"): "what have you been doing since",
    ("zh", "employed"): "离开现在的工作",
    ("zh", "between_jobs"): "这段时间你在做什么",
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("situation", SITUATIONS)
def test_full_round_for_every_situation(lang: str, situation: str) -> None:
    t = Transcript()
    t.start(lang)
    assert t.stage == "ask_role"
    t.say("Data analyst")
    assert t.stage == "ask_company"
    t.say("Acme")
    assert t.stage == "choose_situation"
    reply = t.press(situation)
    if situation == "between_jobs":
        assert t.stage == "ask_detail"
        reply = t.say("five months")
    assert t.stage == "answer_main"
    hint = MAIN_QUESTION_HINT.get((lang, situation))
    if hint:
        assert hint in reply
    t.say(GOOD_ZH if lang == "zh" else GOOD_EN)
    assert t.stage == "answer_followup"
    assert 1 <= len(t.state["followups"]) <= 3
    while t.stage == "answer_followup":
        t.say("I kept learning and stayed in touch with my team." if lang == "en"
              else "我一直在学习，也和团队保持联系。")
    assert t.stage == "after_feedback"
    feedback = t.outgoing("feedback")
    assert feedback.lang == lang
    assert 0 <= feedback.params["score"] <= 100
    text = t.render(feedback)
    assert f"{feedback.params['score']}/100" in text
    assert "Acme" in text  # the model answer is filled with the company we were given
    assert t.profile["attempts"][-1]["situation"] == situation


def test_setup_is_remembered_and_skipped_next_time() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    t.command("stop")
    reply = t.command("start")
    assert t.stage == "choose_situation"
    assert "Which of these describes your situation" in reply


def test_language_from_the_platform_hint_then_lang_command_switches() -> None:
    t = Transcript()
    t.start("zh-hans")
    assert t.profile["lang"] == "zh"
    reply = t.command("lang", "en")
    assert "English" in reply and t.profile["lang"] == "en"
    assert t.stage == "ask_role"  # re-asked, in the new language
    assert "What role" in reply


def test_no_language_hint_asks_for_the_language() -> None:
    t = Transcript()
    reply = t.start()
    assert t.stage == "choose_lang" and "1. English" in reply
    t.say("2")
    assert t.profile["lang"] == "zh" and t.stage == "ask_role"


def test_main_question_uses_the_company_in_why_this_role() -> None:
    t = Transcript()
    t.start("en")
    t.say("Backend engineer")
    t.say("Globex")
    t.press("unspecified")
    t.say(GOOD_EN)
    asked = [t.state["followups"]]
    assert "why_this_role" in asked[0] or "why_now" in asked[0]
    texts = []
    while t.stage == "answer_followup":
        texts.append(t.log[-1][1])
        t.say("Because the work matches what I want to learn next.")
    if "why_this_role" in asked[0]:
        assert any("Globex" in x for x in texts)


def test_negative_answer_probes_how_the_manager_would_describe_it() -> None:
    t = Transcript()
    t.through_setup("en", "let_go")
    reply = t.say("My boss was a total jerk and everyone there was toxic. It wasn't my fault.")
    assert t.state["followups"][0] == "manager_describe"
    assert "former manager describe" in reply
    assert t.state["analysis"]["verdict"] == "red_flag"


def test_money_headline_probes_compensation() -> None:
    t = Transcript()
    t.through_setup("en", "employed")
    t.say("Honestly I'm just looking for more money. The pay was terrible.")
    t.say("My manager would say I did my job.")  # the first probe: the complaint
    assert "compensation_driver" in t.state["followups"]  # then the money


def test_let_go_asks_what_was_learned() -> None:
    t = Transcript()
    t.through_setup("en", "let_go")
    t.say("I was fired last spring after the role changed and my numbers slipped.")
    assert "what_learned" in t.state["followups"]


def test_a_firing_told_as_a_parting_asks_to_clarify_the_exit() -> None:
    # issue 10 (d): a parting with nothing owned or learnt hides what happened
    t = Transcript()
    t.through_setup("en", "let_go")
    t.say("The role changed and it did not work out, so we parted ways last spring.")
    assert "clarify_exit" in t.state["followups"]


def test_followups_can_be_skipped() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    t.say(GOOD_EN)
    while t.stage == "answer_followup":
        reply = t.press("skip")
    assert t.stage == "after_feedback"
    assert "Skipped" in t.log[-1][1] or "Skipped" in reply


def test_retry_shows_the_delta() -> None:
    t = Transcript()
    t.through_setup("en", "let_go")
    t.say("It wasn't my fault. My manager was a jerk.")
    while t.stage == "answer_followup":
        t.press("skip")
    first = t.outgoing("feedback").params["score"]
    t.press("retry")
    assert t.stage == "answer_main"
    t.say(
        "The role shifted toward client work, and I didn't adapt fast enough. I learned to "
        "ask for clear expectations early, and since then I finished a project management "
        "course. My strength is data analysis, which is central to this role."
    )
    while t.stage == "answer_followup":
        t.press("skip")
    feedback = t.outgoing("feedback")
    delta = feedback.params["delta"]
    assert delta["previous_score"] == first
    assert delta["score_change"] == feedback.params["score"] - first
    assert delta["score_change"] > 0
    assert "blame" in delta["fixed"] or "trash_talk" in delta["fixed"]
    assert "Since your last try" in t.render(feedback)


def test_history_lists_attempts_and_trend() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    for answer in ("The company was a mess.", GOOD_EN):
        t.say(answer)
        while t.stage == "answer_followup":
            t.press("skip")
        t.press("retry")
    reply = t.command("history")
    assert reply.count("/100") == 2
    assert "since your first try" in reply


def test_typed_number_or_label_presses_a_button() -> None:
    t = Transcript()
    t.start("en")
    t.say("skip")
    assert t.stage == "ask_company"  # 'skip' typed at a text prompt means Skip
    assert t.profile["role"] is None
    t.press("skip")
    t.say("i was laid off (not about my performance)")
    assert t.state["situation"] == "laid_off"


def test_unknown_choice_text_asks_again_and_loses_nothing() -> None:
    t = Transcript()
    t.start("en")
    t.press("skip")
    t.press("skip")
    before = dict(t.state)
    reply = t.say("banana")
    assert "pick one of the options" in reply
    assert t.stage == before["stage"] == "choose_situation"


def test_stale_button_is_refused_politely() -> None:
    t = Transcript()
    t.start("en")
    old = t.button("skip")
    t.press("skip")
    reply = t.send(ChoicePressed(at=t.tick(), choice=old))
    assert "earlier question" in reply
    assert t.stage == "ask_company"


def test_empty_answer_is_asked_again() -> None:
    t = Transcript()
    t.through_setup("en", "quit")
    reply = t.say("   ")
    assert "didn't catch an answer" in reply and t.stage == "answer_main"


def test_very_long_answer_is_trimmed_with_a_note() -> None:
    t = Transcript()
    t.through_setup("en", "quit")
    reply = t.say("I wanted to grow. " * 2000)
    assert "far more than anyone can say" in reply
    assert t.state["analysis"] is not None


def test_voice_without_transcript_asks_for_the_gist_and_keeps_the_timing() -> None:
    t = Transcript()
    t.through_setup("en", "employed")
    reply = t.say("", voice_seconds=47)
    assert "47 seconds" in reply and t.stage == "answer_main"
    t.say(GOOD_EN)
    assert t.state["analysis"]["voice"] is True
    assert t.state["analysis"]["speaking_seconds"] == 47


def test_commands_work_in_every_state() -> None:
    from leavewell.dialogs.events import COMMANDS

    for name in COMMANDS:
        for stage_setup in ("new", "answer_main", "answer_followup", "after_feedback"):
            t = Transcript()
            if stage_setup != "new":
                t.through_setup("en", "laid_off")
            if stage_setup in ("answer_followup", "after_feedback"):
                t.say(GOOD_EN)
            if stage_setup == "after_feedback":
                while t.stage == "answer_followup":
                    t.press("skip")
            reply = t.command(name)
            assert reply.strip(), (name, stage_setup)


def test_unknown_command_is_explained() -> None:
    t = Transcript()
    t.start("en")
    assert "don't know the command /dance" in t.command("dance")
    assert t.stage == "ask_role"


def test_forget_asks_first_then_deletes() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    t.command("forget")
    reply = t.send(ChoicePressed(at=t.tick(), choice="forget.no"))
    assert "Nothing was deleted" in reply and not t.last.forget
    # an old confirmation button does nothing once the question is closed
    reply = t.send(ChoicePressed(at=t.tick(), choice="forget.yes"))
    assert not t.last.forget
    t.command("forget")
    reply = t.send(ChoicePressed(at=t.tick(), choice="forget.yes"))
    assert t.last.forget and "deleted" in reply
    assert t.profile["attempts"] == [] and t.stage == "new"


def test_export_asks_for_the_attachment() -> None:
    t = Transcript()
    t.start("en")
    t.command("export")
    assert t.outgoing("export_ready").attachments == ("export",)


def test_idle_timeout_pauses_only_when_due() -> None:
    t = Transcript()
    t.through_setup("en", "laid_off")
    deadline = t.last.deadline
    assert deadline == t.state["last_event_at"] + 30 * 60
    early = t.timeout(after=60)
    assert early == "" and t.stage == "answer_main"
    reply = t.timeout(after=30 * 60)
    assert "30 minutes" in reply and t.stage == "idle"
    assert t.last.deadline is None
    t.command("retry")
    assert t.stage == "answer_main"  # the situation survived the timeout


def test_step_is_pure_and_replayable() -> None:
    t = Transcript()
    t.through_setup("en", "let_go")
    profile, state = dict(t.profile), dict(t.state)
    event = TextAnswer(at=t.tick(), text="My boss was a jerk.")
    first = t.engine.step(profile, state, event)
    second = t.engine.step(profile, state, event)
    assert first == second
    assert profile == t.profile and state == t.state  # inputs untouched


def test_practice_as_first_contact_greets_in_the_platforms_language() -> None:
    from leavewell.dialogs.events import Command

    t = Transcript()
    reply = t.send(Command(at=t.tick(), name="practice", args="", lang_hint="zh-CN"))
    assert t.profile["lang"] == "zh" and t.stage == "ask_role" and "你好" in reply
    t2 = Transcript()
    reply = t2.send(Command(at=t2.tick(), name="practice", args="quit", lang_hint="en-US"))
    assert t2.stage == "answer_main" and reply.startswith("Hi!")
