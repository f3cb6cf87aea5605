r"""What a language's compiled rule tables look like (built from the YAML rule files by
``dialogs.analyzer.rulebook``; the YAML format is described there).

A lexicon has two tables:

* ``terms``: rows of ``(tags, "phrase | phrase{,s} | ...")``. Every phrase is a literal
  (lower case, after normalisation); ``{a,b}`` expands to alternatives, so
  ``"jerk{,s}"`` means ``jerk`` and ``jerks``. All phrases of a language are compiled
  into one trie-shaped regular expression and found in a single pass.
* ``patterns``: rows of ``(tags, anchors, regex)``, or ``Pattern(...)`` with context
  checks, for phrases with structure. ``anchors`` are space-separated words, and every
  match must START with one of them: the anchors are found in the same pass as the
  terms (as word prefixes in languages written with spaces: ``listen`` also finds
  ``listened``) and the regex is only tried there, with ``regex.match``. A pattern
  without anchors is searched over the whole answer (keep those cheap: start with a
  character class such as ``\d``). A match that starts inside a word is dropped, so
  patterns need no leading ``\b``. The first named group that took part in a match
  marks the evidence (for ``skill~list``, the captured list).
  ``after`` keeps a match only when it matches the text just before it (end it with
  ``$``), and the evidence then starts where that context starts: put the rare word
  first in ``regex`` and the common context ("my boss was ...") in ``after``.
  ``not_after`` drops a match when it matches the text just before it.

Tags are space-separated. A tag is a finding id (``trash_talk``), a variant of one
(``trash_talk~soft``), an exit statement (``exit:laid_off``), a reason
(``reason:pay``), ``hedge``, ``skill``, ``specific``, ``direction`` or ``headline``;
``dialogs.analyzer.analysis`` and ``reasons`` give them their meaning. ``unless`` drops a
match whose sentence matches it: the same words in another sense.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple


class RuleExamples(NamedTuple):
    """A rule entry's own must-match and must-not-match sentences (``examples`` in the
    YAML): the entry itself must (or must not) find its tags in them, whatever other
    rules and suppressions make of the answer."""

    fire: tuple[str, ...] = ()
    quiet: tuple[str, ...] = ()


class Pattern(NamedTuple):
    tags: str
    anchors: str
    regex: str
    # The match counts only if this regex does NOT match the text just before it.
    not_after: str = ""
    # The match counts only if this regex matches the text just before it (end with $);
    # the evidence then starts where this context starts.
    after: str = ""
    # The id of the rule entry that declared it (shown by ``--explain``).
    rule: str = ""
    # The match is dropped when this regex is found in its sentence: another sense of
    # the same words ("the effort paid off", "a role terminated in a restructuring").
    unless: str = ""
    examples: RuleExamples = RuleExamples()


class Term(NamedTuple):
    tags: str
    phrases: str
    rule: str = ""
    unless: str = ""
    examples: RuleExamples = RuleExamples()


class TagRule(NamedTuple):
    """One meaning of a matched phrase: its tag, the rule that declared it, and the
    sentence context that cancels it (empty: none)."""

    tag: str
    rule: str
    unless: str = ""


TermRow = Term | tuple[str, str]
PatternRow = Pattern | tuple[str, str, str]

_BRACES = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True, slots=True)
class Lexicon:
    lang: str
    terms: tuple[TermRow, ...]
    patterns: tuple[PatternRow, ...]
    # Tags whose matches are dropped when a negation comes just before them.
    negatable: frozenset[str]
    # Searched in the ``window`` characters before a match; it must end with ``$`` and
    # should not reach across a clause boundary.
    negation: str
    window: int
    # Splits a captured skill list ("python, sql and excel") into items.
    skill_split: str
    # Words that end a captured skill item; items made only of these are dropped.
    skill_stop: frozenset[str]
    # Captured items that are too generic to count as a skill.
    skill_generic: frozenset[str] = frozenset()
    # Maximum number of words (spaced) or characters (unspaced) in one captured skill.
    skill_max_words: int = 3
    # Whether words are separated by spaces (en) or not (zh).
    spaced: bool = True


def words(text: str) -> frozenset[str]:
    """A set of space-separated words."""
    return frozenset(text.split())


def expand(phrase: str) -> list[str]:
    """``"harass{,ed,ing}"`` -> ``["harass", "harassed", "harassing"]``."""
    parts = _BRACES.split(phrase)
    literals, choices = parts[0::2], [p.split(",") for p in parts[1::2]]
    out: list[str] = []
    for combo in itertools.product(*choices):
        text = literals[0]
        for choice, literal in zip(combo, literals[1:], strict=True):
            text += choice + literal
        out.append(" ".join(text.split()))
    return out


def term_table(rows: tuple[TermRow, ...]) -> dict[str, tuple[TagRule, ...]]:
    """Expand every row into ``phrase -> meanings`` (a phrase in several rows gets the
    meanings of each; a tag counts once per phrase)."""
    table: dict[str, list[TagRule]] = {}
    for row in rows:
        term = Term(*row)
        for raw in term.phrases.split("|"):
            raw = raw.strip()
            if not raw:
                continue
            for phrase in expand(raw):
                known = table.setdefault(phrase, [])
                seen = {m.tag for m in known}
                known.extend(TagRule(t, term.rule, term.unless)
                             for t in term.tags.split() if t not in seen)
    return {phrase: tuple(meanings) for phrase, meanings in table.items()}


# Words that a dropped apostrophe turns into other words ("we'll" -> "well"): a phrase
# with one of them gets no typed variant.
_OTHER_WORDS_UNTYPED = frozenset({"well", "were", "ill", "hell", "shell", "wed", "shed", "lets",
                                  "wont", "hed", "whos"})


def typed_variants(table: Mapping[str, tuple[TagRule, ...]]) -> dict[str, tuple[TagRule, ...]]:
    """The phrases also as chat typing leaves them, without apostrophes ("just seeing whats
    out there", "i dont want to"): a phrase of two words or more with an apostrophe also
    stands without it, with the same meanings, unless that bare form is a phrase of its
    own or turns a word into another word. (Single words are left alone: "cant" and "its"
    are words.)"""
    out = dict(table)
    for phrase, meanings in table.items():
        if "'" not in phrase or " " not in phrase:
            continue
        bare = phrase.replace("'", "")
        if bare in out or not _OTHER_WORDS_UNTYPED.isdisjoint(bare.split()):
            continue
        out[bare] = meanings
    return out
