"""Texts of the findings (name, message, tip, infer), loaded from ``scripts/findings_<lang>.yaml``.

Each file has one mapping ``findings`` with an entry for every id in
``dialogs.findings.ALL_FINDING_IDS``:

    findings:
      blame:
        name: short label
        message: one sentence, what was found and why it matters
        tip: the single change that helps most (red flags and improvements)
        infer: what an interviewer infers from such words (red flags and improvements)

The files are validated when loaded; any problem raises ``ScriptError`` naming the
file and the field, e.g. ``findings_zh.yaml: findings.blame.tip: missing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from dialogs.errors import ScriptError
from dialogs.findings import ALL_FINDING_IDS, IMPROVEMENT_IDS, RED_FLAG_IDS

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"
LANGS: tuple[str, ...] = ("en", "zh")
FIELDS: tuple[str, ...] = ("name", "message", "tip", "infer")
_NEEDS_ADVICE = frozenset(RED_FLAG_IDS + IMPROVEMENT_IDS)


@dataclass(frozen=True, slots=True)
class FindingText:
    name: str
    message: str
    tip: str = ""  # empty for strengths
    infer: str = ""  # empty for strengths


Catalog = Mapping[str, FindingText]


def _text(entry: Mapping[Any, Any], field: str, where: str, required: bool) -> str:
    if field not in entry or entry[field] is None:
        if required:
            raise ScriptError(f"{where}.{field}: missing")
        return ""
    value = entry[field]
    if not isinstance(value, str) or not value.strip():
        raise ScriptError(f"{where}.{field}: must be a non-empty string")
    return " ".join(value.split())


def parse_catalog(data: Any, name: str) -> dict[str, FindingText]:
    """Validate the parsed YAML of one findings file (``name`` is used in errors)."""
    if not isinstance(data, Mapping):
        raise ScriptError(f"{name}: must be a mapping at the top level")
    for key in data:
        if key != "findings":
            raise ScriptError(f"{name}: {key}: unknown key")
    findings = data.get("findings")
    if findings is None:
        raise ScriptError(f"{name}: findings: missing")
    if not isinstance(findings, Mapping):
        raise ScriptError(f"{name}: findings: must be a mapping of finding id to texts")
    for key in findings:
        if key not in ALL_FINDING_IDS:
            raise ScriptError(f"{name}: findings.{key}: unknown finding id")
    catalog: dict[str, FindingText] = {}
    for fid in ALL_FINDING_IDS:
        where = f"{name}: findings.{fid}"
        entry = findings.get(fid)
        if entry is None:
            raise ScriptError(f"{where}: missing")
        if not isinstance(entry, Mapping):
            raise ScriptError(f"{where}: must be a mapping with {', '.join(FIELDS)}")
        for key in entry:
            if key not in FIELDS:
                raise ScriptError(f"{where}.{key}: unknown field")
        catalog[fid] = FindingText(
            name=_text(entry, "name", where, required=True),
            message=_text(entry, "message", where, required=True),
            tip=_text(entry, "tip", where, required=fid in _NEEDS_ADVICE),
            infer=_text(entry, "infer", where, required=fid in _NEEDS_ADVICE),
        )
    return catalog


def load_catalog(path: Path) -> dict[str, FindingText]:
    """Load and validate one ``findings_<lang>.yaml`` file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(f"{path.name}: file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path.name}: cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_catalog(data, path.name)


def load_catalogs(directory: Path = SCRIPTS_DIR) -> dict[str, dict[str, FindingText]]:
    """Every language's catalog; each must cover every finding id."""
    return {lang: load_catalog(directory / f"findings_{lang}.yaml") for lang in LANGS}


@cache
def default_catalogs() -> Mapping[str, Catalog]:
    return load_catalogs()


@cache
def messages_for(lang: str) -> Mapping[str, str]:
    """Finding id -> message, for one language (cached)."""
    catalogs = default_catalogs()
    if lang not in catalogs:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGS}")
    return {fid: text.message for fid, text in catalogs[lang].items()}


def finding_field(finding_id: str, lang: str, field: str) -> str:
    """``name``, ``message``, ``tip`` or ``infer`` of a finding (``tip`` and ``infer``
    are "" for strengths)."""
    catalogs = default_catalogs()
    if lang not in catalogs:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGS}")
    if field not in FIELDS:
        raise ValueError(f"unknown field {field!r}; expected one of {FIELDS}")
    text = catalogs[lang].get(finding_id)
    if text is None:
        raise KeyError(finding_id)
    value: str = getattr(text, field)
    return value


def finding_message(finding_id: str, lang: str) -> str:
    return finding_field(finding_id, lang, "message")


def finding_tip(finding_id: str, lang: str) -> str:
    return finding_field(finding_id, lang, "tip")


def finding_name(finding_id: str, lang: str) -> str:
    return finding_field(finding_id, lang, "name")
