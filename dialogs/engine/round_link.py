"""The interview's side of a mentor's round: joining it (the round's question, follow-ups
and interviewer), and handing the finished attempt to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leavewell.dialogs import feedback
from leavewell.dialogs.engine.flow import RESTING_STAGES, enter, start_situation
from leavewell.dialogs.engine.prompts import DEFAULT_LANG, prompt
from leavewell.dialogs.events import RoundInvite
from leavewell.dialogs.outgoing import Choice
from leavewell.dialogs.rounds.commands import share_choice

if TYPE_CHECKING:
    from leavewell.dialogs.engine.dispatch import Interviewer, Turn


def join_round(engine: Interviewer, turn: Turn, invite: RoundInvite) -> None:
    iv = turn.iv
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    if iv.round_id == invite.round_id and iv.stage not in RESTING_STAGES:
        prompt(engine, turn)  # pressed Join again mid-answer: carry on where we were
        return
    iv.reset_attempt()
    iv.round_id = invite.round_id
    turn.profile.joined_round(invite.round_id)  # so /forget can find them there
    iv.round_followups = invite.followups
    iv.round_mode = invite.mode
    turn.say("joined_round", situation=invite.situation)
    if invite.situation in engine.script.situations:
        start_situation(engine, turn, invite.situation)
    else:
        enter(engine, turn, "choose_situation")


def submit_attempt(turn: Turn, summary: dict[str, Any], exchange: dict[str, Any]) -> None:
    """Hand the finished attempt to its round (once) and offer to share it."""
    iv = turn.iv
    round_id = iv.round_id
    assert round_id is not None
    turn.round_attempt = {
        **summary,
        "round_id": round_id,
        "mode": turn.mode.id,
        "strengths": feedback.ids(exchange, "strengths"),
        "answer": iv.answer,
        "answer_lang": iv.answer_lang,
        "followup_answers": [{"id": a["id"], "text": a["text"]} for a in iv.followup_answers],
        "findings": [
            {"id": f["id"], "kind": kind, "evidence": list(f["evidence"])}
            for kind, key in (("red_flags", "red_flags"), ("improvements", "gaps"),
                              ("strengths", "strengths"))
            for f in exchange[key]
        ],
    }
    iv.round_id = None
    iv.round_followups = True
    turn.say("share_offer", (Choice(share_choice(round_id), turn.label("share_answer")),))
