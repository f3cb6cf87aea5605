"""Load the interview declared as data (scripts/*.yaml) and validate it.

Every problem is reported as a ScriptError naming the file and the field, so a
mentor who edits a script sees exactly what to fix.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, TemplateSyntaxError

from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.events import COMMANDS
from leavewell.dialogs.findings import ALL_FINDING_IDS, IMPROVEMENT_IDS
from leavewell.dialogs.followups import FollowupTable, load_table
from leavewell.dialogs.rubric import EXIT_KINDS, SituationRubric
from leavewell.dialogs.words import Words, load_words

LANGS: tuple[str, ...] = ("en", "zh")
SCRIPTS_DIR = Path(__file__).parent / "scripts"
TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATE_FILES: tuple[str, ...] = ("feedback", "history", "help", "round_summary", "round_report",
                                   "why")
INPUT_KINDS = frozenset({"choice", "text", "none"})
SITUATION_CHOICES = "situations"
# What may make a jump from any state (flow.yaml: jumps): a command, a button valid in
# every state (checked against the engine's own list), or one of these events.
JUMP_KINDS: tuple[str, ...] = ("commands", "buttons", "events")
JUMP_EVENTS: tuple[str, ...] = ("timeout", "round_invite")
# Further message files per feature, `<pack>_<lang>.yaml` with `messages` and `labels`:
# the English file declares the keys, every other language must translate exactly those.
MESSAGE_PACKS: tuple[str, ...] = ("rounds", "why", "interviewer")

# Message keys the engine sends; every language must define each one.
REQUIRED_MESSAGES: frozenset[str] = frozenset(
    {
        "welcome", "ask_lang", "ask_role", "ask_company", "ask_situation", "ask_detail",
        "main_question", "followup_question", "ask_next", "idle_hint", "stale_button",
        "pick_option", "empty_answer", "long_answer", "unsupported", "voice_received",
        "voice_needs_text", "unknown_command", "timeout", "stopped", "lang_set", "role_set",
        "role_cleared", "forget_confirm", "forgotten", "forget_cancelled", "export_ready",
        "nothing_to_retry", "unknown_situation", "followup_skipped", "go_private",
        "choice_made", "lang_menu", "interview_lang_set", "hints_set",
        "answer_other_language", "answer_mixed_language", "answer_no_words", "joined_round",
        "share_offer", "round_in_groups_only",
    }
)
REQUIRED_LABELS: frozenset[str] = frozenset(
    {"lang_en", "lang_zh", "skip", "retry", "another", "stop", "practice",
     "forget_yes", "forget_no", "open_private", "ui_en", "ui_zh", "interview_en",
     "interview_zh", "hints_on", "hints_off", "share_answer"}
)
REQUIRED_SIGNALS: frozenset[str] = frozenset(
    {"good_reason", "voluntary", "good_terms", "values",
     "verdict_yes", "verdict_unclear", "verdict_no"}
)
REQUIRED_VERDICTS: frozenset[str] = frozenset({"strong", "acceptable", "red_flag"})
SITUATION_TEXTS: tuple[str, ...] = ("label", "question", "skeleton")


@dataclass(frozen=True, slots=True)
class StateSpec:
    id: str
    prompt: str
    input: str
    choices: tuple[str, ...] | str
    skip: bool
    next: tuple[str, ...]


# What made a jump: (one of JUMP_KINDS, a command, button scope or event name).
Cause = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SituationSpec:
    id: str
    tense: str
    rubric: SituationRubric
    followups: tuple[str, ...]
    ask_detail: str | None


@dataclass(frozen=True, slots=True)
class Catalog:
    """All texts of one language, each a jinja2 template source."""

    lang: str
    labels: Mapping[str, str]
    situations: Mapping[str, Mapping[str, str]]
    placeholders: Mapping[str, str]
    details: Mapping[str, str]
    followups: Mapping[str, str]
    signals: Mapping[str, str]
    verdicts: Mapping[str, str]
    commands: Mapping[str, str]  # descriptions for the platforms' command menus
    messages: Mapping[str, str]

    def template_sources(self) -> dict[str, str]:
        """Every text as a named template: 'messages.welcome', 'situations.quit.question' ..."""
        sources: dict[str, str] = {}
        for section in ("labels", "placeholders", "details", "followups", "signals",
                        "verdicts", "commands", "messages"):
            for key, text in getattr(self, section).items():
                sources[f"{section}.{key}"] = text
        for sid, texts in self.situations.items():
            for key, text in texts.items():
                sources[f"situations.{sid}.{key}"] = text
        return sources


@dataclass(frozen=True, slots=True)
class Script:
    start: str
    states: Mapping[str, StateSpec]
    jumps: Mapping[Cause, frozenset[str]]  # flow.yaml: jumps, the states each may reach
    situation_order: tuple[str, ...]
    situations: Mapping[str, SituationSpec]
    followup_table: FollowupTable
    catalogs: Mapping[str, Catalog]
    words: Words  # words.yaml: what people type to the commands

    def situation(self, situation_id: str | None) -> SituationSpec:
        return self.situations.get(situation_id or "", self.situations["unspecified"])

    def allows(self, here: str, there: str, cause: Cause | None) -> bool:
        """Whether flow.yaml declares going from `here` to `there`: as an answer to
        `here`'s prompt (its `next`), or as a jump `cause` may make from any state."""
        spec = self.states.get(here)
        if spec is not None and there in spec.next:
            return True
        return cause is not None and there in self.jumps.get(cause, ())


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScriptError(f"{path.name}: file is missing") from None
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ScriptError(f"{path.name}: must be a mapping at the top level")
    return data


