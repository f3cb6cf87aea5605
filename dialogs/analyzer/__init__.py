"""The answer analyzer: deterministic, explainable rules in English and Chinese.

    analyze(text, lang="en", rubric=rubric) -> Analysis

Rules are data: one file per finding in ``scripts/rules/`` (``rulebook``), matched by
``matcher``, judged with a sentiment lexicon (``sentiment``) and the stated reason
(``reasons``), and scored by ``analysis``.
"""

from __future__ import annotations

from leavewell.dialogs.analyzer import analysis
from leavewell.dialogs.analyzer.messages import (
    finding_field,
    finding_message,
    finding_name,
    finding_tip,
    messages_for,
)
from leavewell.dialogs.analyzer.rulebook import FindingText
from leavewell.dialogs.findings import Analysis
from leavewell.dialogs.rubric import SituationRubric

LANGS = analysis.LANGS


def analyze(
    text: str,
    *,
    lang: str,
    rubric: SituationRubric,
    voice_seconds: float | None = None,
    role: str | None = None,
    company: str | None = None,
    messages_lang: str | None = None,
) -> Analysis:
    """Analyse one answer to "why did you leave / are you leaving your job?".

    ``lang`` is the language of the answer (it chooses the rules); ``messages_lang``
    (default: ``lang``) the language of the finding messages. ``voice_seconds`` is the
    duration of a voice answer; without it the speaking time is estimated from the
    text. ``role`` and ``company`` count as links to the new role when mentioned.
    Raises ``ValueError`` for an unsupported language; never for odd text.
    """
    if lang not in LANGS:
        raise ValueError(f"unsupported answer language {lang!r}; expected one of {LANGS}")
    return analysis.analyze(
        text,
        lang=lang,
        rubric=rubric,
        messages=messages_for(messages_lang or lang),
        voice_seconds=voice_seconds,
        role=role,
        company=company,
    )


__all__ = [
    "LANGS",
    "FindingText",
    "analyze",
    "finding_field",
    "finding_message",
    "finding_name",
    "finding_tip",
    "messages_for",
]
