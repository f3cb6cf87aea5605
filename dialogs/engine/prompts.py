"""Asking: each state's prompt with its buttons and parameters, and the language policy
(which language's rules fit an answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from leavewell.dialogs.language import answer_language_issue, detect_language
from leavewell.dialogs.modes import COACH, SKEPTICAL
from leavewell.dialogs.outgoing import Choice
from leavewell.dialogs.script import LANGS, SITUATION_CHOICES, Script

if TYPE_CHECKING:
    from leavewell.dialogs.engine.dispatch import Interviewer, Turn

DEFAULT_LANG = "en"
RETRY_WITH = "retry_"  # a mode button after the feedback: that interviewer, same question


def choice_ids(script: Script, stage: str) -> tuple[str, ...]:
    choices = script.states[stage].choices
    return script.situation_order if choices == SITUATION_CHOICES else choices


def choices_for(engine: Interviewer, turn: Turn, stage: str) -> tuple[Choice, ...]:
    """The buttons of a state's own prompt, tagged with the prompt they belong to."""
    script = engine.script
    spec = script.states[stage]
    catalog = script.catalogs[turn.lang]
    tag = turn.iv.prompt_seq
    if spec.input == "choice":
        ids = choice_ids(script, stage)
        if spec.choices == SITUATION_CHOICES:
            return tuple(
                Choice(f"{tag}.{sid}", catalog.situations[sid]["label"]) for sid in ids
            )
        return tuple(Choice(f"{tag}.{cid}", catalog.labels[cid]) for cid in ids)
    if spec.skip:
        return (Choice(f"{tag}.skip", catalog.labels["skip"]),)
    return ()


def offered(engine: Interviewer, turn: Turn, stage: str) -> tuple[Choice, ...]:
    """The prompt's own choices and the buttons some stages add (not tied to it)."""
    extra = EXTRA_CHOICES.get(stage)
    return choices_for(engine, turn, stage) + (extra(turn) if extra else ())


def prompt(engine: Interviewer, turn: Turn) -> None:
    """(Re)ask the question of the current stage, with fresh buttons."""
    iv = turn.iv
    spec = engine.script.states[iv.stage]
    iv.prompt_seq += 1
    params = PROMPT_PARAMS.get(iv.stage, _no_params)(engine, turn)
    turn.say(spec.prompt, offered(engine, turn, iv.stage), **params)


def short(text: str, limit: int = 80) -> str:
    """One line of at most `limit` characters."""
    return " ".join(text.split())[:limit]


# -- parameters of the prompts that ask a question ------------------------------------


def _no_params(engine: Interviewer, turn: Turn) -> dict[str, Any]:
    return {}


def _main_question_params(engine: Interviewer, turn: Turn) -> dict[str, Any]:
    sid = engine.script.situation(turn.iv.situation).id
    return {
        "question_key": f"situations.{sid}.question",
        "company": turn.profile.company,
        "role": turn.profile.role,
        "detail": turn.iv.detail,
        "ask_lang": turn.interview_lang,
        "hint_lang": turn.hint_lang,
        "guide": turn.mode.hints,
    }


def _followup_params(engine: Interviewer, turn: Turn) -> dict[str, Any]:
    fid = turn.iv.followups[turn.iv.followup_index]
    return {
        "question_key": f"followups.{fid}",
        "company": turn.profile.company,
        "role": turn.profile.role,
        "pair": turn.iv.followup_pair or {},
        "ask_lang": turn.interview_lang,
        "hint_lang": turn.hint_lang,
    }


def _detail_params(engine: Interviewer, turn: Turn) -> dict[str, Any]:
    detail = engine.script.situation(turn.iv.situation).ask_detail
    return {"question_key": f"details.{detail}"}


PROMPT_PARAMS: dict[str, Callable[[Interviewer, Turn], dict[str, Any]]] = {
    "answer_main": _main_question_params,
    "answer_followup": _followup_params,
    "ask_detail": _detail_params,
}


def _mode_switch(turn: Turn) -> tuple[Choice, ...]:
    """After the feedback: the same question again with the other interviewer."""
    other = COACH if turn.mode.id == SKEPTICAL else SKEPTICAL
    return (Choice(f"mode.{RETRY_WITH}{other}", turn.label(f"mode_{other}")),)


# Buttons a stage offers besides its prompt's own (handled as global choices).
EXTRA_CHOICES: dict[str, Callable[[Turn], tuple[Choice, ...]]] = {
    "after_feedback": _mode_switch,
}


# -- the language policy: which rules fit an answer -----------------------------------


def answer_rules(engine: Interviewer, turn: Turn, text: str) -> str | None:
    """Which language's rules fit this answer, or None when it cannot be scored
    fairly (mixed languages, no words): the user is told why and asked again."""
    expected = turn.interview_lang
    detection = detect_language(text[: engine.settings.answer_char_limit])  # what is scored
    issue = answer_language_issue(detection, expected)
    if issue is None:
        return expected
    turn.meta["language"] = {"detected": detection.lang, "expected": expected}
    if issue == "other_language" and detection.primary in LANGS:
        turn.say("answer_other_language", detected=detection.primary, expected=expected)
        return detection.primary
    turn.say("answer_mixed_language" if issue == "mixed" else "answer_no_words",
             expected=expected)
    return None
