"""Checks that rendered text is what each platform accepts and that user words are inert."""

from __future__ import annotations

import re

TELEGRAM_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote",
}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-z-]+=\"[^\"<>]*\")*)\s*>")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|#\d+|#x[0-9a-fA-F]+);")


def telegram_html_problems(text: str) -> list[str]:
    """What Telegram's HTML parse mode would reject; an empty list means it is valid."""
    problems: list[str] = []
    stack: list[str] = []
    position = 0
    plain_parts: list[str] = []
    for match in _TAG.finditer(text):
        plain_parts.append(text[position:match.start()])
        position = match.end()
        closing, name = match.group(1), match.group(2).lower()
        if name not in TELEGRAM_TAGS:
            problems.append(f"unsupported tag <{name}>")
            continue
        if closing:
            if not stack or stack.pop() != name:
                problems.append(f"unbalanced </{name}>")
        else:
            stack.append(name)
    plain_parts.append(text[position:])
    plain = "".join(plain_parts)
    if stack:
        problems.append(f"unclosed tags {stack}")
    if "<" in plain or ">" in plain:
        problems.append("bare < or > outside a tag")
    for amp in re.finditer("&", plain):
        if not _ENTITY.match(plain, amp.start()):
            problems.append("bare & not written as an entity")
            break
    visible = _ENTITY.sub("x", plain)
    if not 1 <= len(visible) <= 4096:
        problems.append(f"text length {len(visible)} outside 1..4096")
    return problems


_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d+>")
_LINK = re.compile(r"https?://")


def discord_problems(text: str) -> list[str]:
    problems = []
    if _MENTION.search(text):
        problems.append("text could mention someone")
    if _LINK.search(text):
        problems.append("text contains a live link")
    if len(text) > 2000:
        problems.append(f"content length {len(text)} over 2000")
    return problems
