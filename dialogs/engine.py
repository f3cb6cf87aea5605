"""The interview state machine: step(profile, state, event) -> StepResult. Pure.

The flow (states, prompts, transitions) is declared in scripts/flow.yaml; this
module supplies one handler per declared state and one per command, and checks
at construction that code and declaration agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from leavewell.dialogs import feedback, why
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
from leavewell.dialogs.exchange import MAIN, Exchange, Said, compact, judge
from leavewell.dialogs.findings import Analysis
from leavewell.dialogs.followups import next_followup
from leavewell.dialogs.language import answer_language_issue, detect_language
from leavewell.dialogs.language_help import phrase_help
from leavewell.dialogs.modes import (
    COACH,
    MAX_FOLLOWUPS,
    MODES,
    SKEPTICAL,
    Mode,
    mode_of,
    parse_mode,
)
from leavewell.dialogs.outgoing import Choice, Outgoing
from leavewell.dialogs.rubric import SituationRubric
from leavewell.dialogs.script import LANGS, SITUATION_CHOICES, Script, StateSpec, default_script
from leavewell.dialogs.speech import combine, speech_stats
from leavewell.dialogs.state import Interview, Profile

Analyzer = Callable[..., Analysis]
DEFAULT_LANG = "en"
# Stages in which nothing is awaited, so no idle deadline runs.
RESTING_STAGES = frozenset({"new", "idle"})
# Stages that take an answer to the interview question; the other text stages are set-up.
ANSWER_STAGES = frozenset({"answer_main", "answer_followup"})
# Typed at a prompt that offers Skip, in any language, these mean Skip. At a set-up prompt
# an empty message does too.
SKIP_WORDS = frozenset({"skip", "none", "-", "–", "—", "n/a", "na", "no", "pass",
                        "跳过", "略过", "无", "没有", "不填", "不用"})
# At a set-up prompt with buttons, the button a skip word presses.
SKIP_CHOICES: dict[str, str] = {"choose_situation": "unspecified"}
NAME_LIMIT = 60  # characters kept of a role or company name


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


class _Turn:
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
        """The interviewer for this round: a mentor's choice, else the user's."""
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
        declared, coded = set(self.script.states), set(STAGE_HANDLERS)
        if declared != coded:
            raise ScriptError(
                f"flow.yaml: states: declared {sorted(declared - coded)} have no handler; "
                f"handlers {sorted(coded - declared)} are not declared"
            )

    # -- the pure step -----------------------------------------------------------------

    def step(self, profile: Mapping[str, Any] | None, state: Mapping[str, Any] | None,
             event: Event) -> StepResult:
        before_profile = profile or {}  # never mutated: the step works on copies
        iv = Interview.from_dict(state)
        turn = _Turn(self, Profile.from_dict(before_profile), iv, event.at)
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

    def _dispatch(self, turn: _Turn, event: Event) -> str | None:
        match event:
            case Command(name=name, args=args, lang_hint=hint):
                if turn.profile.lang is None and (hint or "").lower()[:2] in LANGS:
                    turn.profile.lang = (hint or "").lower()[:2]
                handler = COMMAND_HANDLERS.get(name.lower())
                if handler is None:
                    turn.say("unknown_command", name=name[:40])
                else:
                    handler(self, turn, args.strip())
                return f"/{name} {args}".strip()
            case Start(lang_hint=hint):
                cmd_start(self, turn, hint or "")
                return None
            case Timeout():
                self._on_timeout(turn)
                return None
            case Resume():
                if turn.iv.stage == "new":
                    cmd_start(self, turn, "")
                else:
                    self.prompt(turn)
                return None
            case Unsupported():
                turn.say("unsupported", voice=True)
                return None
            case RoundInvite():
                join_round(self, turn, event)
                return None
            case ChoicePressed(choice=choice):
                self._on_choice(turn, choice)
                return choice
            case TextAnswer(text=text, voice_seconds=seconds, transcribed=heard):
                self._on_text(turn, text, seconds, heard)
                return text
        raise TypeError(f"unknown event {event!r}")

    # -- prompts -----------------------------------------------------------------------

    def spec(self, stage: str) -> StateSpec:
        return self.script.states[stage]

    def choice_ids(self, stage: str) -> tuple[str, ...]:
        choices = self.spec(stage).choices
        return self.script.situation_order if choices == SITUATION_CHOICES else choices

    def choices_for(self, turn: _Turn, stage: str) -> tuple[Choice, ...]:
        spec = self.spec(stage)
        catalog = self.script.catalogs[turn.lang]
        tag = turn.iv.prompt_seq
        if spec.input == "choice":
            ids = self.choice_ids(stage)
            if spec.choices == SITUATION_CHOICES:
                return tuple(
                    Choice(f"{tag}.{sid}", catalog.situations[sid]["label"]) for sid in ids
                )
            return tuple(Choice(f"{tag}.{cid}", catalog.labels[cid]) for cid in ids)
        if spec.skip:
            return (Choice(f"{tag}.skip", catalog.labels["skip"]),)
        return ()

    def enter(self, turn: _Turn, stage: str) -> None:
        current = turn.iv.stage
        if current in self.script.states and stage not in self.spec(current).next \
                and stage != current:
            turn.meta.setdefault("jumps", []).append(f"{current}->{stage}")
        turn.iv.stage = stage
        self.prompt(turn)

    def offered(self, turn: _Turn, stage: str) -> tuple[Choice, ...]:
        """The prompt's own choices and the buttons some stages add (not tied to it)."""
        extra = EXTRA_CHOICES.get(stage)
        return self.choices_for(turn, stage) + (extra(turn) if extra else ())

    def prompt(self, turn: _Turn) -> None:
        """(Re)ask the question of the current stage, with fresh buttons."""
        iv = turn.iv
        spec = self.spec(iv.stage)
        iv.prompt_seq += 1
        params = PROMPT_PARAMS.get(iv.stage, _no_params)(self, turn)
        turn.say(spec.prompt, self.offered(turn, iv.stage), **params)

    # -- input -------------------------------------------------------------------------

    def _on_choice(self, turn: _Turn, choice: str) -> None:
        scope, _, value = choice.partition(".")
        if scope in GLOBAL_CHOICES:
            GLOBAL_CHOICES[scope](self, turn, value)
            return
        spec = self.spec(turn.iv.stage)
        valid = self.choice_ids(turn.iv.stage) if spec.input == "choice" else ()
        if spec.skip:
            valid = (*valid, "skip")
        if scope != str(turn.iv.prompt_seq) or value not in valid:
            turn.say("stale_button")
            self.prompt(turn)
            return
        kind = "skip" if value == "skip" else "choice"
        STAGE_HANDLERS[turn.iv.stage](self, turn, Input(kind, value))

    def _on_text(self, turn: _Turn, text: str, voice_seconds: float | None,
                 transcribed: bool = False) -> None:
        spec = self.spec(turn.iv.stage)
        if spec.input == "choice":
            choice = self._match_choice(turn, text)
            if choice is None:
                if turn.iv.stage not in RESTING_STAGES:
                    turn.say("pick_option")
                self.prompt(turn)
                return
            self._on_choice(turn, choice)
            return
        if spec.input == "none":
            STAGE_HANDLERS[turn.iv.stage](self, turn, Input("text", text))
            return
        if spec.skip and _means_skip(text, setup=turn.iv.stage not in ANSWER_STAGES,
                                     voice=voice_seconds is not None):
            STAGE_HANDLERS[turn.iv.stage](self, turn, Input("skip"))
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
        STAGE_HANDLERS[turn.iv.stage](self, turn, Input("text", text, voice_seconds, transcribed))

    def _match_choice(self, turn: _Turn, text: str) -> str | None:
        """Typed input for a button: its number, its id, or its label -> the button."""
        wanted = text.strip().casefold().rstrip(".")
        choices = self.offered(turn, turn.iv.stage)
        if _means_skip(text, setup=False, voice=False) and turn.iv.stage in SKIP_CHOICES:
            wanted = SKIP_CHOICES[turn.iv.stage]
        if wanted.isdigit() and 1 <= int(wanted) <= len(choices):
            return choices[int(wanted) - 1].id
        for choice in choices:
            if wanted in (choice.id.partition(".")[2].casefold(), choice.label.casefold()):
                return choice.id
        return None

    def _on_timeout(self, turn: _Turn) -> None:
        iv = turn.iv
        due = iv.last_event_at + self.settings.idle_timeout
        if iv.stage in RESTING_STAGES or turn.at < due:
            turn.meta["ignored"] = "not due"
            return
        iv.reset_round()
        iv.leave_round()  # Join again to answer the round
        iv.stage = "idle"
        turn.say("timeout", minutes=round(self.settings.idle_timeout / 60))

    # -- answers -----------------------------------------------------------------------

    def answer_rules(self, turn: _Turn, text: str) -> str | None:
        """Which language's rules fit this answer, or None when it cannot be scored
        fairly (mixed languages, no words): the user is told why and asked again."""
        expected = turn.interview_lang
        detection = detect_language(text[: self.settings.answer_char_limit])  # what is scored
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

    def analyse(self, turn: _Turn, text: str, voice_seconds: float | None,
                rubric: SituationRubric, lang: str) -> dict[str, Any]:
        rubric = turn.mode.rubric(rubric)
        limit = self.settings.answer_char_limit
        if len(text) > limit:
            turn.say("long_answer", words=len(text.split()), limit=limit)
            text = text[:limit]
        result = self.analyze(
            text,
            lang=lang,
            messages_lang=turn.lang,
            rubric=rubric,
            voice_seconds=voice_seconds,
            role=turn.profile.role,
            company=turn.profile.company,
        )
        return result.to_dict()

    def heard_voice(self, turn: _Turn, given: Input,
                    analysis: dict[str, Any]) -> dict[str, Any] | None:
        """Say what was heard of a spoken answer; its fillers and pace when transcribed."""
        if given.voice_seconds is None:
            return None
        seconds = round(given.voice_seconds)
        if not given.transcribed:
            turn.say("voice_received", seconds=seconds)
            return None
        turn.say("voice_transcribed", seconds=seconds, text=_short(given.value, 600))
        return speech_stats(given.value, given.voice_seconds, analysis["word_count"],
                            analysis["lang"])

    def heard(self, turn: _Turn) -> Exchange:
        """The whole exchange so far, judged as one."""
        iv = turn.iv
        assert iv.analysis is not None and iv.answer is not None
        said = [Said(MAIN, iv.answer, iv.analysis)]
        said += [Said(a["id"], a["text"], a) for a in iv.followup_answers]
        return judge(said, turn.mode)

    def continue_exchange(self, turn: _Turn) -> None:
        """Ask the follow-up that fits what was heard so far, or give the feedback."""
        iv = turn.iv
        heard = self.heard(turn)
        if not iv.round_followups:
            self.finish_round(turn, heard)
            return
        base = self.script.situation(iv.situation)
        situation = replace(base, rubric=turn.mode.rubric(base.rubric))  # what it stresses
        pick = next_followup(self.script.followup_table, situation, heard,
                             asked=iv.followups, probed=iv.probed, mode=turn.mode.id)
        asked = len(iv.followups)
        room = asked < turn.mode.followup_limit(self.settings.max_followups)
        if pick is None or not (room or (pick.urgent and asked < MAX_FOLLOWUPS)):
            self.finish_round(turn, heard)
            return
        iv.followups.append(pick.id)
        iv.followup_index = asked
        iv.probed.extend(pick.probes)
        iv.followup_pair = pick.pair
        turn.meta["followup"] = {"id": pick.id, "probes": list(pick.probes)}
        self.enter(turn, "answer_followup")

    def finish_round(self, turn: _Turn, heard: Exchange) -> None:
        """The feedback on the whole exchange (``heard``), then what next."""
        iv, profile = turn.iv, turn.profile
        situation = self.script.situation(iv.situation)
        analysis = iv.analysis
        assert analysis is not None
        exchange = heard.to_dict()
        summary = feedback.attempt_summary(exchange, situation, turn.at)
        previous = profile.last_attempt(situation.id)
        params = feedback.feedback_params(
            exchange,
            analysis,
            situation,
            previous=previous,
            summary=summary,
            known={"company": profile.company, "role": profile.role},
        )
        params.update(phrase_help(analysis, situation.id, turn.lang, self.script, iv.answer))
        explain = why.remember(turn, analysis, params, situation.id)
        params["speech"] = combine([iv.speech or {}, *(a.get("speech") or {}
                                                       for a in iv.followup_answers)])
        profile.record_attempt(summary)
        turn.say("feedback", explain, **params)
        if iv.round_id is not None:
            submit_to_round(turn, summary, exchange)
        self.enter(turn, "after_feedback")


