"""What a round's end produces: a public summary that names no one, a full report for
the mentor, its CSV and Markdown exports, the chart's series, and every round text."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import HTML, MARKDOWN, PLAIN, default_renderer
from leavewell.dialogs.rounds import report
from leavewell.dialogs.rounds.events import (
    CommentAnswer,
    EndRound,
    JoinRound,
    OpenRound,
    Person,
    RateAnswer,
    ShareAnswer,
    SubmitAttempt,
)
from leavewell.dialogs.rounds.machine import step_round
from leavewell.dialogs.rounds.state import RATING_POINTS
from leavewell.dialogs.script import default_script
from tests.support.formats import discord_problems, telegram_html_problems

FORMATS = (PLAIN, HTML, MARKDOWN)
T0 = 1_700_000_000.0
GROUP = {"platform": "discord", "chat_id": "55", "user_id": ""}
MENTOR = Person("discord:1", "Mona Mentor", {"platform": "discord", "chat_id": "dm1"})
HOSTILE = "<b>x</b> **bold** @everyone https://evil.ex =cmd|'/C calc'!A0"


def who(n: int, name: str) -> Person:
    return Person(f"discord:{700 + n}", name, {"platform": "discord", "chat_id": f"dm{n}"})


# Distinctive names, keys, words and scores, so a leak into the summary is findable.
MEMBERS: list[tuple[Person, dict[str, Any] | None]] = [
    (who(1, "Quentin Quartz"), {
        "score": 17, "verdict": "red_flag", "red_flags": ["trash_talk", "blame"],
        "improvements": ["no_growth", "not_specific"], "strengths": [], "top": "trash_talk",
        "answer": "Zebrafinch management was hopeless and my lead sabotaged me.",
        "followup_answers": [{"id": "manager_describe", "text": "Xylophone reasons, honestly."}],
    }),
    (who(2, "Rosalind Rhubarb"), {
        "score": 58, "verdict": "acceptable", "red_flags": ["money_headline"],
        "improvements": ["not_specific", "no_results"], "strengths": ["growth"],
        "top": "money_headline",
        "answer": "Mostly the pay, but also I wanted bigger Quokka projects.",
        "followup_answers": [],
    }),
    (who(3, "=HYPERLINK(\"http://x\")"), {
        "score": 94, "verdict": "strong", "red_flags": [], "improvements": ["not_specific"],
        "strengths": ["growth", "results", "role_link"], "top": "not_specific",
        "answer": "+I led the Narwhal migration and cut costs by 30%.\nSecond line.",
        "followup_answers": [{"id": "why_now", "text": "-The project shipped."}],
    }),
    (who(4, HOSTILE), None),  # joined, never answered
]
SECRETS = ("Quentin", "Quartz", "Rosalind", "Rhubarb", "HYPERLINK", "Zebrafinch",
           "Xylophone", "Quokka", "Narwhal", "discord:70", "Mona", "evil", "calc")
SCORES = ("17", "58", "94")


def attempt(data: dict[str, Any]) -> dict[str, Any]:
    findings = [{"id": f, "kind": kind, "evidence": [f"evidence-{f}"]}
                for kind in ("red_flags", "improvements", "strengths") for f in data[kind]]
    return {"at": T0, "round_id": "r9", "situation": "let_go", "findings": findings, **data}


def played(lang: str = "en", answered: int = 3, share: bool = True) -> dict[str, Any]:
    state: dict[str, Any] | None = None
    clock = iter(range(int(T0), int(T0) + 10_000, 10))

    def feed(event: Any) -> None:
        nonlocal state
        state = step_round(state, event).state

    feed(OpenRound(next(clock), "r9", GROUP, MENTOR, True, "1d let_go", lang))
    for n, (person, data) in enumerate(MEMBERS):
        feed(JoinRound(next(clock), person))
        if data is not None and n < answered:
            feed(SubmitAttempt(next(clock), person.user_key, attempt(data)))
    if share and answered >= 2:
        author, rater = MEMBERS[1][0], MEMBERS[0][0]
        feed(ShareAnswer(next(clock), author.user_key))
        feed(RateAnswer(next(clock), rater, 1, "specific"))
        feed(CommentAnswer(next(clock), rater, 1, "Vivid Wombat comment " + HOSTILE))
    feed(EndRound(next(clock), MENTOR, True))
    assert state is not None
    return state


def render(template: str, lang: str, params: dict[str, Any], fmt: str) -> str:
    return default_renderer().render(Outgoing(template, lang, params), fmt).text


# -- the group's summary -----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_public_summary_names_no_one(lang: str) -> None:
    state = played(lang)
    params = report.public_summary(state)
    flat = json.dumps(params, ensure_ascii=False)
    for secret in (*SECRETS, "Wombat"):
        assert secret not in flat
    for fmt in FORMATS:
        text = render("round_summary", lang, params, fmt)
        for secret in (*SECRETS, "Wombat"):
            assert secret not in text, (fmt, secret)
        for score in SCORES:
            assert score not in text, (fmt, score)
        if fmt == HTML:
            assert telegram_html_problems(text) == []
        if fmt == MARKDOWN:
            assert discord_problems(text) == []


def test_public_summary_counts_and_ranks_findings() -> None:
    params = report.public_summary(played())
    assert (params["joined"], params["answered"], params["shared"]) == (4, 3, 1)
    assert params["stats"] is True
    assert params["average"] == round((17 + 58 + 94) / 3)
    assert params["improvements"][0] == {"id": "not_specific", "count": 3}
    # one answer's red flag could point at its author in a small group: not named
    assert params["red_flags"] == []
    # the tip too comes only from what two or more answers had in common
    assert params["tip"] in {None, "not_specific"}
    assert params["tip"] not in {"trash_talk", "money_headline"}
    assert [v["id"] for v in params["verdicts"]] == ["strong", "acceptable", "red_flag"]
    text = render("round_summary", "en", params, PLAIN)
    assert "3 of 4 members answered" in text and "Average score: 56/100" in text
    assert "Negative about the old job" not in text and "trash" not in text.lower()


def test_with_too_few_answers_the_group_sees_counts_only() -> None:
    params = report.public_summary(played(answered=2, share=False))
    assert params["stats"] is False and params["average"] is None
    assert params["red_flags"] == [] and params["tip"] is None
    text = render("round_summary", "en", params, PLAIN)
    assert "2 of 4 members answered" in text and "/100" not in text


def test_a_round_nobody_joined_still_sums_up() -> None:
    state = step_round(None, OpenRound(T0, "r0", GROUP, MENTOR, True, "", "zh")).state
    result = step_round(state, EndRound(T0 + 60, MENTOR, True))
    for addressed in result.outgoing:
        for fmt in FORMATS:
            assert default_renderer().render(addressed.outgoing, fmt).text.strip()


# -- the mentor's report -----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mentor_report_has_every_member(lang: str) -> None:
    params = report.mentor_report(played(lang))
    rows = params["members"]
    assert [m["name"] for m in rows] == [p.name for p, _ in MEMBERS]
    assert [m["status"] for m in rows] == ["answered", "answered", "answered", "no_answer"]
    assert rows[0]["red_flags"][0] == {"id": "trash_talk", "evidence": ["evidence-trash_talk"]}
    assert rows[1]["shared"] and rows[1]["answer_no"] == 1
    assert {"id": "specific", "count": 1} in rows[1]["peer"]
    json.dumps(params)
    for fmt in FORMATS:
        text = render("round_report", lang, params, fmt)
        for needle in ("Quentin Quartz", "Rosalind Rhubarb", "17/100", "94/100",
                       "Zebrafinch", "Xylophone"):
            assert needle in text.replace("\\", ""), (fmt, needle)
        if fmt == HTML:
            assert telegram_html_problems(text) == []
        if fmt == MARKDOWN:
            assert discord_problems(text) == []


def test_the_report_goes_to_the_mentor_with_its_files() -> None:
    state = played()
    closing = step_round(state, EndRound(T0 + 10**5, MENTOR, True))
    assert closing.outgoing[0].outgoing.template == "round_already_closed"
    params = report.mentor_report(state)
    assert params["attachments"] == ["round_csv", "round_md", "round_chart"]
    assert params["chart"] == report.chart_series(state)


def test_csv_has_one_row_per_member_and_defuses_formulas() -> None:
    params = report.mentor_report(played())
    text = report.export_csv(params)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["user_key"] for r in rows] == [p.user_key for p, _ in MEMBERS]
    assert rows[0]["score"] == "17" and rows[0]["red_flags"] == "trash_talk;blame"
    assert rows[3]["status"] == "no_answer" and rows[3]["score"] == ""
    assert rows[1]["shared"] == "yes" and rows[1]["peer_specific"] == "1"
    assert rows[1]["comments"] == "1"
    assert {f"peer_{p}" for p in RATING_POINTS} <= set(rows[0])
    # cells a spreadsheet would run as formulas start with a quote
    assert rows[2]["name"].startswith("'=HYPERLINK")
    assert rows[2]["answer"].startswith("'+I led") and "Second line." in rows[2]["answer"]
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@"))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markdown_report_is_complete_and_inert(lang: str) -> None:
    params = report.mentor_report(played(lang))
    text = report.export_markdown(params, lang)
    assert text.startswith("# ")
    assert text.count("\n## ") == len(MEMBERS)
    for needle in ("Quentin Quartz", "Rosalind Rhubarb", "Zebrafinch", "Narwhal",
                   "Second line", "Xylophone"):
        assert needle in text
    # the members' own words cannot become markup, pings or links
    assert "<b>x</b>" not in text and "**bold**" not in text
    assert "@everyone" not in text and "https://" not in text
    assert "> +I led the Narwhal" in text and "> Second line." in text  # quoted by line


def test_chart_series_labels_members_by_number_only() -> None:
    state = played()
    series = report.chart_series(state)
    assert series["labels"] == ["1", "2", "3", "4"]
    assert series["scores"] == [17, 58, 94, None]
    assert series["red_flags"] == [2, 1, 0, 0]
    assert series["members"][3] == {"no": 4, "score": None, "red_flags": 0, "late": False}
    assert not any(secret in json.dumps(series) for secret in SECRETS)


def test_a_long_report_keeps_answers_short_in_chat_and_whole_in_the_files() -> None:
    state = played()
    long_answer = "Sentence about the Narwhal project. " * 300
    state["members"]["discord:701"]["attempt"]["answer"] = long_answer
    params = report.mentor_report(state)
    chat = render("round_report", "en", params, PLAIN)
    assert long_answer.strip() not in chat and len(chat) < 8000
    assert long_answer.strip() in report.export_csv(params)


def test_a_big_round_gets_one_line_per_member_in_chat() -> None:
    state = played()
    extra = {f"discord:{800 + n}": {"name": f"Extra {n}", "reach": {}, "joined_at": T0,
                                    "attempt": None, "late": False, "answer_no": None}
             for n in range(report.COMPACT_OVER)}
    state["members"].update(extra)
    params = report.mentor_report(state)
    assert params["compact"] is True
    chat = render("round_report", "en", params, PLAIN)
    assert "1. Quentin Quartz: 17/100, Contains a red flag · Negative about the old job" in chat
    assert "Zebrafinch" not in chat and "Extra 11: joined, no answer" in chat
    full = report.export_markdown(params, "en")
    assert "Zebrafinch" in full and full.count("\n## ") == len(params["members"])


# -- every round text, in every language and format --------------------------------------

SAMPLE_PARAMS: dict[str, Any] = {
    "span": [[1, "d"], [2, "h"], [5, "m"]], "closes": "2024-01-01 10:00 UTC",
    "closed": "2024-01-01 10:00 UTC", "mentor": HOSTILE, "name": HOSTILE,
    "situation": "laid_off", "followups": True, "given": HOSTILE, "min_minutes": 10,
    "max_days": 7, "situations": ["employed", "quit"], "limit": 100, "no": 2, "count": 3,
    "score": 40, "answer": HOSTILE, "cut": True, "point": "owns_story", "replaced": True,
    "points": [{"id": p, "count": n} for n, p in enumerate(RATING_POINTS)],
    "comments": [HOSTILE, "fine"], "raters": 4, "joined": 5, "answered": 3, "shared": 1,
}


def round_keys() -> list[str]:
    return sorted(k for k in default_script().catalogs["en"].messages if k.startswith("round_"))


def test_both_languages_define_the_same_round_texts() -> None:
    catalogs = default_script().catalogs
    for section in ("messages", "labels"):
        en = {k for k in getattr(catalogs["en"], section) if k.startswith("round_")}
        zh = {k for k in getattr(catalogs["zh"], section) if k.startswith("round_")}
        assert en == zh and en


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_round_message_renders_and_keeps_user_words_inert(lang: str, fmt: str) -> None:
    for key in round_keys():
        if key in ("round_summary", "round_report"):
            continue
        text = render(key, lang, SAMPLE_PARAMS, fmt)
        assert text.strip(), key
        if fmt == HTML:
            assert telegram_html_problems(text) == [], (key, text)
            assert "<b>x</b>" not in text
        if fmt == MARKDOWN:
            assert discord_problems(text) == [], (key, text)


@pytest.mark.parametrize(("seconds", "en", "zh"), [
    (0, "0 minutes", "0分钟"),
    (59, "1 minute", "1分钟"),
    (3600, "1 hour", "1小时"),
    (90_061, "1 day 1 hour 2 minutes", "1天1小时2分钟"),
    (2 * 86400, "2 days", "2天"),
])
def test_durations_read_naturally(seconds: float, en: str, zh: str) -> None:
    params = {"span": report.span(seconds)}
    assert render("round_span", "en", params, PLAIN) == en
    assert render("round_span", "zh", params, PLAIN) == zh
