"""One handler per state of flow.yaml: what an answer to that state's prompt does."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from leavewell.dialogs.engine.answers import analyse, continue_exchange, heard_voice
from leavewell.dialogs.engine.commands import cmd_start
from leavewell.dialogs.engine.flow import enter, move, start_situation
from leavewell.dialogs.engine.prompts import answer_rules, prompt, short
from leavewell.dialogs.exchange import compact

if TYPE_CHECKING:
    from leavewell.dialogs.engine.dispatch import Input, Interviewer, Turn

NAME_LIMIT = 60  # characters kept of a role or company name
_NAME_TRIM = " \t\"'“”‘’`.,;:!?。，；：！？「」《》()（）"


def on_new(engine: Interviewer, turn: Turn, given: Input) -> None:
    cmd_start(engine, turn, "")


def on_choose_lang(engine: Interviewer, turn: Turn, given: Input) -> None:
    turn.profile.lang = given.value.removeprefix("lang_")
    enter(engine, turn, "ask_role")


def on_ask_role(engine: Interviewer, turn: Turn, given: Input) -> None:
    turn.profile.role = _name(given.value) if given.kind == "text" else None
    enter(engine, turn, "ask_company")


def on_ask_company(engine: Interviewer, turn: Turn, given: Input) -> None:
    profile = turn.profile
    profile.company = _name(given.value) if given.kind == "text" else None
    profile.setup_done = True
    if profile.role or profile.company:  # echoed, so a typo can be corrected at once
        shortened = NAME_LIMIT in (len(profile.role or ""), len(profile.company or ""))
        turn.say("role_set", role=profile.role, company=profile.company,
                 shortened=shortened, limit=NAME_LIMIT)
    else:
        turn.say("role_cleared")
    enter(engine, turn, "choose_situation")


def on_choose_situation(engine: Interviewer, turn: Turn, given: Input) -> None:
    start_situation(engine, turn, given.value)


def on_ask_detail(engine: Interviewer, turn: Turn, given: Input) -> None:
    turn.iv.detail = short(given.value) if given.kind == "text" else None
    enter(engine, turn, "answer_main")


def on_answer_main(engine: Interviewer, turn: Turn, given: Input) -> None:
    iv = turn.iv
    situation = engine.script.situation(iv.situation)
    lang = answer_rules(engine, turn, given.value)
    if lang is None:
        return  # asked again; the answer is kept in the turn log
    analysis = analyse(engine, turn, given.value, given.voice_seconds, situation.rubric, lang)
    iv.answer = given.value[: engine.settings.answer_char_limit]  # state stays small
    iv.answer_lang = lang
    iv.analysis = analysis
    turn.analysis = analysis
    turn.meta["question"] = f"situations.{situation.id}.question"
    iv.speech = heard_voice(turn, given, analysis)
    iv.followups = []
    iv.followup_index = 0
    iv.followup_answers = []
    iv.probed = []
    iv.followup_pair = None
    continue_exchange(engine, turn)


def on_answer_followup(engine: Interviewer, turn: Turn, given: Input) -> None:
    iv = turn.iv
    fid = iv.followups[iv.followup_index]
    turn.meta["question"] = f"followups.{fid}"
    if given.kind == "skip":
        turn.say("followup_skipped")
    else:
        situation = engine.script.situation(iv.situation)
        lang = answer_rules(engine, turn, given.value)
        if lang is None:
            return
        analysis = analyse(engine, turn, given.value, given.voice_seconds, situation.rubric,
                           lang)
        turn.analysis = analysis
        iv.followup_answers.append({
            "id": fid,
            "text": given.value[: engine.settings.answer_char_limit],
            **compact(analysis),
            "speech": heard_voice(turn, given, analysis),
        })
    continue_exchange(engine, turn)


def on_after_feedback(engine: Interviewer, turn: Turn, given: Input) -> None:
    turn.iv.reset_attempt()
    if given.value == "retry":
        enter(engine, turn, "answer_main")
    elif given.value == "another":
        enter(engine, turn, "choose_situation")
    else:
        move(engine, turn, "idle")
        turn.say("stopped")


def on_idle(engine: Interviewer, turn: Turn, given: Input) -> None:
    if given.kind == "choice":
        enter(engine, turn, "choose_situation")
    else:
        prompt(engine, turn)


STAGE_HANDLERS: dict[str, Callable[[Interviewer, Turn, Input], None]] = {
    "new": on_new,
    "choose_lang": on_choose_lang,
    "ask_role": on_ask_role,
    "ask_company": on_ask_company,
    "choose_situation": on_choose_situation,
    "ask_detail": on_ask_detail,
    "answer_main": on_answer_main,
    "answer_followup": on_answer_followup,
    "after_feedback": on_after_feedback,
    "idle": on_idle,
}


def _name(text: str) -> str | None:
    """A role or company as typed: one line, no wrapping quotes or trailing dots, at most
    NAME_LIMIT characters; None when nothing is left."""
    return short(text.strip(_NAME_TRIM), NAME_LIMIT).strip() or None
