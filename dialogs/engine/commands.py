"""The /commands, available in every state, and the buttons valid in every state (the
language menu, the interviewer, forgetting, "Why was this flagged?"). What people may
type to them in each language is data: scripts/words.yaml."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from leavewell.dialogs import feedback, why
from leavewell.dialogs.engine.flow import RESTING_STAGES, enter, move, start_situation
from leavewell.dialogs.engine.prompts import DEFAULT_LANG, RETRY_WITH, prompt
from leavewell.dialogs.modes import COACH, MODES, parse_mode
from leavewell.dialogs.outgoing import Choice, Outgoing
from leavewell.dialogs.script import LANGS
from leavewell.dialogs.state import Interview, Profile

if TYPE_CHECKING:
    from leavewell.dialogs.engine.dispatch import Interviewer, Turn


def cmd_start(engine: Interviewer, turn: Turn, args: str) -> None:
    profile = turn.profile
    hint = args.strip().lower()[:2]
    if profile.lang is None and hint in LANGS:
        profile.lang = hint
    turn.iv.reset_attempt()
    turn.iv.leave_round()
    turn.say("welcome")
    if profile.lang is None:
        enter(engine, turn, "choose_lang")
    elif not profile.setup_done:
        enter(engine, turn, "ask_role")
    else:
        enter(engine, turn, "choose_situation")


def cmd_practice(engine: Interviewer, turn: Turn, args: str) -> None:
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
        turn.iv.reset_attempt()
        enter(engine, turn, "choose_situation")
    elif wanted in engine.script.situations:
        start_situation(engine, turn, wanted)
    else:
        turn.iv.reset_attempt()
        move(engine, turn, "choose_situation")
        turn.say("unknown_situation")
        prompt(engine, turn)


def cmd_retry(engine: Interviewer, turn: Turn, args: str) -> None:
    iv = turn.iv
    if iv.situation is None:
        if turn.profile.lang is None:
            turn.profile.lang = DEFAULT_LANG
        turn.say("nothing_to_retry")
        enter(engine, turn, "choose_situation")
        return
    iv.reset_attempt()
    enter(engine, turn, "answer_main")


def cmd_history(engine: Interviewer, turn: Turn, args: str) -> None:
    params = feedback.history_params(turn.profile.attempts)
    attachments = ("progress_chart",) if feedback.history_wants_chart(params) else ()
    turn.out.append(Outgoing("history", turn.lang, params, attachments=attachments))


def cmd_lang(engine: Interviewer, turn: Turn, args: str) -> None:
    """/lang zh · /lang zh en (interface, interview) · /lang interview en · /lang hints off;
    with nothing understood, buttons for each setting."""
    vocab = engine.script.words
    languages, switch = vocab.meaning("languages"), vocab.meaning("hints_switch")
    words = [w.lower() for w in args.split()]
    codes = [languages.get(w) for w in words]
    if len(words) == 2 and words[0] in vocab.words("lang_interview") and codes[1]:
        set_interview_lang(engine, turn, codes[1], reask=False)
    elif len(words) == 2 and words[0] in vocab.words("lang_hints") and words[1] in switch:
        set_hints(engine, turn, switch[words[1]], reask=False)
    elif 1 <= len(words) <= 2 and all(codes):
        set_lang(engine, turn, str(codes[0]), reask=False)
        if len(words) == 2:
            set_interview_lang(engine, turn, str(codes[1]), reask=False)
    else:
        show_lang_menu(engine, turn)
        return
    _reask(engine, turn)  # once, in the settled languages


def show_lang_menu(engine: Interviewer, turn: Turn) -> None:
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


def set_lang(engine: Interviewer, turn: Turn, lang: str, reask: bool = True) -> None:
    if lang not in LANGS:
        return
    turn.profile.lang = lang
    turn.say("lang_set")
    if reask:
        _reask(engine, turn)


def set_interview_lang(engine: Interviewer, turn: Turn, lang: str,
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


def set_hints(engine: Interviewer, turn: Turn, value: str, reask: bool = True) -> None:
    turn.profile.hints = value != "off"
    turn.say("hints_set", hints=turn.profile.hints)
    if reask:
        _reask(engine, turn)


def _reask(engine: Interviewer, turn: Turn) -> None:
    """After a setting changed: ask again where an answer is awaited."""
    if turn.iv.stage not in RESTING_STAGES:
        prompt(engine, turn)


def cmd_mode(engine: Interviewer, turn: Turn, args: str) -> None:
    """/mode skeptical · /mode coach (also in Chinese); with nothing understood, buttons."""
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    wanted = parse_mode(args) if args else None
    if wanted is None:
        turn.say("mode_menu", tuple(Choice(f"mode.{m}", turn.label(f"mode_pick_{m}"))
                                    for m in MODES), mode=turn.mode.id)
        return
    set_mode(engine, turn, wanted)


def set_mode(engine: Interviewer, turn: Turn, value: str) -> None:
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


def cmd_role(engine: Interviewer, turn: Turn, args: str) -> None:
    if turn.profile.lang is None:
        turn.profile.lang = DEFAULT_LANG
    turn.iv.reset_attempt()
    turn.iv.leave_round()
    enter(engine, turn, "ask_role")


def cmd_stop(engine: Interviewer, turn: Turn, args: str) -> None:
    turn.iv.reset_attempt()
    turn.iv.leave_round()
    move(engine, turn, "idle")
    turn.say("stopped")


def cmd_help(engine: Interviewer, turn: Turn, args: str) -> None:
    turn.say("help")


def cmd_forget(engine: Interviewer, turn: Turn, args: str) -> None:
    turn.iv.pending_confirm = "forget"
    turn.say(
        "forget_confirm",
        (Choice("forget.yes", turn.label("forget_yes")),
         Choice("forget.no", turn.label("forget_no"))),
    )


def confirm_forget(engine: Interviewer, turn: Turn, answer: str) -> None:
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
    # Nothing of the conversation is kept, and it starts over (flow.yaml: jumps.buttons).
    turn.iv = Interview(stage=turn.iv.stage)
    move(engine, turn, engine.script.start)
    turn.out.clear()
    turn.out.append(Outgoing("forgotten", lang))


def cmd_round(engine: Interviewer, turn: Turn, args: str) -> None:
    # Group commands never get here (the core gives them to the round); this is a DM.
    turn.say("round_in_groups_only")


def cmd_export(engine: Interviewer, turn: Turn, args: str) -> None:
    turn.out.append(Outgoing("export_ready", turn.lang, attachments=("export",)))


COMMAND_HANDLERS: dict[str, Callable[[Interviewer, Turn, str], None]] = {
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

# Buttons that are valid whatever the stage (not tied to one prompt), by their scope.
GLOBAL_CHOICES: dict[str, Callable[[Interviewer, Turn, str], None]] = {
    "lang": set_lang,
    "ilang": set_interview_lang,
    "hints": set_hints,
    "forget": confirm_forget,
    why.SCOPE: why.press,
    "mode": set_mode,
}
