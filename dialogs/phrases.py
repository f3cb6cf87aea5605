"""Stronger English wordings for risky phrases, and Chinese glosses of harder words.

Both are data, validated when loaded (a problem raises ``ScriptError`` naming the file
and the field):

* ``scripts/phrases.yaml``: per finding id (a red flag or an improvement), entries of
  2 or 3 alternative English sentences, each with a Chinese gloss. An entry may have a
  ``when`` list of lower-case regular expressions that pick it for a quoted phrase
  ("boss" -> the manager rewrites); one entry per finding has no ``when``: the default.
* ``scripts/glossary.yaml``: ``word or phrase: Chinese gloss`` for the less common
  English of the model answers and of the alternatives.

    bank = default_phrase_bank()
    bank.suggest(analysis.to_dict())  # [{"finding", "phrase", "alternatives": [...]}]
    default_glossary().gloss(text)    # [{"word", "gloss"}]
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.findings import IMPROVEMENT_IDS, RED_FLAG_IDS

SCRIPTS_DIR = Path(__file__).parent / "scripts"
PHRASES_FILE = SCRIPTS_DIR / "phrases.yaml"
GLOSSARY_FILE = SCRIPTS_DIR / "glossary.yaml"

# Findings that can carry phrase help, gravest first: the order of suggestions.
PHRASE_FINDING_IDS: tuple[str, ...] = RED_FLAG_IDS + IMPROVEMENT_IDS
MIN_ALTERNATIVES, MAX_ALTERNATIVES = 2, 3
# The language of the answers the phrase bank covers.
PHRASE_LANG = "en"

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_ESCAPE = re.compile(r"\\.")
_SENTENCE_END = re.compile(r"[.!?;\n\u3002\uff01\uff1f\uff1b]")
_WORD_START = r"(?<![a-z0-9])"
_ENTRY_FIELDS = frozenset({"when", "alternatives"})
_ALTERNATIVE_FIELDS = frozenset({"text", "gloss"})


# -- loading -------------------------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(key, line)
        self.key = key
        self.line = line


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML keeps the
    last one silently, which would hide a duplicated glossary word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
            except TypeError:  # unhashable: the base class reports it
                break
            if duplicate:
                raise _DuplicateKey(key, key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> dict[Any, Any]:
    name = path.name
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except FileNotFoundError:
        raise ScriptError(f"{name}: file is missing") from None
    except _DuplicateKey as exc:
        raise ScriptError(f"{name}: {exc.key}: given twice (line {exc.line})") from None
    except yaml.YAMLError as exc:
        raise ScriptError(f"{name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ScriptError(f"{name}: must be a non-empty mapping at the top level")
    return data


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}: must be a non-empty text")
    return " ".join(value.split())


def _fields(value: Any, allowed: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScriptError(f"{where}: must be a mapping with {', '.join(sorted(allowed))}")
    for key in value:
        if key not in allowed:
            raise ScriptError(f"{where}: unknown field {key!r}")
    return value


# -- phrase bank -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alternative:
    text: str  # English
    gloss: str  # Chinese

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "gloss": self.gloss}


@dataclass(frozen=True, slots=True)
class PhraseEntry:
    finding: str
    index: int  # position under its finding id in the file
    when: tuple[str, ...]  # empty: the default entry
    alternatives: tuple[Alternative, ...]
    pattern: re.Pattern[str] | None  # the ``when`` items, each at a word start

    def matches(self, text: str) -> bool:
        """Whether a ``when`` item occurs at a word start in ``text`` (any case)."""
        return self.pattern is not None and self.pattern.search(_fold(text)) is not None


def _fold(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


def _when(value: Any, where: str) -> tuple[tuple[str, ...], re.Pattern[str]]:
    if not isinstance(value, list) or not value:
        raise ScriptError(f"{where}: must be a non-empty list of lower-case patterns")
    items: list[str] = []
    for i, raw in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(raw, str) or not raw.strip():
            raise ScriptError(f"{at}: must be a non-empty text")
        if _ESCAPE.sub("", raw) != _ESCAPE.sub("", raw).lower():
            raise ScriptError(f"{at}: must be lower case, got {raw!r}")
        try:
            compiled = re.compile(raw)
        except re.error as exc:
            raise ScriptError(f"{at}: not a valid regular expression: {exc}") from None
        if compiled.match("") is not None:
            raise ScriptError(f"{at}: matches an empty text, so it would match every phrase")
        items.append(raw)
    pattern = re.compile(_WORD_START + "(?:" + "|".join(f"(?:{w})" for w in items) + ")")
    return tuple(items), pattern


def _alternatives(value: Any, where: str, texts: dict[str, str]) -> tuple[Alternative, ...]:
    if not isinstance(value, list) or not MIN_ALTERNATIVES <= len(value) <= MAX_ALTERNATIVES:
        got = len(value) if isinstance(value, list) else type(value).__name__
        raise ScriptError(
            f"{where}: needs {MIN_ALTERNATIVES} to {MAX_ALTERNATIVES} alternatives, got {got}"
        )
    out: list[Alternative] = []
    for i, raw in enumerate(value):
        at = f"{where}[{i}]"
        fields = _fields(raw, _ALTERNATIVE_FIELDS, at)
        text = _text(fields.get("text"), f"{at}.text")
        if _HAN.search(text):
            raise ScriptError(f"{at}.text: must be English, without Chinese characters")
        key = text.casefold()
        if key in texts:
            raise ScriptError(f"{at}.text: duplicate of {texts[key]}")
        texts[key] = f"{at}.text"
        gloss = _text(fields.get("gloss"), f"{at}.gloss")
        if not _HAN.search(gloss):
            raise ScriptError(f"{at}.gloss: must contain Chinese")
        out.append(Alternative(text, gloss))
    return tuple(out)


class PhraseBank:
    """Alternatives per finding id; ``suggest`` picks the best ones for an analysis."""

    def __init__(self, entries: Mapping[str, tuple[PhraseEntry, ...]]) -> None:
        self._entries = dict(entries)

    @property
    def finding_ids(self) -> tuple[str, ...]:
        return tuple(fid for fid in PHRASE_FINDING_IDS if fid in self._entries)

    def entries(self, finding_id: str) -> tuple[PhraseEntry, ...]:
        return self._entries.get(finding_id, ())

    def alternatives(self) -> Iterator[tuple[PhraseEntry, Alternative]]:
        """Every alternative of the bank, with its entry."""
        for fid in self.finding_ids:
            for entry in self._entries[fid]:
                for alternative in entry.alternatives:
                    yield entry, alternative

    def entry_for(self, finding_id: str, phrase: str,
                  context: str | None = None) -> PhraseEntry | None:
        """The entry for a quoted phrase: the first whose ``when`` fits the phrase, else
        the first that fits its ``context`` (the sentence around it), else the default."""
        entries = self._entries.get(finding_id)
        if not entries:
            return None
        for text in (phrase, context):
            if text:
                for entry in entries:
                    if entry.matches(text):
                        return entry
        return self.default_entry(finding_id)

    def default_entry(self, finding_id: str) -> PhraseEntry | None:
        """The entry without ``when`` of a finding id (None if the bank has no entries)."""
        return next((e for e in self._entries.get(finding_id, ()) if e.pattern is None), None)

    def suggest(self, analysis: Mapping[str, Any], limit: int = 3, *,
                answer: str | None = None) -> list[dict[str, Any]]:
        """Stronger wordings for the phrases an English analysis quoted.

        ``analysis`` is ``Analysis.to_dict()`` (or the same shape from storage). Returns
        at most ``limit`` items ``{"finding", "phrase", "alternatives": [{"text",
        "gloss"}]}``, gravest finding first (red flags, then improvements, in the order
        of ``dialogs.findings``), one per distinct quoted phrase; ``phrase`` is the exact
        quoted text. A phrase whose entry was already suggested gets the default entry
        instead, or is skipped if that was suggested too: every item brings different
        advice. With ``answer`` (the text analysed), the sentence around a phrase also
        picks the entry ("my boss was a jerk" -> manager rewrites). Answers in other
        languages get none. Never raises on odd input.
        """
        if limit <= 0 or not isinstance(analysis, Mapping):
            return []
        if (analysis.get("lang") or PHRASE_LANG) != PHRASE_LANG:
            return []
        found: dict[str, Mapping[str, Any]] = {}
        for kind in ("red_flags", "improvements"):
            for finding in analysis.get(kind) or ():
                if isinstance(finding, Mapping) and isinstance(finding.get("id"), str):
                    found.setdefault(finding["id"], finding)
        out: list[dict[str, Any]] = []
        phrases: set[str] = set()
        used: set[tuple[str, int]] = set()
        for fid in self.finding_ids:
            finding = found.get(fid)
            if finding is None:
                continue
            evidences = finding.get("evidence")
            if not isinstance(evidences, list | tuple):
                continue
            for evidence in evidences:
                phrase = evidence.get("text") if isinstance(evidence, Mapping) else evidence
                if not isinstance(phrase, str) or not phrase.strip():
                    continue
                key = " ".join(phrase.casefold().split())
                if key in phrases:
                    continue
                phrases.add(key)
                entry = self.entry_for(fid, phrase, _sentence(answer, evidence, phrase))
                if entry is not None and (fid, entry.index) in used:
                    entry = self.default_entry(fid)  # fresh advice rather than none
                if entry is None or (fid, entry.index) in used:
                    continue
                used.add((fid, entry.index))
                out.append({
                    "finding": fid,
                    "phrase": phrase,
                    "alternatives": [a.to_dict() for a in entry.alternatives],
                })
                if len(out) >= limit:
                    return out
        return out


def _sentence(answer: str | None, evidence: Any, phrase: str) -> str | None:
    """The sentence of ``answer`` around the quoted phrase, if it can be found."""
    if not isinstance(answer, str) or not answer:
        return None
    start = evidence.get("start") if isinstance(evidence, Mapping) else None
    end = evidence.get("end") if isinstance(evidence, Mapping) else None
    if not (isinstance(start, int) and isinstance(end, int) and answer[start:end] == phrase
            and 0 <= start < end):
        start = answer.find(phrase)
        if start < 0:
            return None
        end = start + len(phrase)
    left = 0
    for m in _SENTENCE_END.finditer(answer, 0, start):
        left = m.end()
    right_m = _SENTENCE_END.search(answer, end)
    right = right_m.start() if right_m else len(answer)
    return answer[left:right]


def load_phrase_bank(path: Path = PHRASES_FILE) -> PhraseBank:
    """Load and validate a phrase bank; raises ``ScriptError`` naming file and field."""
    data = _read(path)
    name = path.name
    texts: dict[str, str] = {}
    bank: dict[str, tuple[PhraseEntry, ...]] = {}
    for fid, raw_entries in data.items():
        if fid not in PHRASE_FINDING_IDS:
            raise ScriptError(
                f"{name}: {fid}: unknown finding id (expected a red flag or improvement id)"
            )
        if not isinstance(raw_entries, list) or not raw_entries:
            raise ScriptError(f"{name}: {fid}: must be a non-empty list of entries")
        entries: list[PhraseEntry] = []
        default: int | None = None
        for i, raw in enumerate(raw_entries):
            where = f"{name}: {fid}[{i}]"
            fields = _fields(raw, _ENTRY_FIELDS, where)
            when: tuple[str, ...] = ()
            pattern: re.Pattern[str] | None = None
            if "when" in fields:
                when, pattern = _when(fields["when"], f"{where}.when")
            elif default is not None:
                raise ScriptError(f"{where}: a second default entry (without 'when'); "
                                  f"{fid}[{default}] is the default")
            else:
                default = i
            alternatives = _alternatives(fields.get("alternatives"), f"{where}.alternatives",
                                         texts)
            entries.append(PhraseEntry(fid, i, when, alternatives, pattern))
        if default is None:
            raise ScriptError(f"{name}: {fid}: needs a default entry (one without 'when')")
        bank[fid] = tuple(entries)
    return PhraseBank(bank)


@cache
def default_phrase_bank() -> PhraseBank:
    return load_phrase_bank()


# -- glossary --------------------------------------------------------------------------


class Glossary:
    """English words and phrases with short Chinese glosses."""

    def __init__(self, words: Mapping[str, str]) -> None:
        self.words: Mapping[str, str] = dict(words)
        keys = sorted(self.words, key=len, reverse=True)  # longest first
        body = "|".join(r"\s+".join(re.escape(part) for part in key.split()) for key in keys)
        self._regex = (
            re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])", re.IGNORECASE) if keys else None
        )

    def gloss(self, text: str, limit: int = 6) -> list[dict[str, str]]:
        """Entries found in ``text`` (any case, whole words, phrases across spaces), in
        order of first appearance, each once: ``[{"word", "gloss"}]``, at most ``limit``."""
        if self._regex is None or limit <= 0 or not isinstance(text, str):
            return []
        out: list[dict[str, str]] = []
        seen: set[str] = set()
        for m in self._regex.finditer(_fold(text)):
            word = " ".join(m.group().split())
            if word in seen:
                continue
            seen.add(word)
            out.append({"word": word, "gloss": self.words[word]})
            if len(out) >= limit:
                break
        return out


def load_glossary(path: Path = GLOSSARY_FILE) -> Glossary:
    """Load and validate a glossary; raises ``ScriptError`` naming file and entry."""
    data = _read(path)
    name = path.name
    words: dict[str, str] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key.strip():
            raise ScriptError(f"{name}: {key!r}: a word must be a text (quote it)")
        where = f"{name}: {key}"
        if key != key.lower():
            raise ScriptError(f"{where}: must be lower case")
        if key != " ".join(key.split()):
            raise ScriptError(f"{where}: extra spaces")
        if _HAN.search(key):
            raise ScriptError(f"{where}: must be English, without Chinese characters")
        gloss = _text(value, where)
        if not _HAN.search(gloss):
            raise ScriptError(f"{where}: the gloss must contain Chinese")
        words[key] = gloss
    return Glossary(words)


@cache
def default_glossary() -> Glossary:
    return load_glossary()
