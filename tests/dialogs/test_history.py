"""/history: attempts per situation, the trend since the first try, and the chart."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from leavewell.dialogs.analyzer.messages import finding_field
from leavewell.dialogs.engine import Interviewer
from leavewell.dialogs.events import Command
from leavewell.dialogs.feedback import (
    HISTORY_ROWS_PER_SITUATION,
    history_params,
    history_wants_chart,
)
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import HTML, MARKDOWN, PLAIN, default_renderer
from tests.support.formats import discord_problems, telegram_html_problems

DAY = 86_400.0
T0 = 1_700_000_000.0  # 2023-11-14 UTC


def attempt(day: float, situation: str, score: int, red_flags: list[str] | None = None,
            improvements: list[str] | None = None, top: str | None = None) -> dict[str, Any]:
    red_flags, improvements = red_flags or [], improvements or []
    return {"at": T0 + day * DAY, "situation": situation, "score": score,
            "verdict": "acceptable", "red_flags": red_flags, "improvements": improvements,
            "top": top if top is not None else next(iter(red_flags + improvements), None)}


LAID_OFF_THEN_BETTER = [
    attempt(0, "laid_off", 52, ["blame"], ["no_results", "hedging"]),
    attempt(1, "let_go", 40, ["trash_talk"], ["no_lesson"]),
    attempt(2, "laid_off", 61, [], ["no_results", "hedging"]),
    attempt(3, "laid_off", 70, [], ["no_results", "too_long"]),
]


def by_situation(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["situation"]: g for g in params["situations"]}


def test_attempts_are_grouped_per_situation_latest_practised_first() -> None:
    params = history_params(LAID_OFF_THEN_BETTER)
    assert [g["situation"] for g in params["situations"]] == ["laid_off", "let_go"]
    assert params["total"] == 4
    laid_off = by_situation(params)["laid_off"]
    assert laid_off["count"] == 3
    assert [a["score"] for a in laid_off["attempts"]] == [52, 61, 70]  # oldest first
    assert laid_off["attempts"][0] == {"date": "2023-11-14", "score": 52, "top": "blame"}


def test_trend_since_the_first_try_with_what_is_gone_and_what_stays() -> None:
    laid_off = by_situation(history_params(LAID_OFF_THEN_BETTER))["laid_off"]
    assert (laid_off["first_score"], laid_off["last_score"], laid_off["change"]) == (52, 70, 18)
    # red flags before improvements, each in the analyzer's order; new issues are neither
    assert laid_off["gone"] == ["blame", "hedging"]
    assert laid_off["still"] == ["no_results"]


def test_a_single_attempt_has_no_trend() -> None:
    let_go = by_situation(history_params(LAID_OFF_THEN_BETTER))["let_go"]
    assert let_go["count"] == 1
    assert let_go["change"] is None and let_go["gone"] == [] and let_go["still"] == []


def test_only_the_latest_attempts_are_listed_but_the_trend_uses_the_first() -> None:
    attempts = [attempt(n, "employed", 30 + n) for n in range(12)]
    group = history_params(attempts)["situations"][0]
    assert group["count"] == 12
    assert len(group["attempts"]) == HISTORY_ROWS_PER_SITUATION
    assert group["attempts"][-1]["score"] == 41
    assert group["change"] == 11
    assert len(history_params(attempts)["chart"]["series"][0]["scores"]) == 12


def test_the_chart_comes_from_the_second_attempt() -> None:
    assert history_params([])["chart"] is None
    one = history_params(LAID_OFF_THEN_BETTER[:1])
    assert one["chart"] is None and not history_wants_chart(one)
    two = history_params(LAID_OFF_THEN_BETTER[:2])  # two situations, one try each
    assert history_wants_chart(two)
    assert len(two["chart"]["series"]) == 2


def test_chart_series_and_letters_match_the_listed_situations() -> None:
    params = history_params(LAID_OFF_THEN_BETTER)
    assert params["chart"] == {"series": [
        {"situation": "laid_off", "mark": "A", "scores": [52, 61, 70], "red_flags": [1, 0, 0]},
        {"situation": "let_go", "mark": "B", "scores": [40], "red_flags": [1]},
    ]}
    assert [g["mark"] for g in params["situations"]] == ["A", "B"]
    single = history_params([a for a in LAID_OFF_THEN_BETTER if a["situation"] == "laid_off"])
    assert single["chart"]["series"][0]["mark"] is None  # one line needs no legend
    assert single["situations"][0]["mark"] is None


def test_history_params_are_pure_and_json_able() -> None:
    attempts = copy.deepcopy(LAID_OFF_THEN_BETTER)
    params = history_params(attempts)
    assert attempts == LAID_OFF_THEN_BETTER
    assert json.loads(json.dumps(params)) == params
    assert history_params(attempts) == params


def test_fifty_attempts_in_every_situation() -> None:
    situations = ["employed", "laid_off", "let_go", "between_jobs", "quit", "contract_ended",
                  "relocation_family", "career_change", "unspecified"]
    attempts = [attempt(n, situations[n % 9], n * 2, ["blame"] if n % 3 else [])
                for n in range(50)]
    params = history_params(attempts)
    assert len(params["situations"]) == 9 and len(params["chart"]["series"]) == 9
    for fmt in (PLAIN, HTML, MARKDOWN):
        for lang in ("en", "zh"):
            text = default_renderer().render(Outgoing("history", lang, params), fmt).text
            assert len(text) < 4096


# -- rendering -------------------------------------------------------------------------------


def name(finding_id: str, lang: str) -> str:
    return finding_field(finding_id, lang, "name")


TREND = {
    "en": lambda: [
        "+18 since your first try (52 → 70)",
        f"gone: {name('blame', 'en')}, {name('hedging', 'en')}",
        f"still there: {name('no_results', 'en')}",
        "3 tries", "1 try",
    ],
    "zh": lambda: [
        "比第一次 +18 分（52 → 70）",
        f"已改掉：{name('blame', 'zh')}、{name('hedging', 'zh')}。",
        f"还需改进：{name('no_results', 'zh')}。",
        "共 3 次", "共 1 次",
    ],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("fmt", [PLAIN, HTML, MARKDOWN])
def test_trend_is_rendered_in_every_language_and_format(lang: str, fmt: str) -> None:
    params = history_params(LAID_OFF_THEN_BETTER)
    text = default_renderer().render(Outgoing("history", lang, params), fmt).text
    plain = text.replace("**", "").replace("<b>", "").replace("</b>", "")
    for expected in TREND[lang]():
        assert expected in plain, (expected, text)
    assert text.count("/100") == 4
    assert "[A] " in plain and "[B] " in plain  # the chart's letters
    if fmt == HTML:
        assert telegram_html_problems(text) == []
    if fmt == MARKDOWN:
        assert discord_problems(text) == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_attempts_yet(lang: str) -> None:
    text = default_renderer().render(Outgoing("history", lang, history_params([])), PLAIN).text
    assert "/practice" in text and "/100" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_one_attempt_has_neither_trend_nor_chart_note(lang: str) -> None:
    params = history_params(LAID_OFF_THEN_BETTER[:1])
    text = default_renderer().render(Outgoing("history", lang, params), PLAIN).text
    assert "52/100" in text
    assert "→" not in text and "[A]" not in text
    assert ("Chart" in text) is False and ("图表" in text) is False


# -- the engine ------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempts", "attached"), [
    ([], ()),
    (LAID_OFF_THEN_BETTER[:1], ()),
    (LAID_OFF_THEN_BETTER[:2], ("progress_chart",)),
])
def test_history_command_attaches_the_chart_from_two_attempts(
        attempts: list[dict[str, Any]], attached: tuple[str, ...]) -> None:
    profile = {"lang": "en", "setup_done": True, "attempts": attempts}
    result = Interviewer().step(profile, {}, Command(at=T0 + 10 * DAY, name="history"))
    (history,) = [o for o in result.outgoing if o.template == "history"]
    assert history.attachments == attached
    assert history.params == history_params(attempts)
