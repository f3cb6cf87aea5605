"""The interview's step: step(profile, state, event) -> StepResult. Pure.

An event goes to a command, a button valid in every state, or the handler of the
current state; the per-turn context (`Turn`) carries what the step says and changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leavewell.dialogs.engine.commands import COMMAND_HANDLERS, GLOBAL_CHOICES, cmd_start
from leavewell.dialogs.engine.flow import ANSWER_STAGES, RESTING_STAGES, move
from leavewell.dialogs.engine.prompts import DEFAULT_LANG, choice_ids, offered, prompt
from leavewell.dialogs.engine.round_link import join_round
from leavewell.dialogs.engine.stages import STAGE_HANDLERS
from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.events import (
    EVENT_KINDS,
    ChoicePressed,
    Command,
    Event,
    Resume,
    RoundInvite,
    Start,
    TextAnswer,
    Timeout,
    Unsupported,
)
from leavewell.dialogs.findings import Analysis
from leavewell.dialogs.modes import Mode, mode_of
from leavewell.dialogs.outgoing import Choice, Outgoing
from leavewell.dialogs.script import LANGS, Cause, Script, default_script
from leavewell.dialogs.state import Interview, Profile

Analyzer = Callable[..., Analysis]
# At a set-up prompt with buttons, the button a skip word presses.
SKIP_CHOICES: dict[str, str] = {"choose_situation": "unspecified"}


@dataclass(frozen=True, slots=True)
class DialogSettings:
    idle_timeout: float = 30 * 60
    max_followups: int = 2
    answer_char_limit: int = 5000


@dataclass(frozen=True, slots=True)
class TurnInfo:
    kind: str
    text: str | None
    analysis: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepResult:
    profile: dict[str, Any]
    state: dict[str, Any]
    outgoing: tuple[Outgoing, ...]
    turn: TurnInfo
    deadline: float | None
    forget: bool = False
    profile_changed: bool = True
    # A finished answer to a mentor's round, for the core to hand to that round.
    round_attempt: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Input:
    """An answer to the current prompt, normalised from a text or a button."""

    kind: str  # "text", "choice" or "skip"
    value: str = ""
    voice_seconds: float | None = None
    transcribed: bool = False  # the text is what a speech-to-text engine heard


class Turn:
    """Mutable scratch space for one step; discarded afterwards."""

    def __init__(self, engine: Interviewer, profile: Profile, iv: Interview, at: float) -> None:
        self.engine = engine
        self.profile = profile
        self.iv = iv
        self.at = at
        self.out: list[Outgoing] = []
        self.analysis: dict[str, Any] | None = None
        self.meta: dict[str, Any] = {}
        self.forget = False
        self.round_attempt: dict[str, Any] | None = None
        # What made this step, for the jumps flow.yaml allows from any state; None for an
        # answer to the current prompt (which may only go to the state's `next`).
        self.cause: Cause | None = None

    @property
    def lang(self) -> str:
        """The interface language: every message is written in it."""
        return self.profile.lang or DEFAULT_LANG

    @property
    def interview_lang(self) -> str:
        """The language the questions are asked and answered in."""
        return self.profile.interview_lang or self.lang

    @property
    def mode(self) -> Mode:
        """The interviewer for this attempt: a mentor's choice, else the user's."""
        return mode_of(self.iv.round_mode or self.profile.mode)

    @property
    def hint_lang(self) -> str | None:
        """Under a question in the interview language, its translation (if wanted)."""
        if self.profile.hints and self.mode.hints and self.interview_lang != self.lang:
            return self.lang
        return None

    def say(self, template: str, choices: tuple[Choice, ...] = (), **params: Any) -> None:
        self.out.append(Outgoing(template, self.lang, params, choices))

    def label(self, key: str) -> str:
        return self.engine.script.catalogs[self.lang].labels[key]


class Interviewer:
    def __init__(
        self,
        script: Script | None = None,
        settings: DialogSettings | None = None,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.script = script or default_script()
        self.settings = settings or DialogSettings()
        if analyzer is None:
            from leavewell.dialogs.analyzer import analyze as analyzer
        self.analyze: Analyzer = analyzer
        self._check_declared(self.script)

    @staticmethod
    def _check_declared(script: Script) -> None:
        """The code handles exactly the declared states, and every declared jump is one
        a command or button of the code can make."""
        declared, coded = set(script.states), set(STAGE_HANDLERS)
        if declared != coded:
            raise ScriptError(
                f"flow.yaml: states: declared {sorted(declared - coded)} have no handler; "
                f"handlers {sorted(coded - declared)} are not declared"
            )
        handled = {"commands": COMMAND_HANDLERS, "buttons": GLOBAL_CHOICES}
        for kind, name in script.jumps:
            table = handled.get(kind)  # events: the script knows them
            if table is not None and name not in table:
                raise ScriptError(f"flow.yaml: jumps.{kind}.{name}: no such {kind[:-1]}")

    # -- the pure step -----------------------------------------------------------------

    def step(self, profile: Mapping[str, Any] | None, state: Mapping[str, Any] | None,
             event: Event) -> StepResult:
        before_profile = profile or {}  # never mutated: the step works on copies
        iv = Interview.from_dict(state)
        turn = Turn(self, Profile.from_dict(before_profile), iv, event.at)
        stage_before = iv.stage
        text = self._dispatch(turn, event)
        iv = turn.iv  # a forget replaces it
        if not isinstance(event, Timeout):
            iv.last_event_at = event.at
        deadline = None
        if iv.stage not in RESTING_STAGES:
            deadline = iv.last_event_at + self.settings.idle_timeout
        new_profile = turn.profile.to_dict()
        turn.meta.update(stage_before=stage_before, stage_after=iv.stage)
        return StepResult(
            profile=new_profile,
            state=iv.to_dict(),
            outgoing=tuple(turn.out),
            turn=TurnInfo(EVENT_KINDS[type(event)], text, turn.analysis, turn.meta),
            deadline=deadline,
            forget=turn.forget,
            profile_changed=new_profile != before_profile,
            round_attempt=turn.round_attempt,
        )

    def _dispatch(self, turn: Turn, event: Event) -> str | None:
        match event:
            case Command(name=name, args=args, lang_hint=hint):
                if turn.profile.lang is None and (hint or "").lower()[:2] in LANGS:
                    turn.profile.lang = (hint or "").lower()[:2]
                handler = COMMAND_HANDLERS.get(name.lower())
                if handler is None:
                    turn.say("unknown_command", name=name[:40])
                else:
                    turn.cause = ("commands", name.lower())
                    handler(self, turn, args.strip())
                return f"/{name} {args}".strip()
            case Start(lang_hint=hint):
                turn.cause = ("commands", "start")
                cmd_start(self, turn, hint or "")
                return None
            case Timeout():
                turn.cause = ("events", "timeout")
                self._on_timeout(turn)
                return None
            case Resume():
                if turn.iv.stage == "new":
                    cmd_start(self, turn, "")
                else:
                    prompt(self, turn)
                return None
            case Unsupported():
                turn.say("unsupported", voice=True)
                return None
            case RoundInvite():
                turn.cause = ("events", "round_invite")
                join_round(self, turn, event)
                return None
            case ChoicePressed(choice=choice):
                self._on_choice(turn, choice)
                return choice
            case TextAnswer(text=text, voice_seconds=seconds, transcribed=heard):
                self._on_text(turn, text, seconds, heard)
                return text
        raise TypeError(f"unknown event {event!r}")

    # -- input -------------------------------------------------------------------------

    def _on_choice(self, turn: Turn, choice: str) -> None:
        scope, _, value = choice.partition(".")
        if scope in GLOBAL_CHOICES:
            turn.cause = ("buttons", scope)
            GLOBAL_CHOICES[scope](self, turn, value)
            return
        stage = turn.iv.stage
        spec = self.script.states[stage]
        valid = choice_ids(self.script, stage) if spec.input == "choice" else ()
        if spec.skip:
            valid = (*valid, "skip")
        if scope != str(turn.iv.prompt_seq) or value not in valid:
            turn.say("stale_button")
            prompt(self, turn)
            return
        kind = "skip" if value == "skip" else "choice"
        STAGE_HANDLERS[stage](self, turn, Input(kind, value))

    def _on_text(self, turn: Turn, text: str, voice_seconds: float | None,
                 transcribed: bool = False) -> None:
        stage = turn.iv.stage
        spec = self.script.states[stage]
        if spec.input == "choice":
            choice = self._match_choice(turn, text)
            if choice is None:
                if stage not in RESTING_STAGES:
                    turn.say("pick_option")
                prompt(self, turn)
                return
            self._on_choice(turn, choice)
            return
        if spec.input == "none":
            STAGE_HANDLERS[stage](self, turn, Input("text", text))
            return
        if spec.skip and self._means_skip(text, setup=stage not in ANSWER_STAGES,
                                          voice=voice_seconds is not None):
            STAGE_HANDLERS[stage](self, turn, Input("skip"))
            return
        if voice_seconds is not None and not text.strip():
            if transcribed:
                turn.say("voice_no_words")
            else:
                turn.iv.pending_voice_seconds = voice_seconds
                turn.say("voice_needs_text", seconds=round(voice_seconds))
            return
        if not text.strip():
            turn.say("empty_answer")
            return
        if voice_seconds is None and turn.iv.pending_voice_seconds is not None:
            voice_seconds = turn.iv.pending_voice_seconds
        turn.iv.pending_voice_seconds = None
        STAGE_HANDLERS[stage](self, turn, Input("text", text, voice_seconds, transcribed))

    def _match_choice(self, turn: Turn, text: str) -> str | None:
        """Typed input for a button: its number, its id, or its label -> the button."""
        wanted = text.strip().casefold().rstrip(".")
        stage = turn.iv.stage
        choices = offered(self, turn, stage)
        if stage in SKIP_CHOICES and self._means_skip(text, setup=False, voice=False):
            wanted = SKIP_CHOICES[stage]
        if wanted.isdecimal() and 1 <= int(wanted) <= len(choices):
            return choices[int(wanted) - 1].id
        for choice in choices:
            if wanted in (choice.id.partition(".")[2].casefold(), choice.label.casefold()):
                return choice.id
        return None

    def _means_skip(self, text: str, *, setup: bool, voice: bool) -> bool:
        """Typed at a prompt that offers Skip, in any language (words.yaml: skip), these
        mean Skip; at a set-up prompt an empty message does too."""
        typed = text.strip().casefold().rstrip(".!。！")
        if not typed:
            return setup and not voice
        return typed in self.script.words.words("skip")

    def _on_timeout(self, turn: Turn) -> None:
        iv = turn.iv
        due = iv.last_event_at + self.settings.idle_timeout
        if iv.stage in RESTING_STAGES or turn.at < due:
            turn.meta["ignored"] = "not due"
            return
        iv.reset_attempt()
        iv.leave_round()  # Join again to answer the round
        move(self, turn, "idle")
        turn.say("timeout", minutes=round(self.settings.idle_timeout / 60))
