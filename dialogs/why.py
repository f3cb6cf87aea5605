""""Why was this flagged?": the latest feedback's findings, numbered as the feedback shows
them, explained one at a time (the words, what an interviewer infers, the signal that
fired, how to say it instead); and "I disagree", one press that stores a record in the
user's profile as data for improving the rules.

The feedback remembers its findings in the conversation (`Interview.why`), so `/why N`
works in any later state until the next feedback replaces them. Buttons carry the
feedback's tag ("why.<tag>.list", "why.<tag>.<n>", "why.<tag>.<n>.no"), so a button of
an older feedback is recognised and never explains or disputes the wrong point.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from leavewell.dialogs.analyzer.messages import finding_name
from leavewell.dialogs.findings import SIGNALS
from leavewell.dialogs.outgoing import Choice
from leavewell.dialogs.phrases import PHRASE_LANG, PhraseBank, default_phrase_bank

if TYPE_CHECKING:
    from leavewell.dialogs.engine import Interviewer, Turn

# The choice ids' first part: a global choice (dialogs.engine.commands.GLOBAL_CHOICES).
SCOPE = "why"
LIST, DISAGREE = "list", "no"
# The feedback's sections that get numbers, in the order it shows them, and the kind of
# finding each holds (red flags of the whole exchange, follow-up answers included).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("red_flags", "red_flag"),
    ("improvements", "improvement"),
)
# Analyses stored before findings named their signal: the signal their id implies.
SIGNAL_OF_OLD_FINDINGS: Mapping[str, str] = {
    "too_long": "length",
    "too_short": "length",
    **{fid: "absence" for fid in ("no_growth", "not_specific", "no_role_link", "no_results",
                                   "no_lesson", "no_proactive_steps", "no_good_terms")},
}


# -- after the feedback: number the findings and remember them -------------------------


def remember(turn: Turn, analysis: Mapping[str, Any], params: dict[str, Any],
             situation: str) -> tuple[Choice, ...]:
    """Number the feedback's findings (each shown item of `params` gets "no"), keep them
    in the conversation for /why, and return the button that opens them (none when
    nothing was flagged)."""
    iv = turn.iv
    answer_lang = iv.answer_lang or str(analysis.get("lang") or turn.lang)
    bank = default_phrase_bank() if answer_lang == PHRASE_LANG else None
    suggested = list(params.get("phrases") or ())
    findings: list[dict[str, Any]] = []
    for section, kind in SECTIONS:
        for shown in params.get(section) or ():
            findings.append(_finding(shown, kind, bool(shown.get("answer")), bank, suggested))
            shown["no"] = len(findings)
    previous = iv.why or {}
    tag = int(previous.get("tag") or 0) + 1
    iv.why = {
        "tag": tag,
        "at": turn.at,
        "situation": situation,
        "answer_lang": answer_lang,
        "words": analysis.get("word_count", 0),
        "seconds": round(float(analysis.get("speaking_seconds") or 0)),
        "findings": findings,
    }
    if not findings:
        return ()
    return (Choice(f"{SCOPE}.{tag}.{LIST}", turn.label("why_open"), typed="/why"),)


def _finding(found: Mapping[str, Any], kind: str, followup: bool, bank: PhraseBank | None,
             suggested: list[dict[str, Any]]) -> dict[str, Any]:
    fid = str(found["id"])
    evidence = [e["text"] if isinstance(e, Mapping) else str(e)
                for e in found.get("evidence") or ()]
    signal = found.get("signal") or SIGNAL_OF_OLD_FINDINGS.get(fid, "rule")
    return {
        "id": fid,
        "kind": kind,
        "rule": found.get("rule") or fid,
        "signal": signal if signal in SIGNALS else "rule",
        "evidence": evidence,
        "followup": followup,
        "phrases": _phrase_entry(bank, fid, evidence, suggested),
    }


def _phrase_entry(bank: PhraseBank | None, fid: str, evidence: list[str],
                  suggested: list[dict[str, Any]]) -> int | None:
    """Which entry of the phrase bank offers better wordings for this finding: the one
    the feedback itself suggested for these words, else the best fit for the first
    quoted phrase (or the default entry when nothing was quoted)."""
    if bank is None:
        return None
    for suggestion in suggested:
        if suggestion.get("finding") == fid and suggestion.get("phrase") in evidence:
            texts = [a["text"] for a in suggestion.get("alternatives") or ()]
            for entry in bank.entries(fid):
                if [a.text for a in entry.alternatives] == texts:
                    return entry.index
    entry = bank.entry_for(fid, evidence[0]) if evidence else bank.default_entry(fid)
    return entry.index if entry is not None else None


# -- /why, /why N, /why N disagree, and the buttons ------------------------------------


def command(engine: Interviewer, turn: Turn, args: str) -> None:
    words = args.split()
    if not words:
        show_list(turn)
    elif len(words) == 1 and words[0].isdecimal():
        explain(turn, int(words[0]))
    elif len(words) == 2 and words[0].isdecimal() \
            and words[1].casefold() in engine.script.words.words("why_disagree"):
        disagree(turn, int(words[0]))
    else:
        _unknown(turn, " ".join(words)[:20])


def press(engine: Interviewer, turn: Turn, value: str) -> None:
    """A button: `value` is "<tag>.list", "<tag>.<n>" or "<tag>.<n>.no"."""
    tag, _, rest = value.partition(".")
    why = turn.iv.why
    if why is None or tag != str(why.get("tag")):
        turn.say("why_stale")
        return
    number, _, action = rest.partition(".")
    act = PRESSES.get((number == LIST, action))
    if act is None or not (number == LIST or number.isdecimal()):
        turn.say("why_stale")
        return
    act(turn, int(number) if number.isdecimal() else 0)


def _ready(turn: Turn) -> list[dict[str, Any]] | None:
    """The latest feedback's findings; None (and the user told why) when there are none."""
    if turn.profile.lang is None:
        turn.profile.lang = turn.lang  # a first contact that starts with /why
    why = turn.iv.why
    if why is None:
        turn.say("why_none")
        return None
    if not why["findings"]:
        turn.say("why_nothing_flagged")
        return None
    findings: list[dict[str, Any]] = why["findings"]
    return findings