def _no_params(engine: Interviewer, turn: _Turn) -> dict[str, Any]:
    return {}


def _main_question_params(engine: Interviewer, turn: _Turn) -> dict[str, Any]:
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


def _followup_params(engine: Interviewer, turn: _Turn) -> dict[str, Any]:
    fid = turn.iv.followups[turn.iv.followup_index]
    return {
        "question_key": f"followups.{fid}",
        "company": turn.profile.company,
        "role": turn.profile.role,
        "pair": turn.iv.followup_pair or {},
        "ask_lang": turn.interview_lang,
        "hint_lang": turn.hint_lang,
    }


def _detail_params(engine: Interviewer, turn: _Turn) -> dict[str, Any]:
    detail = engine.script.situation(turn.iv.situation).ask_detail
    return {"question_key": f"details.{detail}"}


PROMPT_PARAMS: dict[str, Callable[[Interviewer, _Turn], dict[str, Any]]] = {
    "answer_main": _main_question_params,
    "answer_followup": _followup_params,
    "ask_detail": _detail_params,
}


# -- stage handlers: what an answer to each declared state does ----------------------


def on_new(engine: Interviewer, turn: _Turn, given: Input) -> None:
    cmd_start(engine, turn, "")


def on_choose_lang(engine: Interviewer, turn: _Turn, given: Input) -> None:
    turn.profile.lang = given.value.removeprefix("lang_")
    engine.enter(turn, "ask_role")


