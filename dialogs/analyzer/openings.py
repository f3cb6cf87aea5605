"""How a pattern's matches may open: a cheap necessary condition, read off the pattern.

``openings(source)`` lists the texts a match of the pattern may start with (its literal
start through its alternatives, optional parts and runs of spaces, up to the first part
that is not plain text), and ``after(word, sources)`` turns those of several patterns
into one regex for what must follow ``word`` where one of them may match there.

The matcher puts that regex right behind an anchor word, so at most places a common
word ("i", "the", "a") is passed over after a character or two, before any pattern is
tried. The openings only ever cut a pattern short, never add to it: where the pattern
matches, its opening does.

Patterns are read with the parser of the standard ``re`` module (``re._parser``: not a
public interface, but the one ``re.compile`` itself uses since Python 3.11). A pattern
it cannot read, or whose opening is not plain text, has no condition (None) and is
simply tried: the results are the same, only slower.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

try:
    from re import _constants as sre
    from re import _parser
except ImportError:  # (a Python whose re is laid out otherwise: no conditions)
    sre = _parser = None  # type: ignore[assignment]

SPACES = r"\s+"  # a run of spaces: one step of an opening
_SPACE = r"\s"
MAX_OPENINGS = 64  # per pattern; past it, they are cut shorter until so many are left
_MAX_CLASS = 8  # a character class of up to this many characters branches

Opening = tuple[str, ...]  # steps: each one character (or a class of them), or spaces
_Grown = list[tuple[Opening, bool]]  # and whether what follows may extend it


def _is_space(av: object) -> bool:
    return av == [(sre.CATEGORY, sre.CATEGORY_SPACE)]


_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d", sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s", sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w", sre.CATEGORY_NOT_WORD: r"\W",
} if sre is not None else {}


def _class(items: list[tuple[object, object]]) -> str | None:
    """A character class written back as a regex (None if it holds something else)."""
    out = []
    for op, av in items:
        if op is sre.NEGATE:
            out.append("^")
        elif op is sre.LITERAL:
            out.append(re.escape(chr(av)))  # type: ignore[arg-type]
        elif op is sre.RANGE:
            low, high = av  # type: ignore[misc]
            out.append(f"{re.escape(chr(low))}-{re.escape(chr(high))}")
        elif op is sre.CATEGORY and av in _CATEGORIES:
            out.append(_CATEGORIES[av])  # type: ignore[index]
        else:
            return None
    return "[" + "".join(out) + "]"


def _element(op: object, av: object) -> _Grown:
    if op is sre.LITERAL:
        return [((re.escape(chr(av)),), True)]  # type: ignore[arg-type]
    if op is sre.SUBPATTERN:
        _, add_flags, del_flags, body = av  # type: ignore[misc]
        return [((), False)] if add_flags or del_flags else _sequence(body)
    if op is sre.BRANCH:
        return [grown for alternative in av[1] for grown in _sequence(alternative)]  # type: ignore
    if op is sre.IN:
        if _is_space(av):
            return [((_SPACE,), True)]
        items = list(av)  # type: ignore[call-overload]
        if len(items) <= _MAX_CLASS and all(o is sre.LITERAL for o, _ in items):
            return [((re.escape(chr(c)),), True) for _, c in items]
        written = _class(items)
        return [((written,), True)] if written else [((), False)]
    if op is sre.NOT_LITERAL:
        return [((f"[^{re.escape(chr(av))}]",), True)]  # type: ignore[arg-type]
    if op is sre.ANY:  # (any character at all: wider than "." without DOTALL, never narrower)
        return [((r"[\s\S]",), True)]
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, high, body = av  # type: ignore[misc]
        items = list(body)
        if low >= 1 and len(items) == 1 and items[0][0] is sre.IN and _is_space(items[0][1]):
            return [((SPACES,), True)]  # what follows a run of spaces follows `\s+`
        once = _sequence(body)
        if high != 1:  # taken again and again: what follows the first is not known
            once = [(opening, False) for opening, _ in once]
        return once if low >= 1 else [((), True), *once]  # optional: left out, or taken
    if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
        return [((), True)]  # takes no text: leaving it out only widens the condition
    return [((), False)]


def _cut(many: Iterable[Opening]) -> list[Opening]:
    """Too many openings, each cut as short as it takes to leave at most MAX_OPENINGS."""
    found = list(dict.fromkeys(many))
    for length in range(max(map(len, found), default=0), -1, -1):
        if len(found) <= MAX_OPENINGS:
            break
        found = list(dict.fromkeys(o[:length] for o in found))
    return found


def _sequence(items: object) -> _Grown:
    grown: _Grown = [((), True)]
    for op, av in items:  # type: ignore[attr-defined]
        if not any(more for _, more in grown):
            break
        longer: _Grown = []
        for opening, more in grown:
            if more:
                longer += [(opening + step, go_on) for step, go_on in _element(op, av)]
            else:
                longer.append((opening, False))
        if len(longer) > MAX_OPENINGS:
            return [(opening, False) for opening in _cut(o for o, _ in longer)]
        grown = longer
    return grown


@cache  # a pattern is read once, however many anchor words it has
def openings(source: str) -> tuple[Opening, ...] | None:
    """What a match of ``source`` may start with (each a tuple of steps), or None when
    it cannot be told."""
    if _parser is None:
        return None
    try:
        parsed = _parser.parse(source)
        if parsed.state.flags & re.IGNORECASE:
            return None
        return tuple(dict.fromkeys(opening for opening, _ in _sequence(parsed)))
    except (re.error, RecursionError, OverflowError, AttributeError, TypeError, ValueError):
        return None  # unreadable, or a parser that is not the one written against


def _trie_regex(rests: list[Opening]) -> str:
    root: dict = {}
    for steps in rests:
        node = root
        for step in steps:
            node = node.setdefault(step, {})
        node[""] = {}  # one ends here: what follows it is free

    def walk(node: dict) -> str:
        if "" in node:
            return ""
        alts = [step + walk(child) for step, child in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return walk(root)


@cache
def _takes(step: str, ch: str) -> bool:
    return re.fullmatch(step, ch) is not None


def after(word: str, sources: list[str]) -> str | None:
    """A regex for what must follow ``word`` (plain text) where one of ``sources`` may
    match from the word's start, or None when nothing is known to follow."""
    rests: list[Opening] = []
    for source in sources:
        found = openings(source)
        if found is None:
            return None
        for opening in found:
            if not all(_takes(step, ch) for step, ch in zip(opening, word, strict=False)):
                continue  # opens with another word: cannot match here
            if len(opening) <= len(word):
                return None  # the word alone may open it
            rests.append(opening[len(word):])
    if not rests:
        return "(?!)"  # none of them can match after this word
    return _trie_regex(rests)
