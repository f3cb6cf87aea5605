"""Mentor rounds as pure transcripts: event in -> addressed replies and state out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import HTML, MARKDOWN, PLAIN, default_renderer
from leavewell.dialogs.rounds import commands, machine, report
from leavewell.dialogs.rounds.commands import (
    RoundCommandError,
    StartOptions,
    parse_choice,
    parse_round_command,
    parse_start,
)
from leavewell.dialogs.rounds.events import (
    CommentAnswer,
    EndRound,
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
from leavewell.dialogs.rounds.machine import RoundResult, destination, step_round
from leavewell.dialogs.rounds.state import MAX_COMMENT_CHARS, RATING_POINTS
from leavewell.dialogs.script import default_script
from tests.support.formats import telegram_html_problems

T0 = 1_700_000_000.0
GROUP = {"platform": "telegram", "chat_id": "-100", "user_id": ""}
MENTOR = Person("telegram:1", "Mia Mentor", {"platform": "telegram", "chat_id": "1"})
ADMIN = Person("telegram:2", "Ada Admin", {"platform": "telegram", "chat_id": "2"})


def member(n: int, name: str | None = None) -> Person:
    return Person(f"telegram:{100 + n}", name or f"Member {n}",
                  {"platform": "telegram", "chat_id": str(100 + n)})


def attempt(score: int = 60, *, red_flags: tuple[str, ...] = (),
            improvements: tuple[str, ...] = ("not_specific",), answer: str = "I left to grow.",
            situation: str = "laid_off", top: str | None = "not_specific") -> dict[str, Any]:
    """What the interview hands to its round (engine.round_link.submit_attempt)."""
    return {
        "at": T0, "round_id": "r1", "situation": situation, "score": score,
        "verdict": "red_flag" if red_flags else "acceptable" if score < 75 else "strong",
        "red_flags": list(red_flags), "improvements": list(improvements),
        "strengths": ["growth"], "top": top, "answer": answer, "answer_lang": "en",
        "followup_answers": [{"id": "what_learned", "text": "To speak up early."}],
        "findings": [{"id": f, "kind": "red_flags", "evidence": ["my boss"]} for f in red_flags]
        + [{"id": f, "kind": "improvements", "evidence": []} for f in improvements],
    }


class Round:
    """Feeds one round's events, keeping its state and a clock, like the core would."""

    def __init__(self, round_id: str = "r1", state: dict[str, Any] | None = None) -> None:
        self.round_id = round_id
        self.state: dict[str, Any] | None = state
        self.clock = T0
        self.last: RoundResult | None = None

    def tick(self, seconds: float = 5) -> float:
        self.clock += seconds
        return self.clock

    def feed(self, event: RoundEvent) -> RoundResult:
        self.last = step_round(self.state, event)
        self.state = self.last.state
        return self.last

    def open(self, args: str = "2h laid_off", *, by: Person = MENTOR, privileged: bool = True,
             lang: str = "en") -> RoundResult:
        return self.feed(OpenRound(self.tick(), self.round_id, dict(GROUP), by, privileged,
                                   args, lang))

    def join(self, who: Person) -> RoundResult:
        return self.feed(JoinRound(self.tick(), who))

    def submit(self, who: Person, **kwargs: Any) -> RoundResult:
        return self.feed(SubmitAttempt(self.tick(), who.user_key, attempt(**kwargs)))

    def share(self, who: Person) -> RoundResult:
        return self.feed(ShareAnswer(self.tick(), who.user_key))

    def rate(self, who: Person, answer_no: int, point: str) -> RoundResult:
        return self.feed(RateAnswer(self.tick(), who, answer_no, point))

    def comment(self, who: Person, answer_no: int, text: str) -> RoundResult:
        return self.feed(CommentAnswer(self.tick(), who, answer_no, text))

    def end(self, who: Person = MENTOR, privileged: bool = True) -> RoundResult:
        return self.feed(EndRound(self.tick(), who, privileged))

    def status(self, who: Person = MENTOR) -> RoundResult:
        return self.feed(RoundStatus(self.tick(), who))

    def deadline(self, at: float) -> RoundResult:
        self.clock = max(self.clock, at)
        return self.feed(RoundDeadline(at))


def sent(result: RoundResult) -> list[tuple[str, str]]:
    return [(a.to, a.outgoing.template) for a in result.outgoing]


