"""The analyzer's rules as data: one YAML file per finding in ``scripts/rules/``.

A finding file is a linter-style entry::

    id: trash_talk              # the file's name, too
    kind: red_flag              # red_flag | improvement | strength
    rank: 0                     # order among its kind: the gravest red flag first
    points: 35                  # deducted (red flags, improvements) or added (strengths)
    meaning: what it is, for whoever maintains the rules
    absent: growth              # improvements only: raised when this strength is missing
    raised_by: reason           # only through the reason table (rules/reasons.yaml), not
                                # by its own tags, which then state a reason
    texts:                      # per language: name, message, tip (not for strengths),
      en: {name: ..., message: ..., tip: ..., infer: ...}   # infer: what an interviewer infers
    suppressed_by:              # a variant tag cancelled by other evidence in the answer
      trash_talk~soft: [ownership]          # ... when the answer has this tag anywhere
      money_headline~want: [growth before]  # ... when this tag comes earlier
      trash_talk~soft: [money_headline~complaint around]  # ... when it overlaps this one
      oversharing~perf: [check:no_lesson]   # ... when the situation runs this check
    rules:                      # per answer language: what finds the evidence
      en:
        - id: words             # full id: trash_talk.words
          tags: trash_talk      # default: the finding id; "~variant" refines it
          terms: [jerk{,s} | idiot{,s}, ...]      # literal phrases, "|" between them
          unless: regex         # drop a match when its sentence matches (another sense)
        - id: was-bad
          anchors: difficult bad  # words a match must start with (see rules.Pattern)
          regex: ...
          after: ...            # context before the match (ends with $)
          not_after: ...
          examples:             # this entry's own family, run as tests: it must find
            fire: [...]         # its tags in each `fire` sentence and find nothing in
            quiet: [...]        # each `quiet` one (other rules and suppressions aside)
    examples:                   # run as tests: must fire / must not fire
      en: {fire: [...], quiet: [...]}   # an item is a string or {text:, situation:}

``signals.yaml`` declares tags that are not findings themselves (exit statements,
harmless phrases, reasons); ``languages.yaml`` how each language is read. Everything is
validated on load, and a problem raises ``ScriptError`` naming the file and the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from leavewell.dialogs.analyzer.rules import Lexicon, Pattern, RuleExamples, Term, words
from leavewell.dialogs.errors import ScriptError

RULES_DIR = Path(__file__).resolve().parent.parent / "scripts" / "rules"
LANGS: tuple[str, ...] = ("en", "zh")
KINDS: tuple[str, ...] = ("red_flag", "improvement", "strength")
TEXT_FIELDS: tuple[str, ...] = ("name", "message", "tip", "infer")
SIGNAL_FILES = frozenset({"signals", "languages", "reasons"})
_FINDING_KEYS = frozenset({"id", "kind", "rank", "points", "meaning", "absent", "texts",
                           "suppressed_by", "raised_by", "rules", "examples"})
_RULE_KEYS = frozenset({"id", "tags", "terms", "anchors", "regex", "after", "not_after",
                        "unless", "examples"})
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True, slots=True)
class FindingText:
    name: str
    message: str
    tip: str = ""  # empty for strengths
    infer: str = ""  # what an interviewer infers (red flags and improvements)


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    situation: str = "unspecified"


@dataclass(frozen=True, slots=True)
class Examples:
    fire: tuple[Example, ...] = ()
    quiet: tuple[Example, ...] = ()


@dataclass(frozen=True, slots=True)
class Suppression:
    """A condition that cancels a variant's matches: ``tag`` present in the answer
    (before the match when ``before``), or ``check`` run by the situation."""

    tag: str = ""
    before: bool = False
    around: bool = False  # the tag's match overlaps this one (the words mean that instead)
    check: str = ""

    def describe(self) -> str:
        if self.check:
            return f"check:{self.check}"
        return self.tag + (" before" if self.before else " around" if self.around else "")


@dataclass(frozen=True, slots=True)
class FindingRule:
    id: str
    kind: str
    rank: int
    points: float
    meaning: str
    texts: Mapping[str, FindingText]
    absent: str | None = None
    raised_by_reason: bool = False
    suppressed_by: Mapping[str, tuple[Suppression, ...]] = field(default_factory=dict)
    examples: Mapping[str, Examples] = field(default_factory=dict)
    file: str = ""


@dataclass(frozen=True, slots=True)
class Rulebook:
    findings: Mapping[str, FindingRule]  # red flags, improvements, strengths; each by rank
    lexicons: Mapping[str, Lexicon]
    # languages.yaml's `sentiment` section per language, read with the rest
    # (dialogs.analyzer.sentiment validates and compiles it)
    sentiment: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # languages.yaml's `tone` section per language (dialogs.analyzer.tone reads it)
    tone: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def ids(self, kind: str) -> tuple[str, ...]:
        return tuple(fid for fid, rule in self.findings.items() if rule.kind == kind)


# -- validation helpers ----------------------------------------------------------------


def _mapping(value: Any, where: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise ScriptError(f"{where}: must be a mapping")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}: must be a non-empty string")
    return value


def _text(value: Any, where: str) -> str:
    return " ".join(_string(value, where).split())


def _unknown(entry: Mapping[Any, Any], allowed: Iterable[str], where: str) -> None:
    for key in entry:
        if key not in allowed:
            raise ScriptError(f"{where}.{key}: unknown field")


def _regex(value: Any, where: str) -> str:
    source = _string(value, where)
    try:
        re.compile(source)
    except re.error as exc:
        raise ScriptError(f"{where}: not a valid regular expression: {exc}") from None
    return source


class _UniqueKeys(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping: PyYAML would keep
    the last one silently (a second ``examples:`` in a rule entry would hide the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
            except TypeError:  # unhashable: the base class reports it
                break
            if duplicate:
                raise ScriptError(f"line {key_node.start_mark.line + 1}: {key!r} is given "
                                  "twice in one mapping")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> Any:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path.name}: cannot be read: {exc}") from None
    try:
        return yaml.load(raw, Loader=_UniqueKeys)  # a SafeLoader: no arbitrary objects
    except ScriptError as exc:
        raise ScriptError(f"{path.name}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path.name}: not valid YAML: {exc}") from None


# -- parsing ---------------------------------------------------------------------------


def _parse_rule(entry: Any, owner: str, where: str) -> Term | Pattern:
    entry = _mapping(entry, where)
    _unknown(entry, _RULE_KEYS, where)
    rid = _string(entry.get("id"), f"{where}.id")
    if not _RULE_ID.match(rid):
        raise ScriptError(f"{where}.id: use lower-case letters, digits and '-'")
    rule = f"{owner}.{rid}"
    tags = " ".join(_string(entry.get("tags", owner), f"{where}.tags").split())
    unless = _regex(entry["unless"], f"{where}.unless") if "unless" in entry else ""
    examples = _rule_examples(entry.get("examples"), f"{where}.examples")
    if "terms" in entry:
        if "regex" in entry:
            raise ScriptError(f"{where}: has both terms and regex; use two entries")
        terms = entry["terms"]
        items = [terms] if isinstance(terms, str) else terms
        if not isinstance(items, list) or not items:
            raise ScriptError(f"{where}.terms: must be a string or a list of strings")
        phrases = " | ".join(_text(t, f"{where}.terms") for t in items)
        if "after" in entry or "not_after" in entry:  # a term has no regex to place them
            raise ScriptError(f"{where}: after and not_after need a regex, not terms")
        return Term(tags, phrases, rule, unless, examples)
    regex = _regex(entry.get("regex"), f"{where}.regex")
    anchors = entry.get("anchors", "")
    if not isinstance(anchors, str):
        raise ScriptError(f"{where}.anchors: must be a string of words")
    after = _regex(entry["after"], f"{where}.after") if "after" in entry else ""
    if after and not after.endswith("$"):
        raise ScriptError(f"{where}.after: must end with $ (it matches the text just before)")
    not_after = _regex(entry["not_after"], f"{where}.not_after") if "not_after" in entry else ""
    return Pattern(tags, " ".join(anchors.split()), regex, not_after, after, rule, unless,
                   examples)


def _rule_examples(data: Any, where: str) -> RuleExamples:
    """A rule entry's ``examples: {fire: [...], quiet: [...]}`` (sentences in the
    entry's language)."""
    if data is None:
        return RuleExamples()
    data = _mapping(data, where)
    _unknown(data, ("fire", "quiet"), where)
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("fire", "quiet"):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise ScriptError(f"{where}.{key}: must be a list of sentences")
        lists[key] = tuple(_string(item, f"{where}.{key}[{i}]") for i, item in enumerate(items))
    return RuleExamples(**lists)


