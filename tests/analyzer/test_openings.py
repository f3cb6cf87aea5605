"""What a pattern's matches may open with (``openings``): a necessary condition, so
every match of every rule pattern must open one of the ways it lists."""

from __future__ import annotations

import re

import pytest

from leavewell.dialogs.analyzer.analysis import MATCHERS
from leavewell.dialogs.analyzer.openings import MAX_OPENINGS, after, openings

from .test_matcher_probes import _texts


def _opens(opening: tuple[str, ...], low: str, pos: int) -> bool:
    return re.compile("".join(opening)).match(low, pos) is not None


@pytest.mark.parametrize("lang", sorted(MATCHERS))
def test_every_match_of_a_rule_pattern_opens_one_of_its_ways(lang: str) -> None:
    matcher = MATCHERS[lang]
    listed = {p.regex.pattern: openings(p.regex.pattern) for p in matcher.patterns}
    checked = 0
    for text in _texts(lang):
        low = matcher.normalize(text)
        for pattern in matcher.patterns:
            ways = listed[pattern.regex.pattern]
            assert ways is not None and len(ways) <= MAX_OPENINGS
            for pos in range(len(low)):
                if pattern.regex.match(low, pos) is not None:
                    checked += 1
                    assert any(_opens(way, low, pos) for way in ways), (pattern, low, pos)
    assert checked > {"en": 300, "zh": 100}[lang]


def test_openings_follow_alternatives_optional_words_spaces_and_classes() -> None:
    ways = openings(r"(?:i\s+think|maybe)\s+(?:really\s+)?not\b")
    assert ways is not None
    assert sorted("".join(way) for way in ways) == [
        r"i\s+think\s+not", r"i\s+think\s+really\s+not", r"maybe\s+not",
        r"maybe\s+really\s+not"]
    assert openings(r"a(?:\s+b)*\s+c") == (("a", r"\s+", "c"), ("a", r"\s+", "b"))
    assert openings(r"\d+\s+(?:bucks|dollars)") == ((r"[\d]",),)  # a run: its first only
    assert openings(r"(?<!not\s)pay[sd]?\b") == (("p", "a", "y"), ("p", "a", "y", "s"),
                                                 ("p", "a", "y", "d"))
    assert openings(r"(a)\1") == (("a",),)  # a back-reference ends what is known
    assert openings(r"(?i)pay") is None  # case folded: not plain text


def test_many_alternatives_are_cut_short_not_dropped() -> None:
    words = [f"w{n:03d}x" for n in range(500)]
    ways = openings("(?:" + "|".join(words) + r")\s+now")
    assert ways is not None and 0 < len(ways) <= MAX_OPENINGS
    assert all(way and way[0] == "w" for way in ways)


def test_after_a_word_what_must_follow_it() -> None:
    sources = [r"(?:i\s+think|maybe)\s+not", r"i'd\s+rather", r"(?:\d+|a)\s+bucks"]
    follows = re.compile(after("i", sources) or "")
    assert follows.match(" think not") and follows.match("'d rather")
    assert not follows.match(" was") and not follows.match("t")
    assert after("a", sources) == r"\s+bucks"
    assert after("maybe", sources) == r"\s+not"
    assert after("so", sources) == "(?!)"  # none of them can open with "so"
    assert after("i", [r"i\w*"]) is None  # the word alone may be a match's opening


def test_without_the_parser_there_is_no_condition(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Python whose ``re`` has no such parser: every key is simply tried (same results,
    only slower), never a wrong condition."""
    from leavewell.dialogs.analyzer import openings as module

    monkeypatch.setattr(module, "_parser", None)
    openings.cache_clear()
    try:
        assert openings(r"i\s+think") is None
        assert after("i", [r"i\s+think"]) is None
    finally:
        monkeypatch.undo()
        openings.cache_clear()
    assert after("i", [r"i\s+think"]) == r"\s+think"
