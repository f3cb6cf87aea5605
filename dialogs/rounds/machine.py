"""A mentor's practice round: step_round(state, event) -> RoundResult. Pure.

Replies are addressed, not sent: "group" (the round's group), "mentor" (the mentor's
private chat), "member:<user_key>" (a member's private chat) or "actor" (whoever
caused the event, where they acted). `destination` turns an address into a chat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from leavewell.dialogs.outgoing import Choice, Outgoing
from leavewell.dialogs.rounds import commands, report
from leavewell.dialogs.rounds.commands import RoundCommandError
from leavewell.dialogs.rounds.events import (
    CommentAnswer,
    EndRound,
    ForgetPerson,
    JoinRound,
    OpenRound,
    Person,
    RateAnswer,
    RoundDeadline,
    RoundEvent,
    RoundStatus,
    ShareAnswer,
    SubmitAttempt,
)
from leavewell.dialogs.rounds.state import (
    MAX_COMMENT_CHARS,
    MAX_MEMBERS,
    RATING_POINTS,
    RoundState,
    clean_attempt,
    clean_lang,
    clean_name,
    clean_reach,
    person_record,
)
from leavewell.dialogs.script import default_script

SHARED_ANSWER_CHARS = 1200  # in the group post: fits Discord's 2,000 characters


@dataclass(frozen=True, slots=True)
class Addressed:
    to: str  # "group" | "mentor" | "member:<user_key>" | "actor"
    outgoing: Outgoing


@dataclass(frozen=True, slots=True)
class RoundResult:
    state: dict[str, Any]  # JSON-able (RoundState.to_dict())
    outgoing: tuple[Addressed, ...]
    deadline: float | None  # when a RoundDeadline must be fed; None once closed
    # On a successful JoinRound:
    # {"round_id", "situation", "followups", "mode", "closes_at", "lang"}
    admitted: dict[str, Any] | None
    is_open: bool


@dataclass(slots=True)
class _Step:
    """Scratch space of one step; discarded afterwards."""

    st: RoundState
    lang: str  # for replies when there is no round (else the round's language)
    out: list[Addressed] = field(default_factory=list)
    admitted: dict[str, Any] | None = None

    def say(self, to: str, key: str, choices: tuple[Choice, ...] = (), /,
            **params: Any) -> None:
        lang = self.st.lang if self.st.stage != "none" else self.lang
        self.out.append(Addressed(to, Outgoing(key, lang, params, choices)))

    def label(self, key: str) -> str:
        return default_script().catalogs[self.st.lang].labels[key]


def step_round(state: Mapping[str, Any] | None, event: RoundEvent) -> RoundResult:
    st = RoundState.from_dict(state)
    step = _Step(st, clean_lang(getattr(event, "lang", None) or ""))
    if st.is_open and event.at >= st.closes_at:
        close(step, "deadline", st.closes_at)  # a deadline missed while we were down
    for person in _people(event):
        _remember_reach(st, person)
    handler = HANDLERS.get(type(event))
    if handler is None:
        raise TypeError(f"unknown round event {event!r}")
    handler(step, event)
    st = step.st  # an opening replaces it
    return RoundResult(
        state=st.to_dict(),
        outgoing=tuple(step.out),
        deadline=st.closes_at if st.is_open else None,
        admitted=step.admitted,
        is_open=st.is_open,
    )


def destination(state: Mapping[str, Any] | None, to: str) -> dict[str, str] | None:
    """The chat address behind "group", "mentor" or "member:<key>"; None when unknown
    (and for "actor", which the caller answers where the event came from)."""
    st = state or {}
    if to == "group":
        address = st.get("group")
    elif to == "mentor":
        address = (st.get("mentor") or {}).get("reach")
    elif to.startswith("member:"):
        address = ((st.get("members") or {}).get(to[len("member:"):]) or {}).get("reach")
    else:
        address = None
    return dict(address) if address else None


def _people(event: RoundEvent) -> tuple[Person, ...]:
    person = getattr(event, "who", None) or getattr(event, "by", None) \
        or getattr(event, "rater", None)
    return (person,) if isinstance(person, Person) else ()


def _remember_reach(st: RoundState, person: Person) -> None:
    """A private address learnt later (e.g. the mentor opened a private chat) is kept.
    A member keeps the place they joined from (on Discord, the private thread they
    answered in, where "Shared; I'll send you the totals here" promised peer feedback);
    a later address only fills in one that was unknown."""
    if not person.reach:
        return
    if st.mentor.get("user_key") == person.user_key:
        st.mentor["reach"] = clean_reach(person.reach)
    member = st.members.get(person.user_key)
    if member is not None and not member.get("reach"):
        member["reach"] = clean_reach(person.reach)


# -- common texts' parameters ----------------------------------------------------------


def _timing(st: RoundState, at: float) -> dict[str, Any]:
    return {"closes": report.utc_text(st.closes_at), "span": report.span(st.closes_at - at)}


def _round_params(st: RoundState) -> dict[str, Any]:
    return {"mentor": st.mentor.get("name", ""), "situation": st.situation,
            "followups": st.followups, "mode": st.mode}


def _no_round(step: _Step) -> bool:
    if step.st.stage == "none":
        step.say("actor", "round_none")
        return True
    return False


def close(step: _Step, how: str, at: float) -> None:
    st = step.st
    st.stage = "closed"
    st.closed_at = at
    st.closed_by = how
    step.say("group", "round_summary", **report.public_summary(st.to_dict()))
    params = report.mentor_report(st.to_dict())
    files = tuple(params["attachments"])  # the CSV, Markdown and chart, made from params
    step.out.append(Addressed("mentor", Outgoing("round_report", st.lang, params, (), files)))


# -- handlers --------------------------------------------------------------------------


def on_open(step: _Step, event: OpenRound) -> None:
    st = step.st
    if st.is_open:
        step.say("actor", "round_already_running", **_timing(st, event.at))
        return
    if st.stage == "closed":
        step.say("actor", "round_already_closed", closed=report.utc_text(st.closed_at))
        return
    step.lang = clean_lang(event.lang)
    if not event.privileged:
        step.say("actor", "round_not_allowed")
        return
    options = commands.parse_start(event.args)
    if isinstance(options, RoundCommandError):
        step.say("actor", options.key, **options.params)
        return
    step.st = st = RoundState(
        stage="open",
        round_id=event.round_id,
        lang=step.lang,
        group={str(k): str(v) for k, v in event.group.items()},
        mentor=person_record(event.by.user_key, event.by.name, event.by.reach),
        situation=options.situation,
        followups=options.followups,
        mode=options.mode,
        opened_at=event.at,
        closes_at=event.at + options.window,
    )
    join = Choice(commands.join_choice(st.round_id), step.label("round_join"))
    step.say("group", "round_opened", (join,), window=report.span(options.window),
             **_round_params(st), **_timing(st, event.at))
    if not st.mentor["reach"] or not event.reachable:
        step.say("actor", "round_mentor_unreachable")


def on_join(step: _Step, event: JoinRound) -> None:
    st = step.st
    if _no_round(step):
        return
    if not st.is_open:
        step.say("actor", "round_closed", closed=report.utc_text(st.closed_at))
        return
    key = event.who.user_key
    member = st.members.get(key)
    if member is not None and member["attempt"] is not None:
        step.say("actor", "round_already_answered")
        return
    if member is None and len(st.members) >= MAX_MEMBERS:
        step.say("actor", "round_full", limit=MAX_MEMBERS)
        return
    if member is None:
        st.members[key] = {
            "name": clean_name(event.who.name, key), "reach": clean_reach(event.who.reach),
            "joined_at": event.at, "attempt": None, "late": False, "answer_no": None,
        }
    # Joining again before answering asks the question again (the same reply, no change).
    step.admitted = {"round_id": st.round_id, "situation": st.situation,
                     "followups": st.followups, "mode": st.mode, "closes_at": st.closes_at,
                     "lang": st.lang}
    step.say("actor", "round_joined", **_round_params(st), **_timing(st, event.at))


def on_submit(step: _Step, event: SubmitAttempt) -> None:
    st = step.st
    if _no_round(step):
        return
    member = st.members.get(event.user_key)
    if member is None:
        step.say("actor", "round_not_member")
        return
    if member["attempt"] is not None:
        step.say("actor", "round_already_answered")
        return
    member["attempt"] = clean_attempt(event.attempt, event.at)
    if st.is_open:
        step.say("actor", "round_answer_recorded", **_timing(st, event.at))
        return
    # After the close: kept for the mentor, marked late, left out of the group's numbers.
    member["late"] = True
    step.say("actor", "round_late_answer")
    step.say("mentor", "round_late_note", name=member["name"], no=st.member_no(event.user_key),
             score=member["attempt"]["score"])


def on_share(step: _Step, event: ShareAnswer) -> None:
    st = step.st
    if _no_round(step):
        return
    member = st.members.get(event.user_key)
    if member is None or member["attempt"] is None:
        step.say("actor", "round_share_nothing")
        return
    if member["answer_no"] is not None:
        step.say("actor", "round_already_shared", no=member["answer_no"])
        return
    st.shared.append({"user_key": event.user_key, "at": event.at,
                      "ratings": {}, "comments": {}})
    number = member["answer_no"] = len(st.shared)
    answer = member["attempt"]["answer"]
    buttons = tuple(
        Choice(commands.rate_choice(st.round_id, number, point),
               step.label(f"round_point_{point}"))
        for point in RATING_POINTS
    )
    step.say("group", "round_shared", buttons, no=number, name=member["name"],
             situation=member["attempt"]["situation"], answer=answer[:SHARED_ANSWER_CHARS],
             cut=len(answer) > SHARED_ANSWER_CHARS)
    step.say("actor", "round_share_done", no=number)


def _feedback_target(step: _Step, answer_no: int, rater: Person) -> dict[str, Any] | None:
    """The shared answer a rating or comment is for, or None after telling the rater why."""
    entry = step.st.shared_answer(answer_no)
    if entry is None or entry.get("withdrawn"):
        step.say("actor", "round_no_such_answer", no=answer_no, count=len(step.st.shared))
        return None
    if entry["user_key"] == rater.user_key:
        step.say("actor", "round_no_self_rating")
        return None
    # Peers are the round's members and its mentor: that also bounds the round's size.
    if rater.user_key not in step.st.members and rater.user_key != step.st.mentor.get("user_key"):
        step.say("actor", "round_peers_only")
        return None
    return entry


def _tell_author(step: _Step, entry: dict[str, Any], answer_no: int) -> None:
    step.say(f"member:{entry['user_key']}", "round_peer_feedback", no=answer_no,
             **report.peer_params(entry))


def on_rate(step: _Step, event: RateAnswer) -> None:
    if _no_round(step):
        return
    if event.point not in RATING_POINTS:
        step.say("actor", "round_bad_point")
        return
    entry = _feedback_target(step, event.answer_no, event.rater)
    if entry is None:
        return
    raters = entry["ratings"].setdefault(event.point, [])
    if event.rater.user_key in raters:
        step.say("actor", "round_already_counted", no=event.answer_no, point=event.point)
        return
    raters.append(event.rater.user_key)
    step.say("actor", "round_rating_counted", no=event.answer_no, point=event.point)
    _tell_author(step, entry, event.answer_no)


def on_comment(step: _Step, event: CommentAnswer) -> None:
    if _no_round(step):
        return
    if event.answer_no <= 0:
        step.say("actor", "round_comment_usage", count=len(step.st.shared))
        return
    entry = _feedback_target(step, event.answer_no, event.rater)
    if entry is None:
        return
    text = " ".join(event.text.split())
    if not text:
        step.say("actor", "round_comment_empty", no=event.answer_no)
        return
    replaced = event.rater.user_key in entry["comments"]
    entry["comments"].pop(event.rater.user_key, None)  # the newest comment goes last
    entry["comments"][event.rater.user_key] = text[:MAX_COMMENT_CHARS]
    step.say("actor", "round_comment_counted", no=event.answer_no, replaced=replaced,
             cut=len(text) > MAX_COMMENT_CHARS, limit=MAX_COMMENT_CHARS)
    _tell_author(step, entry, event.answer_no)


def on_end(step: _Step, event: EndRound) -> None:
    st = step.st
    if _no_round(step):
        return
    if not st.is_open:
        step.say("actor", "round_already_closed", closed=report.utc_text(st.closed_at))
        return
    # The mentor who started it may always end it; otherwise it takes the same rights.
    if not event.privileged and event.by.user_key != st.mentor.get("user_key"):
        step.say("actor", "round_end_not_allowed")
        return
    close(step, "end", event.at)
    step.say("actor", "round_ended", mentor=st.mentor.get("name", ""))


def on_deadline(step: _Step, event: RoundDeadline) -> None:
    # Due deadlines were handled before dispatch; an early one changes nothing.
    return


def on_status(step: _Step, event: RoundStatus) -> None:
    st = step.st
    if _no_round(step):
        return
    answered = sum(1 for m in st.members.values() if m["attempt"] and not m["late"])
    counts = {"joined": len(st.members), "answered": answered, "shared": len(st.shared)}
    if st.is_open:
        step.say("actor", "round_status_open", **counts, **_round_params(st),
                 **_timing(st, event.at))
    else:
        step.say("actor", "round_status_closed", **counts, closed=report.utc_text(st.closed_at))


def on_forget(step: _Step, event: ForgetPerson) -> None:
    """Their membership, answer, shared post, ratings and comments go; a shared answer
    keeps its number (others refer to it) but belongs to no one and takes no feedback."""
    st, key = step.st, event.user_key
    st.members.pop(key, None)
    for entry in st.shared:
        if entry["user_key"] == key:
            entry.update(user_key="", withdrawn=True, ratings={}, comments={})
        for raters in entry["ratings"].values():
            if key in raters:
                raters.remove(key)
        entry["comments"].pop(key, None)
    if st.mentor.get("user_key") == key:
        st.mentor = {"user_key": "", "name": "", "reach": {}}


HANDLERS: dict[type, Callable[[_Step, Any], None]] = {
    OpenRound: on_open,
    JoinRound: on_join,
    SubmitAttempt: on_submit,
    ShareAnswer: on_share,
    RateAnswer: on_rate,
    CommentAnswer: on_comment,
    EndRound: on_end,
    RoundDeadline: on_deadline,
    RoundStatus: on_status,
    ForgetPerson: on_forget,
}
