"""Listening: analyse an answer, then ask the follow-up that fits what was heard so far or
give the feedback on the whole attempt."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from leavewell.dialogs import feedback, why
from leavewell.dialogs.engine.flow import enter
from leavewell.dialogs.engine.prompts import short
from leavewell.dialogs.engine.round_link import submit_attempt
from leavewell.dialogs.exchange import MAIN, Exchange, Said, judge
from leavewell.dialogs.followups import next_followup
from leavewell.dialogs.language_help import phrase_help
from leavewell.dialogs.modes import MAX_FOLLOWUPS
from leavewell.dialogs.rubric import SituationRubric
from leavewell.dialogs.speech import combine, speech_stats

if TYPE_CHECKING:
    from leavewell.dialogs.engine.dispatch import Input, Interviewer, Turn


def analyse(engine: Interviewer, turn: Turn, text: str, voice_seconds: float | None,
            rubric: SituationRubric, lang: str) -> dict[str, Any]:
    rubric = turn.mode.rubric(rubric)
    limit = engine.settings.answer_char_limit
    if len(text) > limit:
        turn.say("long_answer", words=len(text.split()), limit=limit)
        text = text[:limit]
    result = engine.analyze(
        text,
        lang=lang,
        messages_lang=turn.lang,
        rubric=rubric,
        voice_seconds=voice_seconds,
        role=turn.profile.role,
        company=turn.profile.company,
    )
    return result.to_dict()


def heard_voice(turn: Turn, given: Input, analysis: dict[str, Any]) -> dict[str, Any] | None:
    """Say what was heard of a spoken answer; its fillers and pace when transcribed."""
    if given.voice_seconds is None:
        return None
    seconds = round(given.voice_seconds)
    if not given.transcribed:
        turn.say("voice_received", seconds=seconds)
        return None
    turn.say("voice_transcribed", seconds=seconds, text=short(given.value, 600))
    return speech_stats(given.value, given.voice_seconds, analysis["word_count"],
                        analysis["lang"])


def heard(turn: Turn) -> Exchange:
    """The whole exchange so far, judged as one."""
    iv = turn.iv
    assert iv.analysis is not None and iv.answer is not None
    said = [Said(MAIN, iv.answer, iv.analysis)]
    said += [Said(a["id"], a["text"], a) for a in iv.followup_answers]
    return judge(said, turn.mode)


def continue_exchange(engine: Interviewer, turn: Turn) -> None:
    """Ask the follow-up that fits what was heard so far, or give the feedback."""
    iv = turn.iv
    exchange = heard(turn)
    if not iv.round_followups:
        finish_attempt(engine, turn, exchange)
        return
    base = engine.script.situation(iv.situation)
    situation = replace(base, rubric=turn.mode.rubric(base.rubric))  # what it stresses
    pick = next_followup(engine.script.followup_table, situation, exchange,
                         asked=iv.followups, probed=iv.probed, mode=turn.mode.id)
    asked = len(iv.followups)
    room = asked < turn.mode.followup_limit(engine.settings.max_followups)
    if pick is None or not (room or (pick.urgent and asked < MAX_FOLLOWUPS)):
        finish_attempt(engine, turn, exchange)
        return
    iv.followups.append(pick.id)
    iv.followup_index = asked
    iv.probed.extend(pick.probes)
    iv.followup_pair = pick.pair
    turn.meta["followup"] = {"id": pick.id, "probes": list(pick.probes)}
    enter(engine, turn, "answer_followup")


def finish_attempt(engine: Interviewer, turn: Turn, heard: Exchange) -> None:
    """The feedback on the whole exchange (``heard``), then what next."""
    iv, profile = turn.iv, turn.profile
    situation = engine.script.situation(iv.situation)
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
    params.update(phrase_help(analysis, situation.id, turn.lang, engine.script, iv.answer))
    explain = why.remember(turn, analysis, params, situation.id)
    params["speech"] = combine([iv.speech or {}, *(a.get("speech") or {}
                                                   for a in iv.followup_answers)])
    profile.record_attempt(summary)
    turn.say("feedback", explain, **params)
    if iv.round_id is not None:
        submit_attempt(turn, summary, exchange)
    enter(engine, turn, "after_feedback")
