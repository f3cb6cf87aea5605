"""Compiles a lexicon's rule tables and finds their matches ("hits") in an answer.

Speed matters (the whole analysis of a 150-word answer should take a fraction of a
millisecond), so:

* all literal terms of a language are folded into one trie-shaped regex and found in a
  single pass; the patterns' anchors ride along in that pass, so finding where the
  patterns may match costs nothing extra;
* a pattern is only tried where one of its anchors starts (``regex.match`` at that
  position), never scanned over the whole answer, unless it has no anchors;
* an anchor that is only an anchor (no term starts with it) is found by the trie only
  where what follows it may continue one of its patterns (``openings``): common words
  ("i", "the", "a") anchor many patterns and start few matches, and passing over them
  inside ``re`` saves a Python round each;
* literal alternations inside patterns are folded into tries as well.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from leavewell.dialogs.analyzer.openings import after
from leavewell.dialogs.analyzer.rules import Lexicon, Pattern, TagRule, term_table, typed_variants

Span = tuple[int, int]
Hits = dict[str, list[Span]]
# (tag, start, end) -> the id of the rule that found it
Origins = dict[tuple[str, int, int], str]


@dataclass(slots=True)
class Scan:
    """What ``Matcher.scan`` found: the spans per tag, which rule found each, and the
    matches that were dropped (negated, or another sense of the words)."""

    hits: Hits
    origins: Origins
    dropped: list[tuple[str, Span, str, str]]  # (tag, span, rule, why)

    def rule_of(self, tag: str, span: Span) -> str:
        return self.origins.get((tag, span[0], span[1]), "")

CONTEXT_CHARS = 60  # how far back ``after`` / ``not_after`` context may reach

_SPACES = {ord(k): v for k, v in {
    "’": "'", "‘": "'", "`": "'", "\t": " ", "\n": " ", "\r": " ", "\u00a0": " ", "\u3000": " ",
}.items()}
_LITERAL_GROUP = re.compile(r"\(\?:((?:[a-z0-9' ]+\|)+[a-z0-9' ]+)\)")
_WORD_END = r"(?![a-z0-9]|'(?!s(?![a-z0-9]))[a-z])"  # a possessive 's still ends the word
_Trie = dict[str, "_Trie"]
_END = ""


def is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _ends_word(low: str, end: int) -> bool:
    """No letter or digit continues the word at ``end``, nor an apostrophe suffix other
    than a possessive ``'s`` (as ``_WORD_END`` says: a term must end alike whether the
    trie found it as a term or under an anchor that starts it)."""
    if end >= len(low):
        return True
    if is_word_char(low[end]):
        return False
    if low[end] != "'" or end + 1 >= len(low) or not is_word_char(low[end + 1]):
        return True
    return low[end + 1] == "s" and (end + 2 >= len(low) or not is_word_char(low[end + 2]))


def _trie(words: Iterable[str]) -> _Trie:
    root: _Trie = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[_END] = {}
    return root


def _plain_trie_regex(node: _Trie) -> str:
    alts = [re.escape(ch) + _plain_trie_regex(node[ch]) for ch in sorted(k for k in node if k)]
    if _END in node:
        alts.append("")
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


def literal_regex(words: Iterable[str]) -> str:
    """A regex for any of ``words`` (plain text), folded into a trie: far fewer branches
    than an alternation of them, for the same language."""
    return "(?:" + _plain_trie_regex(_trie(words)) + ")"


def optimize_regex(source: str) -> str:
    """Fold each group of plain literal alternatives, ``(?:boss|bosses|...)``, into a trie.

    Same language, far fewer branches for ``re`` to try at each position.
    """
    return _LITERAL_GROUP.sub(
        lambda m: "(?:" + _plain_trie_regex(_trie(m.group(1).split("|"))) + ")", source
    )


_FANOUT = 16


def _dispatch(children: list[tuple[str, str]]) -> str:
    """Alternatives keyed by sorted characters, each starting with its own; many become
    a binary search.

    ``re`` tries the branches of an alternation one after the other (quickly passing over
    a branch whose first character differs), which is slow for hundreds of first
    characters (Chinese). Halves are guarded by a look-ahead on their range of
    characters, so the right few branches are found in a few steps.
    """
    if len(children) <= _FANOUT:
        pieces = [piece for _, piece in children]
        return pieces[0] if len(pieces) == 1 else "(?:" + "|".join(pieces) + ")"
    mid = len(children) // 2
    halves = (children[:mid], children[mid:])
    return "(?:" + "|".join(
        f"(?=[{re.escape(half[0][0])}-{re.escape(half[-1][0])}]){_dispatch(half)}"
        for half in halves
    ) + ")"


def _keys_regex(terms: Iterable[str], prefixes: frozenset[str],
                guards: Mapping[str, str] | None = None) -> str:
    """One regex for many literals.

    A term that starts (ends) with an ASCII letter or digit must start (end) at a word
    boundary; a key in ``prefixes`` may end inside a word. Longer keys win. A key in
    ``guards`` ends with its guard instead (a look-ahead at what follows the key).

    Shape: keys starting with an ASCII letter or digit form a trie behind one word-start
    check; the others (Chinese) form a trie behind a look-ahead on the class of their
    first characters, its first level dispatched by ranges of characters.
    """
    keys = set(terms) | prefixes
    root = _trie(keys)

    def walk(node: _Trie, key: str, dispatch: bool = True) -> str:
        pieces = [
            (ch, re.escape(ch) + walk(node[ch], key + ch))
            for ch in sorted(k for k in node if k not in (_END, " "))
        ]
        if dispatch and len(pieces) > _FANOUT:
            alts = [_dispatch(pieces)]
        else:
            alts = [piece for _, piece in pieces]
        if " " in node:
            alts.append(r"\s+" + walk(node[" "], key + " "))
        if _END in node:  # last, so longer keys are tried first
            needs_end = is_word_char(key[-1]) and key not in prefixes
            guard = guards.get(key) if guards else None
            alts.append(guard if guard is not None else _WORD_END if needs_end else "")
        if not alts:
            return ""
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    parts = []
    ascii_root = {k: v for k, v in root.items() if is_word_char(k)}
    if ascii_root:  # word start: fails fast inside words, most positions of spaced text
        parts.append(r"(?<![a-z0-9])(?=[a-z0-9])" + walk(ascii_root, "", dispatch=False))
    firsts = sorted(k for k in root if k != _END and not is_word_char(k))
    if firsts:  # e.g. Chinese: many first characters (a class of them first), dispatched
        branches = [(ch, re.escape(ch) + walk(root[ch], ch)) for ch in firsts]
        many = len(firsts) > _FANOUT
        parts.append(("(?=[" + "".join(map(re.escape, firsts)) + "])" if many else "")
                     + _dispatch(branches))
    return "|".join(parts)


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    tags: tuple[TagRule, ...]
    anchors: tuple[str, ...]
    regex: re.Pattern[str]
    groups: tuple[str, ...]  # named groups: the first that took part is the evidence
    not_after: re.Pattern[str] | None
    after: re.Pattern[str] | None


def _compile_pattern(row: Pattern | tuple[str, str, str]) -> CompiledPattern:
    pattern = Pattern(*row)
    regex = re.compile(optimize_regex(pattern.regex))
    return CompiledPattern(
        tags=tuple(TagRule(t, pattern.rule, pattern.unless) for t in pattern.tags.split()),
        anchors=tuple(pattern.anchors.split()),
        regex=regex,
        groups=tuple(regex.groupindex),
        not_after=re.compile(optimize_regex(pattern.not_after)) if pattern.not_after else None,
        after=re.compile(optimize_regex(pattern.after)) if pattern.after else None,
    )


_SENTENCE_END = re.compile(r"[.!?;\n。！？；]")


def sentence_bounds(low: str, start: int, end: int) -> Span:
    """The sentence around ``low[start:end]`` (a full stop between two digits, as in
    "2.5", ends nothing)."""
    left = start
    while left > 0:
        ch = low[left - 1]
        if _SENTENCE_END.match(ch) and not (
            ch == "." and left < len(low) and low[left].isdigit()
        ):
            break
        left -= 1
    m = _SENTENCE_END.search(low, end)
    while m is not None and m.group() == "." and m.end() < len(low) and low[m.end()].isdigit():
        m = _SENTENCE_END.search(low, m.end())
    return left, (m.start() if m is not None else len(low))


def _triggers(
    key: str, anchors: Mapping[str, set[int]], spaced: bool
) -> tuple[tuple[int, int], ...]:
    """Patterns whose anchor occurs inside ``key`` (at a word start if ``spaced``)."""
    found: set[tuple[int, int]] = set()
    for anchor, indexes in anchors.items():
        offset = key.find(anchor)
        while offset != -1:
            if not spaced or offset == 0 or not is_word_char(key[offset - 1]):
                found.update((index, offset) for index in indexes)
            offset = key.find(anchor, offset + 1)
    return tuple(sorted(found))


class _Probe(NamedTuple):
    """Several patterns tried at one position in one ``regex.match``: each is a
    look-ahead in a group of its own, so one call tells which of them match there (and
    where each match ends) exactly as trying each alone would. It fails unless one does.
    """

    match: Callable[[str, int], re.Match[str] | None]  # the regex's match method
    # (pattern index, group of its whole match, groups of its named groups in order)
    checks: tuple[tuple[int, int, tuple[int, ...]], ...]


_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
_BACKREF = re.compile(r"\\[1-9]|\(\?P=")


def _probes_for(patterns: tuple[CompiledPattern, ...],
                indexes: tuple[int, ...]) -> tuple[_Probe, ...]:
    """One probe for the patterns at ``indexes`` (one per pattern should combining fail:
    back-references, say)."""
    single = tuple(
        _Probe(patterns[i].regex.match, ((i, 0, tuple(patterns[i].regex.groupindex.values())),))
        for i in indexes
    )
    if len(indexes) == 1 or any(_BACKREF.search(patterns[i].regex.pattern) for i in indexes):
        return single  # (a back-reference would point elsewhere once renamed or renumbered)
    parts = []
    for index in indexes:
        source = _NAMED_GROUP.sub(rf"(?P<_{index}_\1>", patterns[index].regex.pattern)
        parts.append(f"(?:(?=(?P<_{index}>{source}))|)")
    # fail unless one of the look-aheads matched
    guard = "".join(f"(?(_{index})|" for index in indexes) + "(?!)" + ")" * len(indexes)
    try:
        regex = re.compile("".join(parts) + guard)
        checks = tuple(
            (index, regex.groupindex[f"_{index}"],
             tuple(regex.groupindex[f"_{index}_{name}"] for name in patterns[index].groups))
            for index in indexes
        )
    except (re.error, KeyError):
        return single
    return (_Probe(regex.match, checks),)


def _note(m: re.Match[str], pos: int, checks: tuple[tuple[int, int, tuple[int, ...]], ...],
          matches: dict[int, list[tuple[int, int, Span | None]]]) -> None:
    """Where each pattern a probe found at ``pos`` ends, and its evidence group's span."""
    for index, group, named in checks:
        stop = m.end(group)
        if stop >= 0:
            evidence = next((m.span(g) for g in named if m.start(g) >= 0), None)
            matches.setdefault(index, []).append((pos, stop, evidence))