def on_ask_role(engine: Interviewer, turn: _Turn, given: Input) -> None:
    turn.profile.role = _name(given.value) if given.kind == "text" else None
    engine.enter(turn, "ask_company")


def on_ask_company(engine: Interviewer, turn: _Turn, given: Input) -> None:
    profile = turn.profile
    profile.company = _name(given.value) if given.kind == "text" else None
    profile.setup_done = True
    if profile.role or profile.company:  # echoed, so a typo can be corrected at once
        shortened = NAME_LIMIT in (len(profile.role or ""), len(profile.company or ""))
        turn.say("role_set", role=profile.role, company=profile.company,
                 shortened=shortened, limit=NAME_LIMIT)
    else:
        turn.say("role_cleared")
    engine.enter(turn, "choose_situation")


def on_choose_situation(engine: Interviewer, turn: _Turn, given: Input) -> None:
    start_situation(engine, turn, given.value)


def on_ask_detail(engine: Interviewer, turn: _Turn, given: Input) -> None:
    turn.iv.detail = _short(given.value) if given.kind == "text" else None
    engine.enter(turn, "answer_main")


def on_answer_main(engine: Interviewer, turn: _Turn, given: Input) -> None:
    iv = turn.iv
    situation = engine.script.situation(iv.situation)
    lang = engine.answer_rules(turn, given.value)
    if lang is None:
        return  # asked again; the answer is kept in the turn log
    analysis = engine.analyse(turn, given.value, given.voice_seconds, situation.rubric, lang)
    iv.answer = given.value[: engine.settings.answer_char_limit]  # state stays small
    iv.answer_lang = lang
    iv.analysis = analysis
    turn.analysis = analysis
    turn.meta["question"] = f"situations.{situation.id}.question"
    iv.speech = engine.heard_voice(turn, given, analysis)
    iv.followups = []
    iv.followup_index = 0
    iv.followup_answers = []
    iv.probed = []
    iv.followup_pair = None
    engine.continue_exchange(turn)


