"""`leavewell analyze`: the answer analyzer for mentors and scripts, as JSON.

Two languages per answer: the answer's own (``lang``: the rules; ``auto`` detects it)
and the interface's (``ui_lang``: the language of the finding messages, by default
the answer's). Every result says which language the answer looked like
(``detected_lang``) and which rules were used (``answer_lang``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from leavewell.bot.batch_io import has_lone_surrogate, read_rows, write_line
from leavewell.dialogs.analyzer import analyze
from leavewell.dialogs.analyzer.explain import explain as explain_analysis
from leavewell.dialogs.language import detect_language
from leavewell.dialogs.script import LANGS, default_script

AUTO = "auto"
ANSWER_LANGS: tuple[str, ...] = (*LANGS, AUTO)
NO_TEXT = "no text in a known language"
NO_WORDS = "the answer has no words to score (only symbols, emoji or invisible characters)"


def analyze_one(answer: str, lang: str, situation: str | None,
                ui_lang: str | None = None, explain: bool = False) -> dict[str, Any]:
    """Analyse one answer. ``lang`` is "en", "zh" or "auto"; ``ui_lang`` ("en", "zh" or
    None: the answer's language) chooses the language of the messages.

    Raises ``ValueError`` for an unknown language and, whatever ``lang`` is, for an answer
    with no words (the chat refuses those too, by the same detection). ``explain`` adds
    what is behind the verdict (rules, signals, the stated reason, dropped matches). A
    mixed answer is analysed with the rules of its main language; an explicit ``lang`` is
    always obeyed, with a ``warning`` when the answer looks like the other language.
    """
    if lang not in ANSWER_LANGS:
        raise ValueError(f"unknown lang {lang!r} (use one of {', '.join(ANSWER_LANGS)})")
    if ui_lang is not None and ui_lang not in LANGS:
        raise ValueError(f"unknown ui_lang {ui_lang!r} (use one of {', '.join(LANGS)})")
    if has_lone_surrogate(answer):
        raise ValueError("the answer is not valid Unicode (it holds a lone surrogate)")
    detection = detect_language(answer)
    if detection.primary is None:  # what the chat calls "no_text" (answer_language_issue)
        raise ValueError(NO_TEXT if lang == AUTO else NO_WORDS)
    warning = None
    if lang == AUTO:
        answer_lang = detection.primary
    else:
        answer_lang = lang
        if detection.lang in LANGS and detection.lang != lang:
            warning = f"answer looks like {detection.lang}, analysed with {lang} rules"
    messages_lang = ui_lang or answer_lang
    spec = default_script().situation(situation)  # unknown ids fall back to unspecified
    analysis = analyze(answer, lang=answer_lang, rubric=spec.rubric,
                       messages_lang=messages_lang)
    result = analysis.to_dict()
    result["situation"] = spec.id
    result["detected_lang"] = detection.lang
    result["answer_lang"] = answer_lang
    result["ui_lang"] = messages_lang
    if warning is not None:
        result["warning"] = warning
    if explain:
        result["explain"] = explain_analysis(analysis)
    return result


def _optional_text(row: dict[str, Any], field: str) -> str | None:
    """A row's optional text field; missing, null and empty (CSV) all mean not given."""
    value = row.get(field)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field!r} must be a text")
    if has_lone_surrogate(value):
        raise ValueError(f"{field!r} is not valid Unicode (it holds a lone surrogate)")
    return value.strip() or None


def analyze_batch(path: Path, default_lang: str, out: TextIO,
                  default_ui_lang: str | None = None, explain: bool = False) -> int:
    """Write one strict JSON line per input row; a bad row gets an error line with its
    number, never a crash (see bot.batch_io for the limits). A row may carry its own
    ``lang`` (also "auto"), ``ui_lang``, ``situation`` and ``id`` (echoed back, made
    JSON-safe). Returns the number of rows with errors."""
    errors = 0
    with path.open("rb") as handle:
        for row in read_rows(path, handle):
            result = _analyze_row(row.number, row.value, row.error, default_lang,
                                  default_ui_lang, explain)
            errors += "error" in result
            write_line(out, result)
    return errors


def _analyze_row(number: int, row: Any, error: str | None, default_lang: str,
                 default_ui_lang: str | None, explain: bool) -> dict[str, Any]:
    try:
        if error is not None:
            raise ValueError(error)
        if not isinstance(row, dict):
            raise ValueError("a row must be an object with an 'answer' field")
        answer = row.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            raise ValueError("missing or empty 'answer'")
        lang = _optional_text(row, "lang") or default_lang
        ui_lang = _optional_text(row, "ui_lang") or default_ui_lang
        situation = row.get("situation")  # anything unknown counts as unspecified
        situation = situation.strip() if isinstance(situation, str) else None
        result: dict[str, Any] = {
            "row": number, **analyze_one(answer, lang, situation, ui_lang, explain)}
        if "id" in row:
            result["id"] = row["id"]
        return result
    except (ValueError, RecursionError) as exc:
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        failed: dict[str, Any] = {"row": number, "error": message}
        if isinstance(row, dict) and "id" in row:
            failed["id"] = row["id"]
        return failed
