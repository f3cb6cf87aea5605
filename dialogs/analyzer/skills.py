"""The skills, tools and areas a candidate named (used to fill a model answer).

Two sources: the ``skill`` terms of the lexicon, and lists captured by ``skill~list``
patterns ("experience in python, sql and excel") split into items.
"""

from __future__ import annotations

import re

from leavewell.dialogs.analyzer.matcher import Hits, Matcher, Span
from leavewell.dialogs.analyzer.rules import Lexicon

_NON_SPACE = re.compile(r"\S+")
_LIST_END_WORDS = frozenset(("and", "or", "&", "和", "与", "及", "以及", "或"))


def _skill_items(matcher: Matcher, low: str, span: Span) -> list[tuple[Span, str]]:
    """Split a captured list ("python, sql and excel to build ...") into skills."""
    lex = matcher.lexicon
    start, end = span
    items: list[tuple[Span, str]] = []
    pos = start
    last = False
    for sep in [*matcher.skill_split.finditer(low, start, end), None]:
        piece_end = sep.start() if sep is not None else end
        item = _skill_item(lex, low, pos, piece_end)
        if item is not None:
            items.append(item)
        elif not items:
            break
        if last or sep is None:
            break
        # "a, b and c": the item after "and" / "or" ends the list
        last = any(w in _LIST_END_WORDS for w in sep.group().split()) or (
            sep.group().strip() in _LIST_END_WORDS
        )
        pos = sep.end()
    return items


def _skill_item(lex: Lexicon, low: str, start: int, end: int) -> tuple[Span, str] | None:
    if not lex.spaced:  # the whole piece is the item
        piece = low[start:end].strip()
        if len(piece) < 2 or len(piece) > lex.skill_max_words or piece in lex.skill_generic:
            return None
        offset = low.index(piece, start)
        return (offset, offset + len(piece)), piece
    words = [(m.start(), m.group()) for m in _NON_SPACE.finditer(low, start, end)]
    while words and words[0][1] in lex.skill_stop:
        words.pop(0)
    kept: list[tuple[int, str]] = []
    for pos, word in words:
        word = word.rstrip(".-/")
        if not word or word in lex.skill_stop or len(kept) >= lex.skill_max_words:
            break
        kept.append((pos, word))
    if not kept:
        return None
    name = " ".join(w for _, w in kept)
    if name in lex.skill_generic or len(name) < 2:
        return None
    return (kept[0][0], kept[-1][0] + len(kept[-1][1])), name


def extract_skills(
    matcher: Matcher, low: str, hits: Hits
) -> tuple[list[Span], tuple[str, ...]]:
    """Spans of every skill found, and the distinct skill names in order of appearance.

    Lexicon terms win over a captured item that contains them ("supply chain" rather
    than "supply chain analytics"); a captured item counts when no term is inside it.
    """
    found: list[tuple[Span, str]] = [
        (s, " ".join(low[s[0]:s[1]].split())) for s in hits.get("skill", ())
    ]
    terms = [span for span, _ in found]
    for span in hits.get("skill~list", ()):
        for item in _skill_items(matcher, low, span):
            (start, end), _ = item
            if not any(start <= t[0] and t[1] <= end for t in terms):
                found.append(item)
    found.sort()
    names: list[str] = []
    for _, name in found:
        if name not in names:
            names.append(name)
    return [s for s, _ in found], tuple(names)
