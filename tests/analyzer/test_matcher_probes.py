"""The matcher tries the patterns triggered at one position in one regex call (a probe):
it must find exactly what trying each pattern's own regex there finds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leavewell.dialogs.analyzer.analysis import BOOK, MATCHERS
from leavewell.dialogs.analyzer.matcher import Matcher, _compile_pattern, _note, _probes_for
from leavewell.dialogs.analyzer.rules import Lexicon, Pattern, Term


def _texts(lang: str) -> Iterator[str]:
    """Every example sentence of the rule files in ``lang``."""
    for finding in BOOK.findings.values():
        examples = finding.examples.get(lang)
        if examples is not None:
            yield from (e.text for e in (*examples.fire, *examples.quiet))
    lexicon = BOOK.lexicons[lang]
    for row in (*lexicon.terms, *lexicon.patterns):
        if isinstance(row, Term | Pattern):
            yield from (*row.examples.fire, *row.examples.quiet)


def _one_by_one(matcher: Matcher, low: str, pos: int, index: int):
    pattern = matcher.patterns[index]
    m = pattern.regex.match(low, pos)
    if m is None:
        return None
    evidence = next((m.span(g) for g in pattern.groups if m.start(g) >= 0), None)
    return (pos, m.end(), evidence)


@pytest.mark.parametrize("lang", sorted(MATCHERS))
def test_probes_find_what_each_pattern_finds_alone(lang: str) -> None:
    matcher = MATCHERS[lang]
    tried = matched = 0
    for text in _texts(lang):
        low = matcher.normalize(text)
        for m in matcher.trie.finditer(low):
            key = matcher.keys[" ".join(m.group().split())]
            for offset, probes in key.probes:
                pos = m.start() + offset
                found: dict[int, list[tuple[int, int, tuple[int, int] | None]]] = {}
                for match, checks in probes:
                    hit = match(low, pos)
                    if hit is not None:
                        _note(hit, pos, checks, found)
                for _, checks in probes:
                    for index, _, _ in checks:
                        tried += 1
                        alone = _one_by_one(matcher, low, pos, index)
                        assert found.get(index, [None]) == [alone], (text, index)
                        matched += alone is not None
    assert tried > 500 and matched > 50  # the examples try many, and fire many


def test_same_group_names_and_back_references() -> None:
    first = _compile_pattern(("a", "ab", r"ab(?P<x>c+)"))
    second = _compile_pattern(("b", "ab", r"a(?P<x>b)(?P<y>c)?"))
    echo = _compile_pattern(("c", "ab", r"(a)b\1"))
    patterns = (first, second, echo)
    (probe,) = _probes_for(patterns, (0, 1))
    hit = probe.match("xabccd", 1)
    assert hit is not None
    found: dict[int, list[tuple[int, int, tuple[int, int] | None]]] = {}
    _note(hit, 1, probe.checks, found)
    assert found == {0: [(1, 5, (3, 5))], 1: [(1, 4, (2, 3))]}
    assert probe.match("xabd", 1) is not None and probe.match("xbd", 1) is None
    # a back-reference would point elsewhere once combined: each is tried alone
    assert len(_probes_for(patterns, (0, 2))) == 2


@pytest.mark.parametrize("anchored", [False, True])
def test_a_term_ends_alike_whether_or_not_an_anchor_starts_it(anchored: bool) -> None:
    """A possessive 's ends a term; other suffixes after an apostrophe do not. The trie
    finds a term that is also an anchor through another path: it must end the same."""
    patterns = (("other", "wife", r"wife\s+said\b"),) if anchored else ()
    lexicon = Lexicon(lang="en", terms=(("family", "wife"),), patterns=patterns,
                      negatable=frozenset(), negation=r"(?!)$", window=10,
                      skill_split=",", skill_stop=frozenset())
    matcher = Matcher(lexicon)
    assert matcher.scan("my wife's job moved").hits == {"family": [(3, 7)]}
    assert matcher.scan("my wife moved").hits == {"family": [(3, 7)]}
    assert matcher.scan("my wifely duties").hits == {}
    assert matcher.scan("my wife'd moved").hits == {}


ANCHOR_WORDS = {
    lang: sorted({a for p in MATCHERS[lang].patterns for a in p.anchors})
    for lang in MATCHERS
}


@pytest.fixture(scope="module")
def unguarded() -> dict[str, Matcher]:
    return {"en": Matcher(BOOK.lexicons["en"], guard_anchors=False),
            "zh": Matcher(BOOK.lexicons["zh"], MATCHERS["zh"].translate, guard_anchors=False)}


@pytest.mark.parametrize("lang", sorted(MATCHERS))
def test_guarded_anchors_find_exactly_what_unguarded_ones_do(
        lang: str, unguarded: dict[str, Matcher]) -> None:
    """An anchor found only where one of its patterns matches changes no scan: not the
    hits, not their rules, not what was dropped."""
    guarded, plain = MATCHERS[lang], unguarded[lang]
    assert len(guarded.trie.pattern) > len(plain.trie.pattern)  # guards were written
    passed_over = 0
    for text in _texts(lang):
        low = guarded.normalize(text)
        assert guarded.scan(low) == plain.scan(low), text
        passed_over += (sum(1 for _ in plain.trie.finditer(low))
                        - sum(1 for _ in guarded.trie.finditer(low)))
    assert passed_over > 100  # common anchors that start nothing are passed over


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_guarded_anchors_on_strings_of_anchor_words(data: st.DataObject,
                                                    unguarded: dict[str, Matcher]) -> None:
    lang = data.draw(st.sampled_from(sorted(MATCHERS)))
    words = data.draw(st.lists(st.sampled_from(ANCHOR_WORDS[lang]), max_size=12))
    glue = data.draw(st.sampled_from([" ", ", ", "'s ", "n't ", ". ", ""]))
    low = MATCHERS[lang].normalize(glue.join(words))
    assert MATCHERS[lang].scan(low) == unguarded[lang].scan(low)
