"""What people type to the commands and prompts, in every language (scripts/words.yaml).

The code names each vocabulary and what its words may mean; the file lists the words.
Loaded and checked with the rest of the scripts (dialogs.script.load_script), so
`leavewell check` names any mistake by file and field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from leavewell.dialogs.errors import ScriptError

SWITCH: tuple[str, ...] = ("on", "off")
# Meanings known only when the scripts load: the language codes (dialogs.script.LANGS)
# and the situation ids of situations.yaml.
LANGUAGES, SITUATIONS = "languages", "situations"
# Each vocabulary: None for a list of words, else the meanings its words map to.
VOCABULARIES: Mapping[str, tuple[str, ...] | str | None] = {
    "skip": None,
    "languages": LANGUAGES,
    "lang_interview": None,
    "lang_hints": None,
    "hints_switch": SWITCH,
    "modes": ("coach", "skeptical"),  # dialogs.modes.MODES
    "why_disagree": None,
    "round_subcommands": ("start", "end", "status", "comment"),
    "round_options": ("situation", "window", "followups", "mode"),
    "round_each": None,
    "round_followups": SWITCH,
    "round_switch": SWITCH,
    "round_units": ("minute", "hour", "day", "week"),
    "round_situations": SITUATIONS,
}


@dataclass(frozen=True, slots=True)
class Words:
    """Every vocabulary with the words of all languages together."""

    lists: Mapping[str, frozenset[str]]  # list vocabularies: their words
    meanings: Mapping[str, Mapping[str, str]]  # the others: word -> meaning

    def words(self, vocabulary: str) -> frozenset[str]:
        return self.lists[vocabulary]

    def meaning(self, vocabulary: str) -> Mapping[str, str]:
        return self.meanings[vocabulary]


def load_words(data: Mapping[str, Any], name: str, langs: Collection[str],
               situation_ids: Collection[str]) -> Words:
    """Check the parsed words file (`name` for messages) and join its languages."""
    for lang in langs:
        if lang not in data:
            raise ScriptError(f"{name}: {lang}: missing (every language lists its words)")
    for lang in data:
        if lang not in langs:
            raise ScriptError(f"{name}: {lang}: unknown language")
    loaded: dict[str, tuple[str, ...]] = {LANGUAGES: tuple(langs),
                                          SITUATIONS: tuple(situation_ids)}
    lists: dict[str, set[str]] = {v: set() for v, kind in VOCABULARIES.items() if kind is None}
    meanings: dict[str, dict[str, str]] = {v: {} for v in VOCABULARIES if v not in lists}
    for lang in langs:
        section = data[lang]
        if not isinstance(section, dict):
            raise ScriptError(f"{name}: {lang}: must be a mapping of vocabularies")
        for vocabulary in VOCABULARIES:
            if vocabulary not in section:
                raise ScriptError(f"{name}: {lang}.{vocabulary}: missing")
        for vocabulary, raw in section.items():
            where = f"{name}: {lang}.{vocabulary}"
            if vocabulary not in VOCABULARIES:
                raise ScriptError(f"{where}: unknown vocabulary")
            kind = VOCABULARIES[vocabulary]
            if kind is None:
                lists[vocabulary].update(_word_list(raw, where))
                continue
            known = loaded[kind] if isinstance(kind, str) else kind
            if not isinstance(raw, dict) or not raw:
                raise ScriptError(f"{where}: must map meanings to lists of words")
            table = meanings[vocabulary]
            for meaning, words in raw.items():
                if meaning not in known:
                    raise ScriptError(f"{where}.{meaning}: unknown meaning; one of "
                                      f"{sorted(known)}")
                for word in _word_list(words, f"{where}.{meaning}"):
                    if table.setdefault(word, meaning) != meaning:
                        raise ScriptError(f"{where}.{meaning}: {word!r} already means "
                                          f"{table[word]!r}")
    return Words(
        lists={v: frozenset(words) for v, words in lists.items()},
        meanings=meanings,
    )


def _word_list(raw: Any, where: str) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise ScriptError(f"{where}: must be a non-empty list of words")
    seen: set[str] = set()
    for word in raw:
        if not isinstance(word, str) or not word.strip():
            raise ScriptError(f"{where}: {word!r} is not a word (quote on, off, yes, no "
                              f"and numbers)")
        if word != word.strip().casefold():
            raise ScriptError(f"{where}: {word!r}: write it in lower case, no spaces around")
        if word in seen:
            raise ScriptError(f"{where}: {word!r} is listed twice")
        seen.add(word)
    return list(raw)


def default_words() -> Words:
    """The shipped words, loaded (and checked) once with the shipped scripts."""
    from leavewell.dialogs.script import default_script

    return default_script().words
