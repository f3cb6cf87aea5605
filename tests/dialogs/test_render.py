"""Rendering: every message in every format and language; user words are inert."""

from __future__ import annotations

import pytest

from leavewell.dialogs.engine import Interviewer
from leavewell.dialogs.events import ChoicePressed, Command, Event, Start, TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import (
    HTML,
    MARKDOWN,
    PLAIN,
    Renderer,
    escape_html,
    escape_markdown,
    escape_plain,
)
from leavewell.dialogs.script import REQUIRED_MESSAGES
from tests.support.formats import discord_problems, telegram_html_problems

HOSTILE = (
    "<script>alert(1)</script> & <b>bold</b> **star** __under__ `code` ~~x~~ "
    "@everyone @here <@123> [link](https://evil.example) www.evil.example "
    "Tom & Jerry <i>unclosed 🙂 مرحبا \u202eevil\x1b[31m"
)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def test_escape_html_makes_tags_text() -> None:
    assert escape_html("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_escape_discord_breaks_mentions_markdown_and_links() -> None:
    out = escape_markdown("@everyone **x** https://a.b")
    assert "@everyone" not in out and "https://" not in out
    assert "\\*\\*x\\*\\*" in out


def test_escape_plain_drops_terminal_controls() -> None:
    assert escape_plain("a\x1b[31mb\u202ec\n") == "a[31mbc\n"


def play_round(events: list[Event]) -> list[Outgoing]:
    """Every message a fresh conversation sends for `events`; it must reach feedback."""
    engine = Interviewer()
    profile: dict = {}
    state: dict = {}
    outgoing: list[Outgoing] = []
    for event in events:
        result = engine.step(profile, state, event)
        profile, state = result.profile, result.state
        outgoing.extend(result.outgoing)
    assert any(o.template == "feedback" for o in outgoing)
    return outgoing


def play_hostile_round(lang: str) -> list[Outgoing]:
    return play_round([
        Start(at=1, lang_hint=lang),
        TextAnswer(at=2, text=HOSTILE[:70]),  # role
        TextAnswer(at=3, text=HOSTILE[70:140]),  # company
        TextAnswer(at=4, text="3"),  # let_go
        TextAnswer(at=5, text=HOSTILE * 3),
        TextAnswer(at=6, text=HOSTILE),
        TextAnswer(at=7, text=HOSTILE),
        TextAnswer(at=8, text=HOSTILE),
        Command(at=9, name="history"),
        Command(at=10, name="help"),
        Command(at=11, name="<b>" + HOSTILE[:20]),
    ])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_answers_render_valid_telegram_html(renderer: Renderer, lang: str) -> None:
    for outgoing in play_hostile_round(lang):
        text = renderer.render(outgoing, HTML).text
        assert telegram_html_problems(text) == [], (outgoing.template, text)
        assert "<script>" not in text and "<b>bold</b>" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_answers_are_inert_on_discord(renderer: Renderer, lang: str) -> None:
    for outgoing in play_hostile_round(lang):
        text = renderer.render(outgoing, MARKDOWN).text
        assert discord_problems(text) == [], (outgoing.template, text)
        assert "**star**" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plain_output_has_no_control_characters(renderer: Renderer, lang: str) -> None:
    for outgoing in play_hostile_round(lang):
        text = renderer.render(outgoing, PLAIN).text
        assert "\x1b" not in text and "\u202e" not in text


def test_feedback_quotes_the_users_words(renderer: Renderer) -> None:
    feedback = next(o for o in play_hostile_round("en") if o.template == "feedback")
    quoted = [e for f in feedback.params["red_flags"] + feedback.params["improvements"]
              for e in f["evidence"]]
    text = renderer.render(feedback, PLAIN).text
    for evidence in quoted:
        assert f"“{escape_plain(evidence)}”" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("fmt", [PLAIN, HTML, MARKDOWN])
def test_every_message_renders_with_its_parameters(renderer: Renderer, lang: str,
                                                   fmt: str) -> None:
    params = {
        "question_key": "followups.why_now", "company": "Acme & Co", "role": "<dev>",
        "detail": "4 months", "words": 900, "limit": 5000, "seconds": 42, "name": "x",
        "minutes": 30, "voice": True, "label": "<Skip>",
        "place": "<#1>", "channels": "<#2>, <#3>",
        "ask_lang": "en", "hint_lang": "zh", "expected": "en", "detected": "zh",
        "ui": "zh", "interview": "en", "hints": True, "situation": None, "shortened": True,
    }
    for key in sorted(REQUIRED_MESSAGES):
        text = renderer.render(Outgoing(key, lang, params), fmt).text
        assert text.strip(), key
        if fmt == HTML:
            assert telegram_html_problems(text) == [], (key, text)


def test_missing_parameter_fails_loudly(renderer: Renderer) -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        renderer.render(Outgoing("long_answer", "en", {}), PLAIN)


def test_numbered_choices_for_platforms_without_buttons(renderer: Renderer) -> None:
    engine = Interviewer()
    result = engine.step({}, {}, Start(at=1))
    ask = result.outgoing[-1]
    text = renderer.render(ask, PLAIN, numbered_choices=True).text
    assert "1. English" in text and "2. 中文" in text


def test_stale_button_names_no_internal_ids(renderer: Renderer) -> None:
    engine = Interviewer()
    result = engine.step({}, {}, Start(at=1, lang_hint="en"))
    result = engine.step(result.profile, result.state, ChoicePressed(at=2, choice="999.skip"))
    text = "\n".join(renderer.render(o, PLAIN).text for o in result.outgoing)
    assert "999" not in text and "earlier question" in text
