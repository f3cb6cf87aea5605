"""The interview engine: step(profile, state, event) -> StepResult. Pure.

The flow (states, prompts, transitions) is declared in scripts/flow.yaml; the engine
supplies one handler per declared state and one per command, checks at construction
that code and declaration agree, and refuses any change of state the flow does not
declare. One module per job:

    dispatch    Interviewer.step, the per-turn context, routing an event to its handler
    flow        the one function that changes the stage, checked against flow.yaml
    prompts     each state's prompt, buttons and parameters; the language policy
    stages      one handler per declared state
    answers     analysing an answer, the next follow-up, the feedback on an attempt
    commands    the /commands and the buttons valid in every state
    round_link  joining a mentor's round and handing it the finished attempt
"""

from __future__ import annotations

from leavewell.dialogs.engine.dispatch import (
    Analyzer,
    DialogSettings,
    Input,
    Interviewer,
    StepResult,
    Turn,
    TurnInfo,
)
from leavewell.dialogs.engine.prompts import DEFAULT_LANG

__all__ = [
    "DEFAULT_LANG",
    "Analyzer",
    "DialogSettings",
    "Input",
    "Interviewer",
    "StepResult",
    "Turn",
    "TurnInfo",
]
