"""Checks that rendered text is what each platform accepts and that user words are inert."""

from __future__ import annotations

import itertools
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

# What Telegram's servers turn into live entities in a message's plain text, after
# tdlib's rules (td/telegram/MessageEntity.cpp), erring on the side of "live": any
# alphabetic top-level domain of two letters or more counts, not only the common ones.
_TG_MENTION = re.compile(r"(?<!\w)@[A-Za-z0-9_]{2,32}(?!\w)")
_TG_COMMAND = re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_TG_SCHEME = re.compile(r"(?i)\b(?:https?|ftp|tg|ton)://[^\s]+")
# tdlib's domain characters: ASCII letters, digits, _ - ~ and dots; any other character
# from U+00C0 up that is not a space and not General Punctuation (but ZWNJ, ZWJ, dashes).
_TG_DOMAIN = re.compile(
    "([A-Za-z0-9_~.\\-\u00c0-\u167f\u1681-\u1fff\u200c\u200d\u2010-\u2015"
    "\u2070-\u2fff\u3001-\U0010ffff]+)([/?#][^\\s<>\"«»]*)?")


def _tg_domains(text: str) -> list[str]:
    found = []
    for run in _TG_DOMAIN.finditer(text):
        labels = run.group(1).split(".")
        # any two non-empty labels around a dot, the second one a possible TLD
        for left, right in itertools.pairwise(labels):
            tld = re.match(r"[^\W\d_]{2,}", right)
            if left and tld:
                found.append(run.group())
                break
        else:
            if len(labels) == 4 and all(part.isdigit() for part in labels):  # an IPv4
                found.append(run.group())
    return found


def telegram_live_entities(plain: str) -> list[str]:
    """Mentions, bot commands and links Telegram would make live in `plain`."""
    return [*_TG_MENTION.findall(plain), *_TG_COMMAND.findall(plain),
            *_TG_SCHEME.findall(plain), *_tg_domains(plain)]


def discord_problems(text: str) -> list[str]:
    problems = []
    if _MENTION.search(text):
        problems.append("text could mention someone")
    if _LINK.search(text):
        problems.append("text contains a live link")
    if len(text) > 2000:
        problems.append(f"content length {len(text)} over 2000")
    return problems