def _parse_rules(data: Any, owner: str, where: str) -> dict[str, list[Term | Pattern]]:
    out: dict[str, list[Term | Pattern]] = {lang: [] for lang in LANGS}
    if data is None:
        return out
    data = _mapping(data, where)
    seen: set[tuple[str, str]] = set()
    for lang, entries in data.items():
        if lang not in LANGS:
            raise ScriptError(f"{where}.{lang}: unknown language; expected one of {LANGS}")
        if not isinstance(entries, list):
            raise ScriptError(f"{where}.{lang}: must be a list of rule entries")
        for index, entry in enumerate(entries):
            parsed = _parse_rule(entry, owner, f"{where}.{lang}[{index}]")
            if (lang, parsed.rule) in seen:
                raise ScriptError(f"{where}.{lang}[{index}].id: {parsed.rule} is declared twice")
            seen.add((lang, parsed.rule))
            out[lang].append(parsed)
    return out


def parse_examples(data: Any, where: str) -> dict[str, Examples]:
    """``examples: {en: {fire: [...], quiet: [...]}, zh: ...}``; an item is a text or
    ``{text, situation}``."""
    if data is None:
        return {}
    out: dict[str, Examples] = {}
    for lang, entry in _mapping(data, where).items():
        if lang not in LANGS:
            raise ScriptError(f"{where}.{lang}: unknown language")
        entry = _mapping(entry, f"{where}.{lang}")
        _unknown(entry, ("fire", "quiet"), f"{where}.{lang}")
        lists: dict[str, tuple[Example, ...]] = {}
        for key in ("fire", "quiet"):
            items = entry.get(key, [])
            if not isinstance(items, list):
                raise ScriptError(f"{where}.{lang}.{key}: must be a list")
            parsed = []
            for i, item in enumerate(items):
                at = f"{where}.{lang}.{key}[{i}]"
                if isinstance(item, str):
                    parsed.append(Example(_string(item, at)))
                else:
                    item = _mapping(item, at)
                    _unknown(item, ("text", "situation"), at)
                    parsed.append(Example(_string(item.get("text"), f"{at}.text"),
                                          _string(item.get("situation", "unspecified"),
                                                  f"{at}.situation")))
            lists[key] = tuple(parsed)
        out[lang] = Examples(**lists)
    return out