def _mapping(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ScriptError(f"{where}: must be a mapping")
    return data


def _id_list(data: Any, where: str) -> tuple[str, ...]:
    if data is None:
        return ()
    if not isinstance(data, list | tuple) or not all(isinstance(x, str) and x for x in data):
        raise ScriptError(f"{where}: must be a list of ids")
    return tuple(data)


def _load_flow(path: Path) -> tuple[str, dict[str, StateSpec], dict[Cause, frozenset[str]]]:
    data = _read_yaml(path)
    name = path.name
    states: dict[str, StateSpec] = {}
    for sid, raw in _mapping(data.get("states"), f"{name}: states").items():
        where = f"{name}: states.{sid}"
        spec = _mapping(raw, where)
        kind = spec.get("input")
        if kind not in INPUT_KINDS:
            raise ScriptError(f"{where}.input: must be one of {sorted(INPUT_KINDS)}, got {kind!r}")
        choices = spec.get("choices", ())
        if choices != SITUATION_CHOICES:
            choices = _id_list(choices, f"{where}.choices")
        if kind == "choice" and not choices:
            raise ScriptError(f"{where}.choices: a choice state needs choices")
        prompt = spec.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise ScriptError(f"{where}.prompt: missing")
        states[sid] = StateSpec(
            id=sid,
            prompt=prompt,
            input=kind,
            choices=choices,
            skip=bool(spec.get("skip", False)),
            next=_id_list(spec.get("next"), f"{where}.next"),
        )
    start = data.get("start")
    if start not in states:
        raise ScriptError(f"{name}: start: unknown state {start!r}")
    for spec in states.values():
        for target in spec.next:
            if target not in states:
                raise ScriptError(f"{name}: states.{spec.id}.next: unknown state {target!r}")
    jumps = _load_jumps(data.get("jumps"), name, states)
    jumped_to = {target for targets in jumps.values() for target in targets}
    reached = {start, *jumped_to}
    queue = deque(reached)
    while queue:
        for target in states[queue.popleft()].next:
            if target not in reached:
                reached.add(target)
                queue.append(target)
    unreachable = sorted(set(states) - reached)
    if unreachable:
        raise ScriptError(f"{name}: states.{unreachable[0]}: unreachable from {start!r}")
    return start, states, jumps


def _load_jumps(data: Any, name: str, states: Mapping[str, StateSpec]
                ) -> dict[Cause, frozenset[str]]:
    jumps: dict[Cause, frozenset[str]] = {}
    for kind, causes in _mapping(data or {}, f"{name}: jumps").items():
        if kind not in JUMP_KINDS:
            raise ScriptError(f"{name}: jumps.{kind}: must be one of {list(JUMP_KINDS)}")
        known = {"commands": COMMANDS, "events": JUMP_EVENTS}.get(kind)
        for cause, targets in _mapping(causes, f"{name}: jumps.{kind}").items():
            where = f"{name}: jumps.{kind}.{cause}"
            if known is not None and cause not in known:
                raise ScriptError(f"{where}: unknown {kind[:-1]}; one of {list(known)}")
            ids = _id_list(targets, where)
            if not ids:
                raise ScriptError(f"{where}: lists no state")
            for target in ids:
                if target not in states:
                    raise ScriptError(f"{where}: unknown state {target!r}")
            jumps[(kind, cause)] = frozenset(ids)
    return jumps


def _load_situations(
    path: Path, followup_ids: set[str]
) -> tuple[tuple[str, ...], dict[str, SituationSpec]]:
    data = _read_yaml(path)
    name = path.name
    order = _id_list(data.get("order"), f"{name}: order")
    raw_situations = _mapping(data.get("situations"), f"{name}: situations")
    if "unspecified" not in raw_situations:
        raise ScriptError(f"{name}: situations.unspecified: missing (the fallback situation)")
    situations: dict[str, SituationSpec] = {}
    for sid, raw in raw_situations.items():
        where = f"{name}: situations.{sid}"
        spec = _mapping(raw, where)
        tense = spec.get("tense")
        if tense not in ("present", "past"):
            raise ScriptError(f"{where}.tense: must be 'present' or 'past'")
        checks = _id_list(spec.get("checks"), f"{where}.checks")
        for check in checks:
            if check not in IMPROVEMENT_IDS:
                raise ScriptError(f"{where}.checks: unknown check {check!r}")
        weights = _mapping(spec.get("weights") or {}, f"{where}.weights")
        for key, value in weights.items():
            if key not in IMPROVEMENT_IDS or not isinstance(value, int | float) or value <= 0:
                raise ScriptError(f"{where}.weights.{key}: unknown check or not a positive number")
        contradicts = _id_list(spec.get("contradicts"), f"{where}.contradicts")
        for kind in contradicts:
            if kind not in EXIT_KINDS:
                raise ScriptError(f"{where}.contradicts: unknown exit kind {kind!r}")
        own_exit = spec.get("exit")
        if own_exit is not None and own_exit not in EXIT_KINDS:
            raise ScriptError(f"{where}.exit: unknown exit kind {own_exit!r}")
        may_follow = _id_list(spec.get("may_follow"), f"{where}.may_follow")
        for kind in may_follow:
            if kind not in contradicts:
                raise ScriptError(f"{where}.may_follow: {kind!r} is not in contradicts")
        if may_follow and own_exit is None:
            raise ScriptError(f"{where}.may_follow: needs the situation's own exit")
        followups = _id_list(spec.get("followups"), f"{where}.followups")
        for fid in followups:
            if fid not in followup_ids:
                raise ScriptError(f"{where}.followups: unknown follow-up {fid!r}")
        rubric = SituationRubric(
            id=sid,
            checks=frozenset(checks) if checks else SituationRubric(id=sid).checks,
            weights={k: float(v) for k, v in weights.items()},
            contradicts=frozenset(contradicts),
            exit=own_exit,
            may_follow=frozenset(may_follow),
        )
        detail = spec.get("ask_detail")
        situations[sid] = SituationSpec(sid, tense, rubric, followups, detail)
    for sid in order:
        if sid not in situations:
            raise ScriptError(f"{name}: order: unknown situation {sid!r}")
    missing = sorted(set(situations) - set(order))
    if missing:
        raise ScriptError(f"{name}: order: situation {missing[0]!r} is declared but not listed")
    return order, situations


_SYNTAX = Environment()


def _check_template(source: str, where: str) -> None:
    try:
        _SYNTAX.parse(source)
    except TemplateSyntaxError as exc:
        raise ScriptError(f"{where}: template error: {exc.message}") from None


def _strings(data: Any, where: str, required: frozenset[str] | set[str]) -> dict[str, str]:
    section = _mapping(data, where)
    for key in sorted(required - set(section)):
        raise ScriptError(f"{where}.{key}: missing translation")
    for key, value in section.items():
        if key not in required:
            raise ScriptError(f"{where}.{key}: unknown key")
        if not isinstance(value, str) or not value.strip():
            raise ScriptError(f"{where}.{key}: must be a non-empty text")
        _check_template(value, f"{where}.{key}")
    return section


def _check_template_files(templates: Path) -> None:
    for lang in LANGS:
        for name in TEMPLATE_FILES:
            path = templates / lang / f"{name}.j2"
            where = f"templates/{lang}/{name}.j2"
            if not path.is_file():
                raise ScriptError(f"{where}: missing template")
            _check_template(path.read_text(encoding="utf-8"), where)


def _load_catalog(
    path: Path,
    lang: str,
    situation_ids: set[str],
    followup_ids: set[str],
    detail_ids: set[str],
    placeholder_ids: set[str],
    labels: set[str],
) -> Catalog:
    data = _read_yaml(path)
    name = path.name
    if data.get("lang") != lang:
        raise ScriptError(f"{name}: lang: must be {lang!r}")
    raw_situations = _mapping(data.get("situations"), f"{name}: situations")
    situations: dict[str, dict[str, str]] = {}
    for sid in sorted(situation_ids - set(raw_situations)):
        raise ScriptError(f"{name}: situations.{sid}: missing translation")
    for sid, texts in raw_situations.items():
        if sid not in situation_ids:
            raise ScriptError(f"{name}: situations.{sid}: unknown situation")
        situations[sid] = _strings(texts, f"{name}: situations.{sid}", set(SITUATION_TEXTS))
    return Catalog(
        lang=lang,
        labels=_strings(data.get("labels"), f"{name}: labels", labels),
        situations=situations,
        placeholders=_strings(data.get("placeholders"), f"{name}: placeholders", placeholder_ids),
        details=_strings(data.get("details"), f"{name}: details", detail_ids),
        followups=_strings(data.get("followups"), f"{name}: followups", followup_ids),
        signals=_strings(data.get("signals"), f"{name}: signals", REQUIRED_SIGNALS),
        verdicts=_strings(data.get("verdicts"), f"{name}: verdicts", REQUIRED_VERDICTS),
        commands=_strings(data.get("commands"), f"{name}: commands", frozenset(COMMANDS)),
        messages=_strings(data.get("messages"), f"{name}: messages", REQUIRED_MESSAGES),
    )


def load_script(directory: Path = SCRIPTS_DIR, templates: Path = TEMPLATES_DIR) -> Script:
    """Read and cross-check flow.yaml, situations.yaml, followups.yaml, words.yaml and
    one catalog per language."""
    _check_template_files(templates)
    start, states, jumps = _load_flow(directory / "flow.yaml")
    reference = _read_yaml(directory / "en.yaml")
    followup_ids = set(_mapping(reference.get("followups"), "en.yaml: followups"))
    detail_ids = set(_mapping(reference.get("details"), "en.yaml: details"))
    placeholder_ids = set(_mapping(reference.get("placeholders"), "en.yaml: placeholders"))
    order, situations = _load_situations(directory / "situations.yaml", followup_ids)
    followup_table = load_table(_read_yaml(directory / "followups.yaml"), "followups.yaml",
                                followup_ids, ALL_FINDING_IDS)
    for spec in situations.values():
        if spec.ask_detail is not None and spec.ask_detail not in detail_ids:
            raise ScriptError(
                f"situations.yaml: situations.{spec.id}.ask_detail: unknown detail "
                f"{spec.ask_detail!r}"
            )
    labels = set(REQUIRED_LABELS)
    for state in states.values():
        if isinstance(state.choices, tuple):
            labels.update(state.choices)
    catalogs = {
        lang: _load_catalog(
            directory / f"{lang}.yaml", lang, set(situations), followup_ids, detail_ids,
            placeholder_ids, labels,
        )
        for lang in LANGS
    }
    for pack in MESSAGE_PACKS:
        catalogs = _merge_pack(directory, pack, catalogs)
    words = load_words(_read_yaml(directory / "words.yaml"), "words.yaml", LANGS, order)
    for state in states.values():
        if state.prompt not in REQUIRED_MESSAGES:
            raise ScriptError(f"flow.yaml: states.{state.id}.prompt: unknown message "
                              f"{state.prompt!r}")
    return Script(
        start=start,
        states=states,
        jumps=jumps,
        situation_order=order,
        situations=situations,
        followup_table=followup_table,
        catalogs=catalogs,
        words=words,
    )


def _merge_pack(directory: Path, pack: str, catalogs: dict[str, Catalog]) -> dict[str, Catalog]:
    reference = _read_yaml(directory / f"{pack}_en.yaml")
    keys = {
        section: set(_mapping(reference.get(section) or {}, f"{pack}_en.yaml: {section}"))
        for section in ("messages", "labels")
    }
    merged = {}
    for lang, catalog in catalogs.items():
        name = f"{pack}_{lang}.yaml"
        data = _read_yaml(directory / name)
        if data.get("lang") != lang:
            raise ScriptError(f"{name}: lang: must be {lang!r}")
        sections = {}
        for section, wanted in keys.items():
            texts = _strings(data.get(section) or {}, f"{name}: {section}", wanted)
            clash = sorted(set(texts) & set(getattr(catalog, section)))
            if clash:
                raise ScriptError(f"{name}: {section}.{clash[0]}: already defined in {lang}.yaml")
            sections[section] = {**getattr(catalog, section), **texts}
        merged[lang] = replace(catalog, **sections)
    return merged


@cache
def default_script() -> Script:
    return load_script()