def show_list(turn: Turn, _number: int = 0) -> None:
    findings = _ready(turn)
    if findings is None:
        return
    if len(findings) == 1:
        explain(turn, 1)
        return
    tag = turn.iv.why["tag"] if turn.iv.why else 0
    choices = tuple(
        Choice(f"{SCOPE}.{tag}.{n}", f"{n}. {finding_name(f['id'], turn.lang)}",
               typed=f"/why {n}")
        for n, f in enumerate(findings, 1)
    )
    turn.say("why_list", choices, count=len(findings))


def explain(turn: Turn, number: int) -> None:
    found = _numbered(turn, number)
    if found is None:
        return
    why = turn.iv.why or {}
    turn.say(
        "why",
        (Choice(f"{SCOPE}.{why['tag']}.{number}.{DISAGREE}", turn.label("why_disagree"),
                typed=f"/why {number} disagree"),),
        no=number,
        id=found["id"],
        kind=found["kind"],
        rule=found["rule"],
        signal=found["signal"],
        evidence=found["evidence"],
        followup=found["followup"],
        words=why.get("words", 0),
        seconds=why.get("seconds", 0),
        answer_lang=why.get("answer_lang"),
        alternatives=_alternatives(found),
    )


def disagree(turn: Turn, number: int) -> None:
    found = _numbered(turn, number)
    if found is None:
        return
    why = turn.iv.why or {}
    profile = turn.profile
    if any(d.get("feedback_at") == why["at"] and d.get("number") == number
           for d in profile.disagreements):
        turn.say("why_already_noted", no=number)
        return
    profile.record_disagreement({
        "at": turn.at,
        "feedback_at": why["at"],
        "number": number,
        "finding": found["id"],
        "kind": found["kind"],
        "rule": found["rule"],
        "signal": found["signal"],
        "evidence": list(found["evidence"]),
        "followup": found["followup"],
        "situation": why.get("situation"),
        "answer_lang": why.get("answer_lang"),
        "ui_lang": turn.lang,
    })
    turn.say("why_thanks", no=number, finding=found["id"])


PRESSES: dict[tuple[bool, str], Callable[[Turn, int], None]] = {
    (True, ""): show_list,
    (False, ""): explain,
    (False, DISAGREE): disagree,
}


def _numbered(turn: Turn, number: int) -> dict[str, Any] | None:
    findings = _ready(turn)
    if findings is None:
        return None
    if not 1 <= number <= len(findings):
        _unknown(turn, str(number))
        return None
    return findings[number - 1]


def _unknown(turn: Turn, given: str) -> None:
    findings = _ready(turn)
    if findings is not None:
        turn.say("why_unknown", given=given, count=len(findings))


def _alternatives(found: Mapping[str, Any]) -> list[dict[str, str]]:
    index = found.get("phrases")
    if index is None:
        return []
    entries = default_phrase_bank().entries(found["id"])
    if not 0 <= index < len(entries):
        return []  # the phrase bank changed since the feedback
    return [a.to_dict() for a in entries[index].alternatives]
