"""Moving through the declared flow: `move` is the one place the stage changes, and it
refuses any transition flow.yaml does not declare (FlowError)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leavewell.dialogs.engine.prompts import prompt
from leavewell.dialogs.errors import FlowError

if TYPE_CHECKING:
    from leavewell.dialogs.engine.dispatch import Interviewer, Turn

# Stages in which nothing is awaited, so no idle deadline runs.
RESTING_STAGES = frozenset({"new", "idle"})
# Stages that take an answer to the interview question; the other text stages are set-up.
ANSWER_STAGES = frozenset({"answer_main", "answer_followup"})


def move(engine: Interviewer, turn: Turn, stage: str) -> None:
    """Go to `stage`: allowed when it is in the current state's `next`, or a jump that
    what made this step (`turn.cause`) may make from any state."""
    here = turn.iv.stage
    if not engine.script.allows(here, stage, turn.cause):
        by = "an answer to the prompt" if turn.cause is None else ".".join(turn.cause)
        raise FlowError(
            f"flow.yaml declares no transition {here} -> {stage} (made by {by}): add it "
            f"to states.{here}.next, or to jumps if it may happen from any state"
        )
    turn.iv.stage = stage


def enter(engine: Interviewer, turn: Turn, stage: str) -> None:
    """Go to `stage` and ask its question."""
    move(engine, turn, stage)
    prompt(engine, turn)


def start_situation(engine: Interviewer, turn: Turn, situation_id: str) -> None:
    """A fresh attempt at a situation: its detail question first, if it has one."""
    iv = turn.iv
    iv.reset_attempt()
    iv.situation = situation_id
    iv.detail = None
    if engine.script.situation(situation_id).ask_detail:
        enter(engine, turn, "ask_detail")
    else:
        enter(engine, turn, "answer_main")
