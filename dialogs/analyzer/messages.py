"""Texts of the findings (name, message, tip, infer), as the rule files declare them.

Each finding's texts live in its own rule file (``scripts/rules/<id>.yaml``, see
``dialogs.analyzer.rulebook``), beside its patterns and examples, so one finding is
one entry. This module serves them per language.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from leavewell.dialogs.analyzer.rulebook import LANGS, FindingText, default_rulebook

FIELDS: tuple[str, ...] = ("name", "message", "tip", "infer")

Catalog = Mapping[str, FindingText]


@cache
def default_catalogs() -> Mapping[str, Catalog]:
    """Language -> finding id -> texts."""
    findings = default_rulebook().findings
    return {lang: {fid: rule.texts[lang] for fid, rule in findings.items()} for lang in LANGS}


@cache
def messages_for(lang: str) -> Mapping[str, str]:
    """Finding id -> message, for one language (cached)."""
    catalogs = default_catalogs()
    if lang not in catalogs:
        raise ValueError(f"unsupported language {lang!r}; expected one of {LANGS}")
    return {fid: text.message for fid, text in catalogs[lang].items()}


def finding_field(finding_id: str, lang: str, field: str) -> str:
    """``name``, ``message``, ``tip`` or ``infer`` of a finding ("" where not declared)."""
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