@dataclass(frozen=True, slots=True)
class _Key:
    """What one literal found by the trie regex means."""

    # The key is an anchor, so the regex may have matched the start of a longer word.
    prefix: bool
    # Terms that start the key (just the key unless it is a prefix), longest first, with
    # their meanings and whether they end with a letter or digit; under a prefix key the
    # first term that ends on a word boundary (or with neither) applies.
    terms: tuple[tuple[str, tuple[TagRule, ...], bool], ...]
    # (offset, probes): the patterns whose anchor starts a word of the key at offset,
    # to try there
    probes: tuple[tuple[int, tuple[_Probe, ...]], ...]


class Matcher:
    """A compiled lexicon: ``normalize`` the answer, then ``scan`` it for hits."""

    def __init__(self, lexicon: Lexicon, translate: Mapping[int, str] | None = None, *,
                 guard_anchors: bool = True) -> None:
        table = dict(_SPACES)
        table.update(translate or {})
        if any(len(v) != 1 for v in table.values()):
            raise ValueError("normalisation must map one character to one character")
        self.lexicon = lexicon
        self.translate: Mapping[int, str] = table
        # translate() looks every character up: only call it when something is to fold
        self._foldable = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(table)) + "]")
        self.patterns = tuple(_compile_pattern(row) for row in lexicon.patterns)
        # Patterns with no literal to find first run on every text; the rest only where
        # one of their anchors occurs (most never do).
        self._unanchored = frozenset(i for i, p in enumerate(self.patterns) if not p.anchors)
        self.negation = re.compile(lexicon.negation)
        self._unless: dict[str, re.Pattern[str]] = {}
        self.skill_split = re.compile(lexicon.skill_split)
        self.spaced = lexicon.spaced
        terms = typed_variants(term_table(lexicon.terms))
        for literal in (*terms, *(a for p in self.patterns for a in p.anchors)):
            if self.normalize(literal) != literal:
                raise ValueError(f"{lexicon.lang} rules: {literal!r} is not in normal form "
                                 "(lower case, simplified characters)")
        # Anchors are found in the same pass as the terms (as prefixes: an anchor may end
        # inside a word); one inside a longer key is found through that key.
        anchors: dict[str, set[int]] = {}
        for index, pattern in enumerate(self.patterns):
            for anchor in pattern.anchors:
                anchors.setdefault(anchor, set()).add(index)
        prefixes = frozenset(anchors)
        self.keys: dict[str, _Key] = {}
        # one set of probes per set of patterns, shared by every key that needs it
        probes: dict[tuple[int, ...], tuple[_Probe, ...]] = {}
        guards: dict[str, str] = {}
        for key in set(terms) | prefixes:
            prefix = key in prefixes
            starting = [key]
            if prefix:
                starting = sorted((t for t in terms if key.startswith(t)), key=len, reverse=True)
            triggers = _triggers(key, anchors, self.spaced)
            self.keys[key] = _Key(
                prefix, tuple((t, terms[t], is_word_char(t[-1])) for t in starting),
                self._probes(triggers, probes),
            )
            if guard_anchors and not starting and (guard := self._guard(key, triggers)):
                guards[key] = guard
        self.trie = re.compile(_keys_regex(terms, prefixes, guards)) if terms or anchors else None

    def _guard(self, key: str, triggers: tuple[tuple[int, int], ...]) -> str | None:
        """What must follow a key that is only an anchor for one of the patterns it
        triggers to match (``openings.after``), as a look-ahead behind the key in the
        trie: the trie finds the key only there, so most places a common word ("i",
        "the", "a") starts no pattern fail inside ``re`` a character or two after the
        word and never reach Python (where the probes still decide).

        Only for a key no other key can start inside (one word of letters and digits;
        one character where words are not spaced), so passing over it hides nothing,
        and whose patterns all start where it does."""
        atomic = key.isascii() and key.isalnum() if self.spaced else len(key) == 1
        if not atomic or any(offset for _, offset in triggers):
            return None
        follows = after(key, [self.patterns[index].regex.pattern for index, _ in triggers])
        return None if follows is None else f"(?={follows})"

    def _probes(self, triggers: Iterable[tuple[int, int]],
                known: dict[tuple[int, ...], tuple[_Probe, ...]],
                ) -> tuple[tuple[int, tuple[_Probe, ...]], ...]:
        """The triggers grouped by offset: the probes to try at each position of a key."""
        by_offset: dict[int, list[int]] = {}
        for index, offset in triggers:
            by_offset.setdefault(offset, []).append(index)
        out = []
        for offset in sorted(by_offset):
            indexes = tuple(sorted(by_offset[offset]))
            if indexes not in known:
                known[indexes] = _probes_for(self.patterns, indexes)
            out.append((offset, known[indexes]))
        return tuple(out)

    def normalize(self, text: str) -> str:
        """Lower-case and fold variants, keeping every character at its offset."""
        low = text.lower()
        if len(low) != len(text):  # a few characters lower-case to two
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        if self._foldable.search(low) is None:
            return low
        return low.translate(self.translate)

    def negated(self, low: str, start: int) -> bool:
        return self.negation.search(low, max(0, start - self.lexicon.window), start) is not None

    def scan(self, low: str) -> Scan:
        """Every tag of the lexicon that occurs in ``low``, with its spans."""
        found = Scan({}, {}, [])
        negatable = self.lexicon.negatable
        # pattern index -> (start, end, evidence span or None) of each of its matches
        # where one of its anchors starts
        matches: dict[int, list[tuple[int, int, Span | None]]] = {}
        if self.trie is not None:
            keys = self.keys
            add = self._add
            for m in self.trie.finditer(low):
                text = m.group()
                key = keys.get(text) or keys.get(" ".join(text.split()))
                if key is None:  # cannot happen for normalised text; never fail on input
                    continue
                start = m.start()
                for offset, probes in key.probes:
                    pos = start + offset
                    for match, checks in probes:
                        found_here = match(low, pos)
                        if found_here is not None:
                            _note(found_here, pos, checks, matches)
                if not key.prefix:
                    add(low, found, key.terms[0][1], m.span(), start, negatable)
                    continue
                for term, tags, must_end in key.terms:
                    end = start + len(term)
                    if must_end and not _ends_word(low, end):
                        continue
                    add(low, found, tags, (start, end), start, negatable)
                    break
        for index in sorted(self._unanchored.union(matches)):  # in the lexicon's order
            pattern = self.patterns[index]
            if not pattern.anchors:
                for m in pattern.regex.finditer(low):
                    evidence = next((m.span(g) for g in pattern.groups if m.start(g) >= 0),
                                    None)
                    self._accept(pattern, m.start(), m.end(), evidence, low, found, negatable)
                continue
            end = tried = -1
            for start, stop, evidence in sorted(matches[index]):
                if start < end or start == tried:
                    continue  # inside the previous match, or tried already
                tried = start
                if self._accept(pattern, start, stop, evidence, low, found, negatable):
                    end = stop
        return found

    def _accept(self, pattern: CompiledPattern, start: int, stop: int, evidence: Span | None,
                low: str, found: Scan, negatable: frozenset[str]) -> bool:
        if self.spaced and start and is_word_char(low[start]) and is_word_char(low[start - 1]):
            return False  # starts inside a word
        back = max(0, start - CONTEXT_CHARS)
        if pattern.not_after is not None and pattern.not_after.search(low, back, start):
            return False
        if pattern.after is not None:
            context = pattern.after.search(low, back, start)
            if context is None:
                return False
            start = context.start()
        self._add(low, found, pattern.tags, evidence or (start, stop), start, negatable)
        return True

    def _unless_regex(self, source: str) -> re.Pattern[str]:
        regex = self._unless.get(source)
        if regex is None:
            regex = self._unless[source] = re.compile(optimize_regex(source))
        return regex

    def _add(self, low: str, found: Scan, meanings: Iterable[TagRule], span: Span, start: int,
             negatable: frozenset[str]) -> None:
        negated: bool | None = None
        for tag, rule, unless in meanings:
            if tag in negatable:
                if negated is None:
                    negated = self.negated(low, start)
                if negated:
                    found.dropped.append((tag, span, rule, "negated"))
                    continue
            if unless:
                left, right = sentence_bounds(low, span[0], span[1])
                if self._unless_regex(unless).search(low, left, right):
                    found.dropped.append((tag, span, rule, "other sense"))
                    continue
            found.hits.setdefault(tag, []).append(span)
            found.origins[(tag, span[0], span[1])] = rule

    def find_names(self, low: str, names: Iterable[str | None]) -> list[Span]:
        """Where the given names (company, role) occur, as whole words."""
        spans: list[Span] = []
        for name in names:
            if not name or len(name.strip()) < 2:
                continue
            key = " ".join(self.normalize(name.strip()).split())
            start = low.find(key)
            while start != -1:
                end = start + len(key)
                left_ok = start == 0 or not (is_word_char(key[0]) and is_word_char(low[start - 1]))
                right_ok = end == len(low) or not (is_word_char(key[-1]) and is_word_char(low[end]))
                if left_ok and right_ok:
                    spans.append((start, end))
                start = low.find(key, end)
        return spans