def only(result: RoundResult, to: str, template: str) -> Outgoing:
    found = [a.outgoing for a in result.outgoing if a.to == to and a.outgoing.template == template]
    assert len(found) == 1, sent(result)
    return found[0]


def text(outgoing: Outgoing, fmt: str = PLAIN) -> str:
    return default_renderer().render(outgoing, fmt).text


def answered_round(n: int = 3) -> tuple[Round, list[Person]]:
    r = Round()
    r.open()
    people = [member(i) for i in range(1, n + 1)]
    for i, person in enumerate(people):
        r.join(person)
        r.submit(person, score=40 + 10 * i)
    return r, people


# -- parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ("", StartOptions(None, 24 * 3600, True)),
    ("30m", StartOptions(None, 1800, True)),
    ("2h laid_off", StartOptions("laid_off", 7200, True)),
    ("1d each", StartOptions(None, 86400, True)),
    ("7d fired nofollowups", StartOptions("let_go", 7 * 86400, False)),
    ("situation=quit window=45m followups=off", StartOptions("quit", 2700, False)),
    ("situation = Quit  window: 1h30m", StartOptions("quit", 5400, True)),
    ("10 minutes employed", StartOptions("employed", 600, True)),
    ("30分钟", StartOptions(None, 1800, True)),
    ("2小时 裁员", StartOptions("laid_off", 7200, True)),
    ("3天 各自 不追问", StartOptions(None, 3 * 86400, False)),
    ("情况=辞职，时长：1天，追问=关", StartOptions("quit", 86400, False)),
    ("1w", StartOptions(None, 7 * 86400, True)),
    ("2h laid_off skeptical", StartOptions("laid_off", 7200, True, "skeptical")),
    ("mode=tough 1d", StartOptions(None, 86400, True, "skeptical")),
    ("2小时 严格", StartOptions(None, 7200, True, "skeptical")),
    ("1d mode=coach", StartOptions(None, 86400, True, None)),
])
def test_parse_start_accepts(args: str, expected: StartOptions) -> None:
    assert parse_start(args) == expected


@pytest.mark.parametrize(("args", "key"), [
    ("5m", "round_bad_window"),
    ("9m59", "round_bad_window"),
    ("8d", "round_bad_window"),
    ("window=forever", "round_bad_window"),
    ("99999999999999999999999d", "round_bad_window"),
    ("30", "round_bad_window"),
    ("1h banana", "round_bad_arg"),
    ("situation=astronaut", "round_bad_arg"),
    ("followups=maybe", "round_bad_arg"),
    ("mode=grumpy", "round_bad_arg"),
    ("colour=red", "round_bad_arg"),
])
def test_parse_start_refuses_with_a_translatable_error(args: str, key: str) -> None:
    error = parse_start(args)
    assert isinstance(error, RoundCommandError)
    assert error.key == key
    json.dumps(error.params)
    for lang in ("en", "zh"):
        assert text(Outgoing(error.key, lang, error.params)).strip()


def test_situation_words_all_name_declared_situations() -> None:
    declared = set(default_script().situations)
    assert set(default_script().words.meaning("round_situations").values()) <= declared
    for sid in declared:
        assert parse_start(sid) == StartOptions(sid, commands.DEFAULT_WINDOW, True)


@pytest.mark.parametrize(("args", "expected"), [
    ("", ("status", "")),
    ("status", ("status", "")),
    ("start 2h laid_off", ("start", "2h laid_off")),
    ("START", ("start", "")),
    ("end", ("end", "")),
    ("comment 2 Clear and  kind", ("comment", "2 Clear and  kind")),
    ("开始 3天", ("start", "3天")),
    ("结束", ("end", "")),
    ("状态", ("status", "")),
    ("评论 1 很好", ("comment", "1 很好")),
    ("launch now", ("unknown", "launch now")),
])
def test_parse_round_command(args: str, expected: tuple[str, str]) -> None:
    assert parse_round_command(args) == expected


@pytest.mark.parametrize(("rest", "expected"), [
    ("2 Clear and kind.", (2, "Clear and kind.")),
    ("#3: great numbers", (3, "great numbers")),
    ("12，很好", (12, "很好")),
    ("4", (4, "")),
    ("", (0, "")),
    ("2nd one is best", (0, "2nd one is best")),
    ("² nice", (0, "² nice")),
])
def test_parse_comment(rest: str, expected: tuple[int, str]) -> None:
    assert commands.parse_comment(rest) == expected


