"""Long messages are split where the platform allows, without breaking formatting."""

from __future__ import annotations

from leavewell.bot.discord.send import split_markdown
from leavewell.bot.telegram.send import split_html
from tests.support.formats import telegram_html_problems


def test_html_is_split_at_paragraphs_and_stays_valid() -> None:
    paragraphs = [f"<b>Point {n}</b>\n" + "words &amp; more " * 40 for n in range(30)]
    text = "\n\n".join(paragraphs)
    chunks = split_html(text)
    assert len(chunks) > 1 and all(len(c) <= 4096 for c in chunks)
    assert all(telegram_html_problems(c) == [] for c in chunks)
    assert "\n\n".join(chunks) == text  # nothing lost or reordered


def test_one_huge_html_line_loses_formatting_but_never_breaks_an_entity() -> None:
    line = "<i>" + "&lt;tag&gt; & " * 2000 + "</i>"
    chunks = split_html(line.replace(" & ", " &amp; "))
    assert all(len(c) <= 4096 and telegram_html_problems(c) == [] for c in chunks)


def test_markdown_split_keeps_escapes_with_their_character() -> None:
    line = "a" * 1999 + "\\*" + "b" * 100
    chunks = split_markdown(line)
    assert chunks[0] == "a" * 1999 and chunks[1].startswith("\\*")
    assert all(len(c) <= 2000 for c in chunks)
