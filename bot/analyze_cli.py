"""`leavewell analyze`: the answer analyzer for mentors and scripts, as JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from dialogs.analyzer import analyze
from dialogs.script import LANGS, default_script


def analyze_one(answer: str, lang: str, situation: str | None) -> dict[str, Any]:
    if lang not in LANGS:
        raise ValueError(f"unknown lang {lang!r} (use one of {', '.join(LANGS)})")
    spec = default_script().situation(situation)  # unknown ids fall back to unspecified
    result = analyze(answer, lang=lang, rubric=spec.rubric).to_dict()
    result["situation"] = spec.id
    return result


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        if path.suffix.lower() == ".csv":
            for number, row in enumerate(csv.DictReader(handle), 1):
                yield number, row
            return
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, ValueError(f"not valid JSON: {exc.msg}")


def analyze_batch(path: Path, default_lang: str, out: TextIO) -> int:
    """Write one JSON line per input row; a bad row gets an error line, never a crash.
    Returns the number of rows with errors."""
    errors = 0
    for number, row in _rows(path):
        try:
            if isinstance(row, Exception):
                raise row
            if not isinstance(row, dict):
                raise ValueError("a row must be an object with an 'answer' field")
            answer = row.get("answer")
            if not isinstance(answer, str) or not answer.strip():
                raise ValueError("missing or empty 'answer'")
            lang = (row.get("lang") or default_lang).strip()
            situation = row.get("situation") or None
            result: dict[str, Any] = {"row": number, **analyze_one(answer, lang, situation)}
            if "id" in row:
                result["id"] = row["id"]
        except ValueError as exc:
            errors += 1
            result = {"row": number, "error": str(exc)}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return errors