def test_choice_ids_round_trip_and_fit_the_platforms() -> None:
    rid = "abcdef012345"
    assert parse_choice(commands.join_choice(rid)) == (rid, "join", ())
    assert parse_choice(commands.share_choice(rid)) == (rid, "share", ())
    for point in RATING_POINTS:
        choice = commands.rate_choice(rid, 999, point)
        assert parse_choice(choice) == (rid, "rate", ("999", point))
        assert len(choice.encode()) <= 64


@pytest.mark.parametrize("choice", [
    "", "round", "round.r1", "round.r1.explode", "round..join", "round.r1.join.x",
    "round.r1.rate.x.positive", "round.r1.rate.1", "round.r1.rate.².positive",
    "0.skip", "lang.en", "round.waytoolongroundid.join",
])
def test_parse_choice_rejects_what_is_not_ours(choice: str) -> None:
    assert parse_choice(choice) is None


# -- start ---------------------------------------------------------------------------------


def test_privileged_start_posts_the_round_with_a_join_button() -> None:
    r = Round()
    result = r.open("2h laid_off")
    assert sent(result) == [("group", "round_opened")]
    post = result.outgoing[0].outgoing
    assert [c.id for c in post.choices] == ["round.r1.join"]
    assert result.is_open and result.deadline == r.clock + 7200
    assert result.admitted is None
    plain = text(post)
    assert "Mia Mentor" in plain and "2 hours" in plain and "laid off" in plain


def test_start_is_refused_to_members_without_rights() -> None:
    result = Round().open(privileged=False)
    assert sent(result) == [("actor", "round_not_allowed")]
    assert not result.is_open and result.deadline is None
    assert result.state["stage"] == "none"


def test_bad_arguments_are_explained_and_start_nothing() -> None:
    result = Round().open("3m")
    assert sent(result) == [("actor", "round_bad_window")]
    assert not result.is_open
    assert "10 minutes" in text(result.outgoing[0].outgoing)


def test_start_in_chinese_speaks_chinese() -> None:
    result = Round().open("3天 不追问", lang="zh")
    post = result.outgoing[0].outgoing
    assert post.lang == "zh" and "3天" in text(post) and "追问：无" in text(post)


def test_start_while_a_round_runs_says_when_it_ends() -> None:
    r = Round()
    r.open("2h")
    before = r.state
    result = r.open("1h")
    assert sent(result) == [("actor", "round_already_running")]
    assert result.state == before
    assert "(2023-11-15" in text(result.outgoing[0].outgoing)


def test_mentor_without_a_private_chat_is_warned_about_the_report() -> None:
    result = Round().open(by=Person("telegram:9", "Nomad", {}))
    assert sent(result) == [("group", "round_opened"), ("actor", "round_mentor_unreachable")]


def test_mentor_whose_private_chat_is_not_open_yet_is_warned_and_kept_reachable() -> None:
    # Telegram: the address of the private chat is known, but the bot may not write there
    # before the mentor starts it. The address is kept, so the report works once they do.
    nomad = Person("telegram:9", "Nomad", {"platform": "telegram", "chat_id": "9",
                                           "user_id": "9", "thread_id": ""})
    result = step_round(None, OpenRound(T0, "r1", dict(GROUP), nomad, True, "2h", "en",
                                        reachable=False))
    assert sent(result) == [("group", "round_opened"), ("actor", "round_mentor_unreachable")]
    assert destination(result.state, "mentor") == nomad.reach


@pytest.mark.parametrize("event", [
    JoinRound(T0, member(1)),
    SubmitAttempt(T0, "telegram:101", attempt()),
    ShareAnswer(T0, "telegram:101"),
    RateAnswer(T0, member(1), 1, "positive"),
    CommentAnswer(T0, member(1), 1, "hi"),
    EndRound(T0, MENTOR, True),
    RoundStatus(T0, member(1)),
])
@pytest.mark.parametrize("state", [None, {}])
def test_without_a_round_every_event_says_so(event: RoundEvent, state: dict | None) -> None:
    result = step_round(state, event)
    assert sent(result) == [("actor", "round_none")]
    assert not result.is_open and result.deadline is None and result.admitted is None