def _parse_suppressions(data: Any, fid: str, where: str) -> dict[str, tuple[Suppression, ...]]:
    if data is None:
        return {}
    out: dict[str, tuple[Suppression, ...]] = {}
    for tag, conditions in _mapping(data, where).items():
        if not isinstance(tag, str) or tag.split("~")[0] != fid:
            raise ScriptError(f"{where}.{tag}: must be a tag of this finding ({fid}~...)")
        if not isinstance(conditions, list) or not conditions:
            raise ScriptError(f"{where}.{tag}: must be a list of conditions")
        parsed = []
        for condition in conditions:
            text = _string(condition, f"{where}.{tag}")
            if text.startswith("check:"):
                parsed.append(Suppression(check=text.removeprefix("check:")))
            elif text.endswith(" before"):
                parsed.append(Suppression(tag=text.removesuffix(" before").strip(), before=True))
            elif text.endswith(" around"):
                parsed.append(Suppression(tag=text.removesuffix(" around").strip(), around=True))
            else:
                parsed.append(Suppression(tag=text))
        out[tag] = tuple(parsed)
    return out


def _parse_texts(data: Any, kind: str, where: str) -> dict[str, FindingText]:
    data = _mapping(data, where)
    texts: dict[str, FindingText] = {}
    for lang in LANGS:
        at = f"{where}.{lang}"
        if lang not in data:
            raise ScriptError(f"{at}: missing")
        entry = _mapping(data[lang], at)
        _unknown(entry, TEXT_FIELDS, at)
        for name in ("name", "message") + (("tip", "infer") if kind != "strength" else ()):
            if name not in entry:
                raise ScriptError(f"{at}.{name}: missing")
        texts[lang] = FindingText(**{k: _text(v, f"{at}.{k}") for k, v in entry.items()})
    for lang in data:
        if lang not in LANGS:
            raise ScriptError(f"{where}.{lang}: unknown language")
    return texts


def _raised_by(value: Any, name: str) -> bool:
    if value is None:
        return False
    if value != "reason":
        raise ScriptError(f"{name}: raised_by: the only value is 'reason'")
    return True


