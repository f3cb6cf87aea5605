"""Regressions found by answers written after the rules (not tuned on): one per gap."""

from __future__ import annotations

import pytest

from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.script import default_script


def run(answer: str, lang: str = "en", situation: str = "unspecified"):
    return analyze(answer, lang=lang, rubric=default_script().situation(situation).rubric)


@pytest.mark.parametrize(
    ("answer", "lang", "flag"),
    [
        ("My mental health was falling apart and I was seeing a therapist.", "en",
         "oversharing"),
        ("It's kind of complicated, I guess.", "en", "evasive"),
        ("It was personal. Let's move on.", "en", "evasive"),
        ("Honestly the whole department was a circus.", "en", "trash_talk"),
        ("这个不太方便说。", "zh", "evasive"),
    ],
)
def test_red_flag_is_found(answer: str, lang: str, flag: str) -> None:
    assert flag in {f.id for f in run(answer, lang).red_flags}


def test_possessive_still_links_to_the_role() -> None:
    result = run("Your team's work on developer tooling is where I want to grow.")
    assert "role_link" in {f.id for f in result.strengths}


def test_personal_growth_is_not_evasive() -> None:
    assert not run("It's personal growth I'm after: I want to lead a team.").red_flags