def test_no_round_reply_uses_the_actors_language() -> None:
    result = step_round(None, RoundStatus(T0, member(1), lang="zh"))
    assert result.outgoing[0].outgoing.lang == "zh"


def test_a_deadline_without_a_round_does_nothing() -> None:
    result = step_round(None, RoundDeadline(T0))
    assert result.outgoing == () and result.deadline is None


# -- join and submit ---------------------------------------------------------------------


def test_join_admits_the_member_to_the_rounds_interview() -> None:
    r = Round()
    r.open("45m quit nofollowups")
    result = r.join(member(1))
    assert result.admitted == {"round_id": "r1", "situation": "quit", "followups": False,
                               "mode": None, "closes_at": T0 + 5 + 2700, "lang": "en"}
    assert sent(result) == [("actor", "round_joined")]
    assert list(result.state["members"]) == ["telegram:101"]


def test_joining_twice_is_idempotent() -> None:
    r = Round()
    r.open()
    first = r.join(member(1))
    again = r.join(member(1))
    assert again.state == first.state
    assert sent(again) == sent(first)
    assert again.admitted == first.admitted  # the question is asked again


def test_joining_after_answering_is_refused() -> None:
    r = Round()
    r.open()
    r.join(member(1))
    r.submit(member(1))
    result = r.join(member(1))
    assert sent(result) == [("actor", "round_already_answered")]
    assert result.admitted is None


def test_joining_after_the_close_is_refused() -> None:
    r = Round()
    r.open()
    r.end()
    result = r.join(member(1))
    assert sent(result) == [("actor", "round_closed")]
    assert result.admitted is None and result.state["members"] == {}