def on_answer_followup(engine: Interviewer, turn: _Turn, given: Input) -> None:
    iv = turn.iv
    fid = iv.followups[iv.followup_index]
    turn.meta["question"] = f"followups.{fid}"
    if given.kind == "skip":
        turn.say("followup_skipped")
    else:
        situation = engine.script.situation(iv.situation)
        lang = engine.answer_rules(turn, given.value)
        if lang is None:
            return
        analysis = engine.analyse(turn, given.value, given.voice_seconds, situation.rubric, lang)
        turn.analysis = analysis
        iv.followup_answers.append({
            "id": fid,
            "text": given.value[: engine.settings.answer_char_limit],
            **compact(analysis),
            "speech": engine.heard_voice(turn, given, analysis),
        })
    engine.continue_exchange(turn)


def on_after_feedback(engine: Interviewer, turn: _Turn, given: Input) -> None:
    if given.value == "retry":
        turn.iv.reset_round()
        engine.enter(turn, "answer_main")
    elif given.value == "another":
        turn.iv.reset_round()
        engine.enter(turn, "choose_situation")
    else:
        turn.iv.reset_round()
        turn.iv.stage = "idle"
        turn.say("stopped")


def on_idle(engine: Interviewer, turn: _Turn, given: Input) -> None:
    if given.kind == "choice":
        engine.enter(turn, "choose_situation")
    else:
        engine.prompt(turn)


