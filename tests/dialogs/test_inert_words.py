"""Mentions, links and commands typed by users come back inert, in every format and
language (issue 14: @username, t.me/joinchat/… and bare domains came back live in
Telegram replies). Live means what Telegram's own entity parser would link, modelled in
tests.support.formats.telegram_live_entities, or a ping/link on Discord."""

from __future__ import annotations

from typing import Any

import pytest

from leavewell.dialogs.events import Start, TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import (
    HTML,
    MARKDOWN,
    ZWSP,
    Renderer,
    escape_html,
    escape_markdown,
)
from leavewell.dialogs.script import REQUIRED_MESSAGES, default_script
from tests.dialogs.test_render import play_round
from tests.support.fake_telegram import parse_html
from tests.support.formats import discord_problems, telegram_live_entities

# Every user-made live thing carries a marker ("evil", "everyone", "here"), so a live
# entity of our own (a /command in the help) is never mistaken for one of theirs.
PATTERNS = [
    "@everyone", "@here", "@evil_admin", "t.me/joinchat/EvilInvite", "https://evil.com/x",
    "evil.com/login", "evil.co.uk", "www.evil.net", "boss@evil.org", "/evilcmd",
    "tg://resolve?domain=evil_bot", "🙂.evil.ai", "坏人.中国/evil",
]
MARKERS = ("evil", "everyone", "here", "坏人")
GOOD_EN = ("Our team was cut when the company lost its biggest client. I led the move of "
           "our reporting to Python and saved 10 hours a week, and I want to grow here.")
GOOD_ZH = "公司失去了最大的客户，整个团队被裁。我负责把报表迁移到 Python，每周节省了10个小时。"


def user_made_live(plain: str) -> list[str]:
    return [e for e in telegram_live_entities(plain)
            if any(marker in e.lower() for marker in MARKERS)]


def discord_live(text: str) -> list[str]:
    """Pings and links on Discord (a long text is split by the sender: not checked here),
    and bare domains, which no platform should get from a user either."""
    problems = [p for p in discord_problems(text) if "length" not in p]
    return problems + user_made_live(text)


def visible(text: str) -> str:
    """What a reader sees (and what survives copying, but for the invisible spaces)."""
    return text.replace(ZWSP, "").replace("\\", "")


@pytest.mark.parametrize("pattern", PATTERNS)
def test_escaping_alone_makes_each_pattern_inert(pattern: str) -> None:
    assert user_made_live(pattern), "the pattern must be live to begin with"
    html = escape_html(f"see {pattern} now")
    plain, _ = parse_html(html)
    assert user_made_live(plain) == [], plain
    assert visible(plain) == f"see {pattern} now"  # readable, nothing dropped
    markdown = escape_markdown(f"see {pattern} now")
    assert discord_live(markdown) == [], markdown
    assert visible(markdown) == f"see {pattern} now"


def play_round_with(lang: str, pattern: str) -> list[Outgoing]:
    """A round whose role, company and answer carry the pattern: all of them come back
    (role and company in follow-ups and the model answer, the answer in quotes)."""
    good = GOOD_EN if lang == "en" else GOOD_ZH
    return play_round([
        Start(at=1, lang_hint=lang),
        TextAnswer(at=2, text=f"Analyst {pattern}"),  # role
        TextAnswer(at=3, text=pattern),  # company
        TextAnswer(at=4, text="2"),  # laid off
        TextAnswer(at=5, text=f"My boss was a jerk, see {pattern} for proof. {good}"),
        *(TextAnswer(at=6 + n, text=f"I still talk to my manager at {pattern}.")
          for n in range(3)),
    ])


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_whole_round_echoes_the_pattern_inert(renderer: Renderer, lang: str,
                                                pattern: str) -> None:
    telegram, discord = [], []
    for outgoing in play_round_with(lang, pattern):
        plain, _ = parse_html(renderer.render(outgoing, HTML).text)
        telegram.append(plain)
        discord.append(renderer.render(outgoing, MARKDOWN).text)
    assert any(pattern in visible(text) for text in telegram), "the words must come back"
    assert any(pattern in visible(text) for text in discord), "the words must come back"
    for text in telegram:
        assert user_made_live(text) == [], text
    for text in discord:
        assert discord_live(text) == [], text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_message_keeps_every_pattern_inert(renderer: Renderer, lang: str) -> None:
    """Every catalog message, with every text parameter set to all the patterns (names,
    comments, answers, roles: whatever a template echoes)."""
    hostile = " ".join(PATTERNS)
    params: dict[str, Any] = {
        "question_key": "followups.why_now", "company": hostile, "role": hostile,
        "detail": hostile, "words": 900, "limit": 5000, "seconds": 42, "name": hostile,
        "minutes": 30, "voice": True, "label": hostile, "place": hostile,
        "channels": hostile, "ask_lang": "en", "hint_lang": "zh", "expected": "en",
        "detected": "zh", "ui": "zh", "interview": "en", "hints": True, "situation": "laid_off",
        "span": [[1, "d"]], "closes": "2024-01-01", "closed": "2024-01-01",
        "mentor": hostile, "given": hostile, "min_minutes": 10, "max_days": 7,
        "situations": ["employed"], "no": 2, "count": 3, "score": 40, "answer": hostile,
        "cut": True, "point": "owns_story", "replaced": True, "points": [],
        "comments": [hostile], "raters": 4, "joined": 5, "answered": 3, "shared": 1,
        "followups": True, "shortened": True,
    }
    round_keys = {k for k in default_script().catalogs[lang].messages
                  if k.startswith("round_")} - {"round_summary", "round_report"}
    echoed = 0
    for key in sorted(REQUIRED_MESSAGES | round_keys):
        plain, _ = parse_html(renderer.render(Outgoing(key, lang, params), HTML).text)
        markdown = renderer.render(Outgoing(key, lang, params), MARKDOWN).text
        assert user_made_live(plain) == [], (key, plain)
        assert discord_live(markdown) == [], (key, markdown)
        echoed += "evil_admin" in visible(plain)
    assert echoed >= 5  # the check saw user words, not only our own texts


def test_our_own_commands_stay_live(renderer: Renderer) -> None:
    plain, _ = parse_html(renderer.render(Outgoing("help", "en", {}), HTML).text)
    assert "/practice" in telegram_live_entities(plain)