def parse_finding(data: Any, name: str) -> tuple[FindingRule, dict[str, list[Term | Pattern]]]:
    """Validate one finding file (``name`` is its file name, used in errors)."""
    data = _mapping(data, name)
    _unknown(data, _FINDING_KEYS, name)
    fid = _string(data.get("id"), f"{name}: id")
    if not _ID.match(fid) or f"{fid}.yaml" != name:
        raise ScriptError(f"{name}: id: {fid!r} must be lower_case and match the file name")
    kind = data.get("kind")
    if kind not in KINDS:
        raise ScriptError(f"{name}: kind: must be one of {KINDS}")
    rank, points = data.get("rank"), data.get("points")
    if not isinstance(rank, int) or isinstance(rank, bool):
        raise ScriptError(f"{name}: rank: must be a whole number")
    if not isinstance(points, int | float) or isinstance(points, bool) or points < 0:
        raise ScriptError(f"{name}: points: must be a number >= 0")
    absent = data.get("absent")
    if absent is not None and kind != "improvement":
        raise ScriptError(f"{name}: absent: only improvements are raised by an absence")
    finding = FindingRule(
        id=fid, kind=kind, rank=rank, points=float(points),
        meaning=_text(data.get("meaning"), f"{name}: meaning"),
        texts=_parse_texts(data.get("texts"), kind, f"{name}: texts"),
        absent=_string(absent, f"{name}: absent") if absent is not None else None,
        raised_by_reason=_raised_by(data.get("raised_by"), name),
        suppressed_by=_parse_suppressions(data.get("suppressed_by"), fid,
                                          f"{name}: suppressed_by"),
        examples=parse_examples(data.get("examples"), f"{name}: examples"),
        file=name,
    )
    return finding, _parse_rules(data.get("rules"), fid, f"{name}: rules")


def _language(data: Any, lang: str, rows: list[Term | Pattern], negatable: frozenset[str],
              where: str) -> Lexicon:
    entry = _mapping(data, where)
    terms = tuple(r for r in rows if isinstance(r, Term))
    patterns = tuple(r for r in rows if isinstance(r, Pattern))
    try:
        return Lexicon(
            lang=lang, terms=terms, patterns=patterns, negatable=negatable,
            negation=_regex(entry.get("negation"), f"{where}.negation"),
            window=int(entry.get("window", 40)),
            skill_split=_regex(entry.get("skill_split"), f"{where}.skill_split"),
            skill_stop=words(str(entry.get("skill_stop") or "")),
            skill_generic=words(str(entry.get("skill_generic") or "")),
            skill_max_words=int(entry.get("skill_max_words", 3)),
            spaced=bool(entry.get("spaced", True)),
        )
    except (TypeError, ValueError) as exc:
        raise ScriptError(f"{where}: {exc}") from None


def load_rulebook(directory: Path | None = None) -> Rulebook:
    """Every rule file of ``directory`` (default: ``RULES_DIR``, read when called),
    validated and put together."""
    directory = RULES_DIR if directory is None else directory
    if not directory.is_dir():
        raise ScriptError(f"{directory}: the rules folder is missing")
    findings: list[FindingRule] = []
    rows: dict[str, list[Term | Pattern]] = {lang: [] for lang in LANGS}
    for path in sorted(directory.glob("*.yaml")):
        if path.stem in SIGNAL_FILES:
            continue
        finding, rules = parse_finding(_read(path), path.name)
        findings.append(finding)
        for lang in LANGS:
            rows[lang].extend(rules[lang])
    signals = _mapping(_read(directory / "signals.yaml"), "signals.yaml")
    _unknown(signals, ("rules",), "signals.yaml")
    for lang, extra in _parse_rules(signals.get("rules"), "signal", "signals.yaml: rules").items():
        rows[lang].extend(extra)
    settings = _mapping(_read(directory / "languages.yaml"), "languages.yaml")
    _unknown(settings, ("negatable", "languages", "sentiment", "tone"), "languages.yaml")
    negatable = settings.get("negatable")
    if not isinstance(negatable, list):
        raise ScriptError("languages.yaml: negatable: must be a list of tags")
    languages = _mapping(settings.get("languages"), "languages.yaml: languages")
    lexicons = {
        lang: _language(languages.get(lang), lang, rows[lang], frozenset(map(str, negatable)),
                        f"languages.yaml: languages.{lang}")
        for lang in LANGS
    }
    ordered = sorted(findings, key=lambda f: (KINDS.index(f.kind), f.rank, f.id))
    by_id = {f.id: f for f in ordered}
    for f in ordered:
        if f.absent is not None and (f.absent not in by_id or by_id[f.absent].kind != "strength"):
            raise ScriptError(f"{f.file}: absent: {f.absent!r} is not a strength")
        for tag, conditions in f.suppressed_by.items():
            for c in conditions:
                if c.check and (c.check not in by_id or by_id[c.check].kind != "improvement"):
                    raise ScriptError(f"{f.file}: suppressed_by.{tag}: unknown check {c.check}")
    sentiment = settings.get("sentiment") or {}
    if not isinstance(sentiment, Mapping):
        raise ScriptError("languages.yaml: sentiment: must be a mapping of language to settings")
    tone = settings.get("tone") or {}
    if not isinstance(tone, Mapping):
        raise ScriptError("languages.yaml: tone: must be a mapping of language to settings")
    return Rulebook(findings=by_id, lexicons=lexicons, sentiment=dict(sentiment),
                    tone=dict(tone))


@cache
def default_rulebook() -> Rulebook:
    return load_rulebook()