def test_a_full_round_turns_newcomers_away(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(machine, "MAX_MEMBERS", 2)
    r = Round()
    r.open()
    r.join(member(1))
    r.join(member(2))
    result = r.join(member(3))
    assert sent(result) == [("actor", "round_full")] and result.admitted is None
    assert r.join(member(1)).admitted is not None  # members already in stay in


def test_submit_records_the_answer_and_confirms() -> None:
    r = Round()
    r.open()
    r.join(member(1))
    result = r.submit(member(1), score=77, answer="We were all let go in a reorg.")
    assert sent(result) == [("actor", "round_answer_recorded")]
    kept = result.state["members"]["telegram:101"]["attempt"]
    assert kept["score"] == 77 and kept["answer"] == "We were all let go in a reorg."
    assert kept["followup_answers"] == [{"id": "what_learned", "text": "To speak up early."}]
    assert "round_id" not in kept and "answer_lang" not in kept  # only what the round uses


def test_a_second_submit_keeps_the_first_answer() -> None:
    r = Round()
    r.open()
    r.join(member(1))
    r.submit(member(1), score=50)
    result = r.submit(member(1), score=99)
    assert sent(result) == [("actor", "round_already_answered")]
    assert result.state["members"]["telegram:101"]["attempt"]["score"] == 50


def test_submit_from_someone_who_never_joined_is_not_recorded() -> None:
    r = Round()
    r.open()
    result = r.submit(member(7))
    assert sent(result) == [("actor", "round_not_member")]
    assert result.state["members"] == {}


def test_a_late_answer_is_kept_for_the_mentor_but_not_counted() -> None:
    r, _ = answered_round(3)
    late = member(9, "Laura Late")
    r.join(late)
    r.end()
    result = r.submit(late, score=5)
    assert sent(result) == [("actor", "round_late_answer"), ("mentor", "round_late_note")]
    assert "Laura Late" in text(result.outgoing[1].outgoing)
    row = result.state["members"][late.user_key]
    assert row["late"] is True and row["attempt"]["score"] == 5
    assert report.public_summary(result.state)["answered"] == 3
    statuses = {m["name"]: m["status"] for m in report.mentor_report(result.state)["members"]}
    assert statuses["Laura Late"] == "late"


def test_malformed_attempts_are_cleaned_not_trusted() -> None:
    r = Round()
    r.open()
    r.join(member(1))
    junk = {"score": "high", "verdict": "<b>", "red_flags": ["trash_talk", "made_up", 3],
            "top": "made_up", "situation": "astronaut", "answer": 42,
            "followup_answers": [{"id": "nope", "text": "hi"}, "x"], "findings": [1, {}]}
    result = r.feed(SubmitAttempt(r.tick(), member(1).user_key, junk))
    kept = result.state["members"]["telegram:101"]["attempt"]
    assert kept["score"] is None and kept["verdict"] is None and kept["top"] is None
    assert kept["red_flags"] == ["trash_talk"] and kept["situation"] == "unspecified"
    assert kept["answer"] == "" and kept["followup_answers"] == [{"id": None, "text": "hi"}]
    r.end()
    for outgoing in (a.outgoing for a in r.last.outgoing):
        for fmt in (PLAIN, HTML, MARKDOWN):
            assert text(outgoing, fmt)


# -- share, rate, comment ----------------------------------------------------------------


def shared_round() -> tuple[Round, Person, Person]:
    author, peer = member(1, "Ann Author"), member(2, "Pete Peer")
    r = Round()
    r.open()
    r.join(author)
    r.submit(author, answer="Our team was cut after the merger; I led the billing migration.")
    r.join(peer)  # peers are the round's members
    return r, author, peer


def test_sharing_posts_the_answer_with_rating_buttons() -> None:
    r, author, _ = shared_round()
    result = r.share(author)
    assert sent(result) == [("group", "round_shared"), ("actor", "round_share_done")]
    post = result.outgoing[0].outgoing
    assert [c.id for c in post.choices] == [f"round.r1.rate.1.{p}" for p in RATING_POINTS]
    plain = text(post)
    assert "Ann Author" in plain and "billing migration" in plain
    assert "/round comment 1" in plain
    assert result.state["members"][author.user_key]["answer_no"] == 1


def test_sharing_twice_or_without_an_answer_is_refused() -> None:
    r, author, peer = shared_round()
    r.share(author)
    assert sent(r.share(author)) == [("actor", "round_already_shared")]
    r.join(peer)
    assert sent(r.share(peer)) == [("actor", "round_share_nothing")]
    assert sent(r.share(member(8))) == [("actor", "round_share_nothing")]
    assert len(r.state["shared"]) == 1


def test_a_long_shared_answer_is_cut_in_the_group_post() -> None:
    r = Round()
    r.open()
    r.join(member(1))
    r.submit(member(1), answer="word " * 1000)
    post = only(r.share(member(1)), "group", "round_shared")
    assert post.params["cut"] is True
    assert len(text(post, MARKDOWN)) <= 2000


def test_rating_is_counted_once_and_the_author_sees_totals_without_names() -> None:
    r, author, peer = shared_round()
    r.share(author)
    result = r.rate(peer, 1, "specific")
    assert sent(result) == [("actor", "round_rating_counted"),
                            (f"member:{author.user_key}", "round_peer_feedback")]
    update = result.outgoing[1].outgoing
    assert {"id": "specific", "count": 1} in update.params["points"]
    rendered = json.dumps(update.to_dict()) + text(update)
    assert "Pete" not in rendered and peer.user_key not in rendered
    again = r.rate(peer, 1, "specific")
    assert sent(again) == [("actor", "round_already_counted")]
    assert again.state == result.state
    assert "counted" in text(again.outgoing[0].outgoing)
    other = r.rate(peer, 1, "concise")
    assert sent(other)[0] == ("actor", "round_rating_counted")


def test_only_members_and_the_mentor_rate_and_comment() -> None:
    r, author, _ = shared_round()
    r.share(author)
    outsider = member(9, "Otto Outsider")
    before = r.state
    assert sent(r.rate(outsider, 1, "positive")) == [("actor", "round_peers_only")]
    assert sent(r.comment(outsider, 1, "nice")) == [("actor", "round_peers_only")]
    assert r.state == before
    assert sent(r.rate(MENTOR, 1, "positive"))[0] == ("actor", "round_rating_counted")


def test_nobody_rates_their_own_answer() -> None:
    r, author, _ = shared_round()
    r.share(author)
    before = r.state
    assert sent(r.rate(author, 1, "positive")) == [("actor", "round_no_self_rating")]
    assert sent(r.comment(author, 1, "I'm great")) == [("actor", "round_no_self_rating")]
    assert r.state == before


@pytest.mark.parametrize("number", [0, 2, -1, 10**6])
def test_rating_an_unknown_answer_number(number: int) -> None:
    r, author, peer = shared_round()
    r.share(author)
    result = r.rate(peer, number, "positive")
    assert sent(result) == [("actor", "round_no_such_answer")]
    assert "1 to 1" in text(result.outgoing[0].outgoing)


def test_rating_an_unknown_point() -> None:
    r, author, peer = shared_round()
    r.share(author)
    assert sent(r.rate(peer, 1, "charming")) == [("actor", "round_bad_point")]


def test_comments_are_capped_passed_on_anonymously_and_replaced() -> None:
    r, author, peer = shared_round()
    r.share(author)
    result = r.comment(peer, 1, "  Clear   reason,\nstrong finish. " + "x" * 400)
    assert sent(result) == [("actor", "round_comment_counted"),
                            (f"member:{author.user_key}", "round_peer_feedback")]
    assert result.outgoing[0].outgoing.params["cut"] is True
    stored = result.state["shared"][0]["comments"][peer.user_key]
    assert len(stored) == MAX_COMMENT_CHARS and stored.startswith("Clear reason, strong finish.")
    second = r.comment(peer, 1, "Actually: great numbers.")
    assert second.outgoing[0].outgoing.params["replaced"] is True
    update = second.outgoing[1].outgoing
    assert update.params["comments"] == ["Actually: great numbers."]
    assert "Pete" not in text(update)


def test_empty_comments_and_missing_numbers_get_help() -> None:
    r, author, peer = shared_round()
    r.share(author)
    assert sent(r.comment(peer, 1, "   \n ")) == [("actor", "round_comment_empty")]
    assert sent(r.comment(peer, 0, "nice")) == [("actor", "round_comment_usage")]
    assert sent(r.comment(peer, 4, "nice")) == [("actor", "round_no_such_answer")]
    assert r.state["shared"][0]["comments"] == {}


def test_peer_feedback_continues_after_the_round_closes() -> None:
    r, author, peer = shared_round()
    r.share(author)
    r.end()
    assert sent(r.rate(peer, 1, "positive"))[0] == ("actor", "round_rating_counted")


# -- deadline, end, status ---------------------------------------------------------------


def test_an_early_deadline_changes_nothing() -> None:
    r, _ = answered_round()
    before = r.state
    result = r.deadline(before["closes_at"] - 1)
    assert result.outgoing == () and result.state == before
    assert result.deadline == before["closes_at"] and result.is_open


def test_a_due_deadline_closes_with_summary_and_report() -> None:
    r, _ = answered_round()
    closes = r.state["closes_at"]
    result = r.deadline(closes + 30)
    assert sent(result) == [("group", "round_summary"), ("mentor", "round_report")]
    assert not result.is_open and result.deadline is None
    assert result.state["closed_at"] == closes and result.state["closed_by"] == "deadline"
    report_out = result.outgoing[1].outgoing
    assert report_out.params["attachments"] == ["round_csv", "round_md", "round_chart"]
    assert report_out.attachments == ("round_csv", "round_md", "round_chart")
    assert r.deadline(closes + 60).outgoing == ()  # fired twice: nothing more


def test_a_missed_deadline_closes_before_the_next_event() -> None:
    r, _ = answered_round()
    late_at = r.state["closes_at"] + 3600
    r.clock = late_at
    result = r.join(member(9))
    assert sent(result) == [("group", "round_summary"), ("mentor", "round_report"),
                            ("actor", "round_closed")]


def test_only_privileged_people_or_the_mentor_end_a_round() -> None:
    r, people = answered_round()
    result = r.end(people[0], privileged=False)
    assert sent(result) == [("actor", "round_end_not_allowed")] and result.is_open
    result = r.end(MENTOR, privileged=False)  # the mentor who started it may
    assert sent(result) == [("group", "round_summary"), ("mentor", "round_report"),
                            ("actor", "round_ended")]
    assert result.state["closed_by"] == "end"
    assert sent(r.end(ADMIN)) == [("actor", "round_already_closed")]


def test_another_admin_can_end_it_and_the_report_still_goes_to_the_mentor() -> None:
    r, _ = answered_round()
    result = r.end(ADMIN, privileged=True)
    assert ("mentor", "round_report") in sent(result)
    assert destination(result.state, "mentor") == MENTOR.reach


def test_status_counts_without_naming_anyone() -> None:
    r, people = answered_round(2)
    r.join(member(5))
    r.share(people[0])
    result = r.status(member(5))
    out = only(result, "actor", "round_status_open")
    assert (out.params["joined"], out.params["answered"], out.params["shared"]) == (3, 2, 1)
    plain = text(out)
    assert "Member 1" not in plain and "Member 2" not in plain
    r.end()
    assert sent(r.status()) == [("actor", "round_status_closed")]


# -- addresses -----------------------------------------------------------------------------


def test_destinations_resolve_group_mentor_and_members() -> None:
    r, people = answered_round(1)
    assert destination(r.state, "group") == GROUP
    assert destination(r.state, "mentor") == MENTOR.reach
    assert destination(r.state, f"member:{people[0].user_key}") == people[0].reach
    assert destination(r.state, "member:nobody") is None
    assert destination(r.state, "actor") is None
    assert destination(None, "group") is None


def test_a_private_address_learnt_later_is_kept() -> None:
    r = Round()
    r.open(by=Person(MENTOR.user_key, MENTOR.name, {}))
    assert destination(r.state, "mentor") is None
    r.status(MENTOR)  # now the platform knows a private chat
    assert destination(r.state, "mentor") == MENTOR.reach


def test_a_member_keeps_the_private_place_they_joined_from() -> None:
    """Discord: a member answers in a private thread; their later /round comment in the
    channel comes with their DMs' address, yet peer feedback stays in the thread."""
    r = Round()
    r.open()
    thread = {"platform": "discord", "chat_id": "55", "user_id": "7", "thread_id": ""}
    dms = {"platform": "discord", "chat_id": "66", "user_id": "7", "thread_id": ""}
    who = Person("discord:7", "Kit", thread)
    r.join(who)
    r.submit(who)
    r.share(who)
    r.status(Person(who.user_key, who.name, dms))
    assert destination(r.state, f"member:{who.user_key}") == thread
    unknown = Person("discord:8", "Lu", {})
    r.join(unknown)
    r.status(Person(unknown.user_key, unknown.name, dms))  # an unknown one is filled in
    assert destination(r.state, f"member:{unknown.user_key}") == dms


# -- independence, purity, restarts ------------------------------------------------------


def test_rounds_in_different_groups_are_independent() -> None:
    a, b = Round("ra"), Round("rb")
    a.open("1h quit")
    b.open("3d each", lang="zh")
    both = member(1)
    assert a.join(both).admitted["round_id"] == "ra"
    assert b.join(both).admitted["round_id"] == "rb"
    a.submit(both, score=90)
    b_before = b.state
    a.end()
    assert b.state == b_before and b.last.is_open
    rows = report.mentor_report(b.state)["members"]
    assert [m["status"] for m in rows] == ["no_answer"]


def test_step_never_changes_the_state_it_was_given() -> None:
    r, people = answered_round()
    frozen = json.loads(json.dumps(r.state))
    given_state = r.state
    step_round(given_state, ShareAnswer(r.tick(), people[0].user_key))
    step_round(given_state, EndRound(r.tick(), MENTOR, True))
    assert given_state == frozen


def story() -> list[RoundEvent]:
    a, b, c, d = (member(i, n) for i, n in enumerate(["Ann", "Ben", "Cat", "Dan"], 1))
    at = iter(range(int(T0), int(T0) + 10**6, 60))
    return [
        RoundStatus(next(at), a),
        OpenRound(next(at), "r1", dict(GROUP), a, False, "1h", "en"),
        OpenRound(next(at), "r1", dict(GROUP), MENTOR, True, "1h each", "en"),
        JoinRound(next(at), a), JoinRound(next(at), b), JoinRound(next(at), a),
        JoinRound(next(at), c), JoinRound(next(at), d),
        SubmitAttempt(next(at), a.user_key, attempt(35, red_flags=("blame",))),
        SubmitAttempt(next(at), b.user_key, attempt(80, situation="employed")),
        ShareAnswer(next(at), b.user_key), ShareAnswer(next(at), b.user_key),
        RateAnswer(next(at), a, 1, "positive"), RateAnswer(next(at), a, 1, "positive"),
        RateAnswer(next(at), b, 1, "concise"), CommentAnswer(next(at), c, 1, "Strong close."),
        SubmitAttempt(next(at), c.user_key, attempt(55)),
        RoundDeadline(T0 + 60), EndRound(next(at), d, False), RoundStatus(next(at), d),
        RoundDeadline(T0 + 10**6),
        SubmitAttempt(T0 + 10**6 + 1, d.user_key, attempt(70)),
        JoinRound(T0 + 10**6 + 2, member(9)),
        CommentAnswer(T0 + 10**6 + 3, d, 1, "Late but kind."),
    ]


def run(events: list[RoundEvent], *, restart: bool) -> list[tuple[Any, ...]]:
    state: dict[str, Any] | None = None
    trace = []
    for event in events:
        if restart:  # the process dies; the state comes back from the database's JSON
            state = json.loads(json.dumps(state))
        result = step_round(state, event)
        trace.append((json.dumps(result.state, sort_keys=True),
                       [(a.to, a.outgoing.to_dict()) for a in result.outgoing],
                       result.deadline, result.admitted, result.is_open))
        state = result.state
    return trace


def test_a_restart_at_every_step_changes_nothing() -> None:
    events = story()
    steady = run(events, restart=False)
    assert steady == run(events, restart=True)
    templates = [t for _, out, *_ in steady for _, o in out for t in [o["template"]]]
    assert templates.count("round_summary") == 1 and templates.count("round_report") == 1
    assert "round_late_answer" in templates


# -- anything at all ---------------------------------------------------------------------

PEOPLE = [member(1, "Ann <b>"), member(2, "@everyone"), member(3, ""), MENTOR,
          Person("discord:5", "Zoë *z*", {})]
people = st.sampled_from(PEOPLE)
words = st.one_of(st.text(max_size=60),
                  st.sampled_from(["", "2h", "1d each", "5m", "3天 裁员 不追问", "x=y", "8d"]))
attempts = st.one_of(
    st.builds(attempt, score=st.integers(0, 100),
              red_flags=st.sampled_from([(), ("blame",), ("trash_talk", "evasive")]),
              answer=st.text(max_size=80)),
    st.dictionaries(st.sampled_from(["score", "verdict", "red_flags", "answer", "findings",
                                     "followup_answers", "situation", "top"]),
                    st.one_of(st.none(), st.integers(), st.text(max_size=10),
                              st.lists(st.text(max_size=10), max_size=3)), max_size=8),
)
numbers = st.integers(-2, 4)
points = st.sampled_from([*RATING_POINTS, "bogus", ""])
round_events = st.lists(st.one_of(
    st.builds(OpenRound, at=st.just(0), round_id=st.just("r1"), group=st.just(GROUP),
              by=people, privileged=st.booleans(), args=words,
              lang=st.sampled_from(["en", "zh", "xx"])),
    st.builds(JoinRound, at=st.just(0), who=people),
    st.builds(SubmitAttempt, at=st.just(0), user_key=people.map(lambda p: p.user_key),
              attempt=attempts),
    st.builds(ShareAnswer, at=st.just(0), user_key=people.map(lambda p: p.user_key)),
    st.builds(RateAnswer, at=st.just(0), rater=people, answer_no=numbers, point=points),
    st.builds(CommentAnswer, at=st.just(0), rater=people, answer_no=numbers, text=words),
    st.builds(EndRound, at=st.just(0), by=people, privileged=st.booleans()),
    st.builds(RoundDeadline, at=st.just(0)),
    st.builds(RoundStatus, at=st.just(0), who=people),
), max_size=30)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(round_events, st.lists(st.floats(0, 20_000), min_size=30, max_size=30))
def test_any_event_sequence_is_handled(events: list[RoundEvent], gaps: list[float]) -> None:
    state: dict[str, Any] | None = None
    clock = T0
    renderer = default_renderer()
    for event, gap in zip(events, gaps, strict=False):
        clock += gap
        event = type(event)(**{**{f: getattr(event, f) for f in event.__slots__}, "at": clock})
        result = step_round(state, event)
        assert json.loads(json.dumps(result.state)) == result.state
        assert (result.deadline is not None) == result.is_open
        for addressed in result.outgoing:
            json.dumps(addressed.outgoing.to_dict())
            for fmt in (PLAIN, HTML, MARKDOWN):
                rendered = renderer.render(addressed.outgoing, fmt).text
                assert rendered.strip()
                if fmt == HTML and len(rendered) < 4000:
                    assert telegram_html_problems(rendered) == [], rendered
            for choice in addressed.outgoing.choices:
                assert 1 <= len(choice.id.encode()) <= 64
        summary = json.dumps(report.public_summary(result.state))
        assert not any(p.user_key in summary for p in PEOPLE)
        state = result.state