STAGE_HANDLERS: dict[str, Callable[[Interviewer, _Turn, Input], None]] = {
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


def start_situation(engine: Interviewer, turn: _Turn, situation_id: str) -> None:
    iv = turn.iv
    iv.reset_round()
    iv.situation = situation_id
    iv.detail = None
    if engine.script.situation(situation_id).ask_detail:
        engine.enter(turn, "ask_detail")
    else:
        engine.enter(turn, "answer_main")


def _short(text: str, limit: int = 80) -> str:
    return " ".join(text.split())[:limit]


_NAME_TRIM = " \t\"'“”‘’`.,;:!?。，；：！？「」《》()（）"


def _name(text: str) -> str | None:
    """A role or company as typed: one line, no wrapping quotes or trailing dots, at most
    NAME_LIMIT characters; None when nothing is left."""
    return _short(text.strip(_NAME_TRIM), NAME_LIMIT).strip() or None


def _means_skip(text: str, *, setup: bool, voice: bool) -> bool:
    typed = text.strip().casefold().rstrip(".!。！")
    if not typed:
        return setup and not voice
    return typed in SKIP_WORDS


# -- commands: available in every state ----------------------------------------------


def cmd_start(engine: Interviewer, turn: _Turn, args: str) -> None:
    profile = turn.profile
    hint = args.strip().lower()[:2]
    if profile.lang is None and hint in LANGS:
        profile.lang = hint
    turn.iv.reset_round()
    turn.iv.leave_round()
    turn.say("welcome")
    if profile.lang is None:
        engine.enter(turn, "choose_lang")
    elif not profile.setup_done:
        engine.enter(turn, "ask_role")
    else:
        engine.enter(turn, "choose_situation")


def cmd_practice(engine: Interviewer, turn: _Turn, args: str) -> None:
    # On platforms with no "first contact" event (Discord), /practice is the first thing
    # a new user sends: it greets them and, with no situation given, runs the set-up.
    first_contact = turn.iv.stage == "new" and not turn.profile.setup_done
    wanted = args.strip().lower()
    if first_contact and not wanted:
        cmd_start(engine, turn, "")
        return
    if first_contact:
        turn.say("welcome")
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    turn.iv.leave_round()  # a practice of one's own never counts for a mentor's round
    if not wanted:
        turn.iv.reset_round()
        engine.enter(turn, "choose_situation")
    elif wanted in engine.script.situations:
        start_situation(engine, turn, wanted)
    else:
        turn.iv.reset_round()
        turn.iv.stage = "choose_situation"
        turn.say("unknown_situation")
        engine.prompt(turn)


def cmd_retry(engine: Interviewer, turn: _Turn, args: str) -> None:
    iv = turn.iv
    if iv.situation is None:
        if turn.profile.lang is None:
            turn.profile.lang = DEFAULT_LANG
        turn.say("nothing_to_retry")
        engine.enter(turn, "choose_situation")
        return
    iv.reset_round()
    engine.enter(turn, "answer_main")


def cmd_history(engine: Interviewer, turn: _Turn, args: str) -> None:
    params = feedback.history_params(turn.profile.attempts)
    attachments = ("progress_chart",) if feedback.history_wants_chart(params) else ()
    turn.out.append(Outgoing("history", turn.lang, params, attachments=attachments))


INTERVIEW_WORDS = frozenset({"interview", "answer", "answers", "面试", "回答"})
HINT_WORDS = frozenset({"hint", "hints", "提示"})
HINT_VALUES = {"on": "on", "yes": "on", "1": "on", "开": "on", "开启": "on",
               "off": "off", "no": "off", "0": "off", "关": "off", "关闭": "off"}
LANG_WORDS = {"en": "en", "english": "en", "英文": "en", "英语": "en",
              "zh": "zh", "chinese": "zh", "中文": "zh", "汉语": "zh", "zh-cn": "zh",
              "zh-hans": "zh"}


def cmd_lang(engine: Interviewer, turn: _Turn, args: str) -> None:
    """/lang zh · /lang zh en (interface, interview) · /lang interview en · /lang hints off;
    with nothing understood, buttons for each setting."""
    words = [w.lower() for w in args.split()]
    codes = [LANG_WORDS.get(w) for w in words]
    if len(words) == 2 and words[0] in INTERVIEW_WORDS and codes[1]:
        set_interview_lang(engine, turn, codes[1], reask=False)
    elif len(words) == 2 and words[0] in HINT_WORDS and words[1] in HINT_VALUES:
        set_hints(engine, turn, HINT_VALUES[words[1]], reask=False)
    elif 1 <= len(words) <= 2 and all(codes):
        set_lang(engine, turn, str(codes[0]), reask=False)
        if len(words) == 2:
            set_interview_lang(engine, turn, str(codes[1]), reask=False)
    else:
        show_lang_menu(engine, turn)
        return
    _reask(engine, turn)  # once, in the settled languages


def show_lang_menu(engine: Interviewer, turn: _Turn) -> None:
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    hints = "off" if turn.profile.hints else "on"
    choices = (
        *(Choice(f"lang.{code}", turn.label(f"ui_{code}")) for code in LANGS),
        *(Choice(f"ilang.{code}", turn.label(f"interview_{code}")) for code in LANGS),
        Choice(f"hints.{hints}", turn.label(f"hints_{hints}")),
    )
    turn.say("lang_menu", choices, ui=turn.lang, interview=turn.interview_lang,
             hints=turn.profile.hints)


def set_lang(engine: Interviewer, turn: _Turn, lang: str, reask: bool = True) -> None:
    if lang not in LANGS:
        return
    turn.profile.lang = lang
    turn.say("lang_set")
    if reask:
        _reask(engine, turn)


def set_interview_lang(engine: Interviewer, turn: _Turn, lang: str,
                       reask: bool = True) -> None:
    if lang not in LANGS:
        return
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    # Stored only when it differs, so changing the interface later moves both together.
    turn.profile.interview_lang = None if lang == turn.lang else lang
    turn.say("interview_lang_set", interview=lang, hints=turn.hint_lang is not None)
    if reask:
        _reask(engine, turn)


def set_hints(engine: Interviewer, turn: _Turn, value: str, reask: bool = True) -> None:
    turn.profile.hints = value != "off"
    turn.say("hints_set", hints=turn.profile.hints)
    if reask:
        _reask(engine, turn)


def _reask(engine: Interviewer, turn: _Turn) -> None:
    if turn.iv.stage not in RESTING_STAGES:
        engine.prompt(turn)


# -- mentor rounds: the interview side -----------------------------------------------


def join_round(engine: Interviewer, turn: _Turn, invite: RoundInvite) -> None:
    iv = turn.iv
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    if iv.round_id == invite.round_id and iv.stage not in RESTING_STAGES:
        engine.prompt(turn)  # pressed Join again mid-answer: carry on where we were
        return
    iv.reset_round()
    iv.round_id = invite.round_id
    turn.profile.joined_round(invite.round_id)  # so /forget can find them there
    iv.round_followups = invite.followups
    iv.round_mode = invite.mode
    turn.say("joined_round", situation=invite.situation)
    if invite.situation in engine.script.situations:
        start_situation(engine, turn, invite.situation)
    else:
        engine.enter(turn, "choose_situation")


def submit_to_round(turn: _Turn, summary: dict[str, Any], exchange: dict[str, Any]) -> None:
    """Hand the finished answer to its round (once) and offer to share it."""
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
    turn.say("share_offer", (Choice(f"round.{round_id}.share", turn.label("share_answer")),))


def cmd_mode(engine: Interviewer, turn: _Turn, args: str) -> None:
    """/mode skeptical · /mode coach (also in Chinese); with nothing understood, buttons."""
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    wanted = parse_mode(args) if args else None
    if wanted is None:
        turn.say("mode_menu", tuple(Choice(f"mode.{m}", turn.label(f"mode_pick_{m}"))
                                    for m in MODES), mode=turn.mode.id)
        return
    set_mode(engine, turn, wanted)


RETRY_WITH = "retry_"  # a mode button after the feedback: that interviewer, same question


def set_mode(engine: Interviewer, turn: _Turn, value: str) -> None:
    mode = value.removeprefix(RETRY_WITH)
    if mode not in MODES:
        turn.say("stale_button")
        return
    turn.profile.mode = None if mode == COACH else mode
    turn.say("mode_set", mode=mode)
    if value.startswith(RETRY_WITH) and turn.iv.stage == "after_feedback":
        turn.iv.round_mode = None  # the user's own choice from here on
        cmd_retry(engine, turn, "")
    else:
        _reask(engine, turn)


def _mode_switch(turn: _Turn) -> tuple[Choice, ...]:
    """After the feedback: the same question again with the other interviewer."""
    other = COACH if turn.mode.id == SKEPTICAL else SKEPTICAL
    return (Choice(f"mode.{RETRY_WITH}{other}", turn.label(f"mode_{other}")),)


EXTRA_CHOICES: dict[str, Callable[[_Turn], tuple[Choice, ...]]] = {
    "after_feedback": _mode_switch,
}


def cmd_role(engine: Interviewer, turn: _Turn, args: str) -> None:
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    turn.iv.reset_round()
    turn.iv.leave_round()
    engine.enter(turn, "ask_role")


def cmd_stop(engine: Interviewer, turn: _Turn, args: str) -> None:
    turn.iv.reset_round()
    turn.iv.leave_round()
    turn.iv.stage = "idle"
    turn.say("stopped")


def cmd_help(engine: Interviewer, turn: _Turn, args: str) -> None:
    turn.say("help")


def cmd_forget(engine: Interviewer, turn: _Turn, args: str) -> None:
    turn.iv.pending_confirm = "forget"
    turn.say(
        "forget_confirm",
        (Choice("forget.yes", turn.label("forget_yes")),
         Choice("forget.no", turn.label("forget_no"))),
    )


def confirm_forget(engine: Interviewer, turn: _Turn, answer: str) -> None:
    if turn.iv.pending_confirm != "forget":
        turn.say("stale_button")
        return
    turn.iv.pending_confirm = None
    if answer != "yes":
        turn.say("forget_cancelled")
        return
    lang = turn.lang
    turn.forget = True
    turn.profile = Profile(lang=None)
    turn.iv = Interview()
    turn.out.clear()
    turn.out.append(Outgoing("forgotten", lang))


def cmd_round(engine: Interviewer, turn: _Turn, args: str) -> None:
    # Group commands never get here (the core gives them to the round); this is a DM.
    turn.say("round_in_groups_only")


def cmd_export(engine: Interviewer, turn: _Turn, args: str) -> None:
    turn.out.append(Outgoing("export_ready", turn.lang, attachments=("export",)))


COMMAND_HANDLERS: dict[str, Callable[[Interviewer, _Turn, str], None]] = {
    "start": cmd_start,
    "practice": cmd_practice,
    "retry": cmd_retry,
    "history": cmd_history,
    "lang": cmd_lang,
    "role": cmd_role,
    "stop": cmd_stop,
    "help": cmd_help,
    "forget": cmd_forget,
    "export": cmd_export,
    "round": cmd_round,
    "why": why.command,
    "mode": cmd_mode,
}

# Buttons that are valid whatever the stage (not tied to one prompt).
GLOBAL_CHOICES: dict[str, Callable[[Interviewer, _Turn, str], None]] = {
    "lang": set_lang,
    "ilang": set_interview_lang,
    "hints": set_hints,
    "forget": confirm_forget,
    why.SCOPE: why.press,
    "mode": set_mode,
}
