"""The /round slash command's options, composed into the text the round's parser reads."""

from __future__ import annotations

import pytest

from leavewell.bot.discord.commands import ROUND_EACH, round_args
from leavewell.dialogs.rounds.commands import (
    StartOptions,
    parse_comment,
    parse_round_command,
    parse_start,
)


def start_options(**options: object) -> object:
    sub, rest = parse_round_command(round_args("start", **options))  # type: ignore[arg-type]
    assert sub == "start"
    return parse_start(rest)


@pytest.mark.parametrize(("options", "expected"), [
    ({}, StartOptions()),
    ({"window": "30m", "situation": "laid_off", "followups": False},
     StartOptions("laid_off", 30 * 60, False)),
    ({"window": "2 hours", "situation": ROUND_EACH}, StartOptions(None, 2 * 3600, True)),
    ({"window": "1h, 30m", "followups": True}, StartOptions(None, 90 * 60, True)),
    ({"window": "3天"}, StartOptions(None, 3 * 86400, True)),
    ({"situation": "quit", "skeptical": True},
     StartOptions("quit", 24 * 3600, True, "skeptical")),
    ({"skeptical": False}, StartOptions()),
])
def test_start_options_reach_the_round_as_typed(options: dict[str, object],
                                                expected: StartOptions) -> None:
    assert start_options(**options) == expected


def test_a_window_that_is_no_duration_is_refused_by_the_round() -> None:
    error = start_options(window="laid_off")
    assert getattr(error, "key", None) == "round_bad_window"
    error = start_options(window="x=5")
    assert getattr(error, "key", None) == "round_bad_window"


def test_comment_end_and_status() -> None:
    sub, rest = parse_round_command(round_args("comment", answer=2, text=" Clear and short "))
    assert sub == "comment" and parse_comment(rest) == (2, "Clear and short")
    sub, rest = parse_round_command(round_args("comment", text="no number"))
    assert sub == "comment" and parse_comment(rest)[0] == 0  # the round explains the usage
    assert parse_round_command(round_args("end")) == ("end", "")
    assert parse_round_command(round_args("status")) == ("status", "")
    assert parse_round_command(round_args("nonsense")) == ("status", "")
