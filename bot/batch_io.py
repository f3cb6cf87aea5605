"""Reading batch files and writing strict JSON lines, so that one bad row never costs
the others.

Input is read as bytes and decoded row by row: a JSONL line that is not UTF-8, not JSON,
too long, nested too deeply or holding a number Python refuses becomes an error for that
line alone. Output is strict JSON (no NaN or Infinity, no lone surrogates), whatever the
input held.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

MAX_LINE_BYTES = 1 << 20  # a JSONL line (one answer is a few KB; this bounds memory and time)
MAX_CSV_FIELD = 1 << 17  # Python's csv default, stated here so the README can say it
_READ_CHUNK = 1 << 16
_BOM = b"\xef\xbb\xbf"
_SURROGATE = re.compile("[\ud800-\udfff]")
# Line breaks that json.dumps leaves raw inside strings but str.splitlines (and some JSONL
# readers) split on: escaped, so one result is always one line.
_RAW_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


@dataclass(frozen=True, slots=True)
class Row:
    """One input row: its number (JSONL: line number; CSV: record number) and either the
    parsed value or why it could not be read."""

    number: int
    value: Any = None
    error: str | None = None


class NonFinite(str):
    """A JSON number Python would turn into NaN or ±Infinity, kept as its own text."""

    __slots__ = ()


def _number(text: str) -> float | NonFinite:
    value = float(text)
    return value if math.isfinite(value) else NonFinite(text)


def parse_json_line(text: str) -> Any:
    """Parse one JSONL line; raises ValueError with a message fit for an error line."""
    try:
        return json.loads(text, parse_float=_number, parse_constant=NonFinite)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as exc:
        if "digits" in str(exc):  # Python's guard against quadratic int parsing
            raise ValueError("an integer of more than 4,300 digits") from None
        raise ValueError(f"not usable JSON: {exc}") from None


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; None for a line longer than MAX_LINE_BYTES, whose
    rest is skipped without being held in memory."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := handle.readline(_READ_CHUNK)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1})"
                         ) from None


def read_jsonl(handle: BinaryIO) -> Iterator[Row]:
    """One Row per non-blank line; blank lines are skipped."""
    for number, raw in _lines(handle):
        if raw is None:
            yield Row(number, error=f"line longer than {MAX_LINE_BYTES:,} bytes")
            continue
        if number == 1:
            raw = raw.removeprefix(_BOM)
        try:
            text = _decode(raw)
            if not text.strip():
                continue
            yield Row(number, parse_json_line(text))
        except ValueError as exc:
            yield Row(number, error=str(exc))


def read_csv(handle: BinaryIO) -> Iterator[Row]:
    """One Row (a dict) per CSV record. Bytes that are not UTF-8 make their record an
    error; a record the csv module refuses (a field over MAX_CSV_FIELD, a NUL) too."""
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape",
                            newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield Row(1, error=f"unreadable CSV header: {exc}")
        return
    number = 0
    while True:
        number += 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(number, error=f"unreadable CSV record at line {reader.line_num}: {exc}")
            continue
        if any(_SURROGATE.search(field) for field in fields):
            yield Row(number, error=f"not UTF-8 text (CSV record ending at line "
                                    f"{reader.line_num})")
            continue
        yield Row(number, dict(zip(header, fields, strict=False)))


def read_rows(path: Path, handle: BinaryIO) -> Iterator[Row]:
    return read_csv(handle) if path.suffix.lower() == ".csv" else read_jsonl(handle)


def has_lone_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def json_safe(value: Any) -> Any:
    """A copy of `value` that strict JSON can carry: lone surrogates become U+FFFD,
    NaN/Infinity become their text, anything else that is not JSON its repr."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, NonFinite):
        return str(value)
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if has_lone_surrogate(value) else value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, dict):
        return {json_safe(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return json_safe(repr(value))


def dump_line(value: dict[str, Any]) -> str:
    """One strict JSON line (UTF-8 text, no NaN/Infinity, no line break but the last)."""
    text = json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False)
    return text.translate(_RAW_BREAKS) + "\n"


def write_line(out: TextIO, value: dict[str, Any]) -> None:
    line = dump_line(value)
    try:
        out.write(line)
    except UnicodeEncodeError:  # a terminal that is not UTF-8: escape instead
        out.write(json.dumps(json_safe(value), ensure_ascii=True, allow_nan=False) + "\n")
