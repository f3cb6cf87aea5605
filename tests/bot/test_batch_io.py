"""`leavewell analyze --batch` never loses good rows and writes strict JSON only
(issue 14: one bad row used to kill the whole batch, and NaN ids came back as non-JSON)."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leavewell.bot.analyze_cli import analyze_batch
from leavewell.bot.batch_io import MAX_CSV_FIELD, MAX_LINE_BYTES
from tests.bot.test_console import leavewell

GOOD = "Our office closed after the merger. I led the billing migration and cut errors by 30%."
GOOD_LINE = json.dumps({"answer": GOOD, "id": "good"}).encode()


def strict_json(line: str) -> Any:
    """Parse as strict JSON: no NaN/Infinity, and text that encodes as UTF-8."""
    line.encode("utf-8")  # a lone surrogate would fail here

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    return json.loads(line, parse_constant=refuse)


def run_batch(tmp_path: Path, content: bytes, name: str = "rows.jsonl") -> list[dict[str, Any]]:
    path = tmp_path / name
    path.write_bytes(content)
    out = io.StringIO()
    analyze_batch(path, "en", out)
    text = out.getvalue()
    assert text == "" or text.endswith("\n")
    return [strict_json(line) for line in text.splitlines()]


BAD_LINES: dict[str, bytes] = {
    "not UTF-8": b'{"answer": "caf\xe9 job"}',
    "4,301-digit integer": b'{"answer": "x", "id": ' + b"7" * 4301 + b"}",
    "nested 1,500 deep": b'{"answer": "x", "id": ' + b"[" * 1500 + b"]" * 1500 + b"}",
    "lone surrogate in the answer": b'{"answer": "I left \\ud800 because"}',
    "not JSON": b"{answer: nope",
    "a JSON list": b"[1, 2]",
    "empty answer": b'{"answer": ""}',
    "zero-width space": b'{"answer": "\\u200b"}',
    "only emoji": '{"answer": "🙂👍🎉"}'.encode(),
    "too long": b'{"answer": "' + b"a" * MAX_LINE_BYTES + b'"}',
}


def test_every_bad_line_gets_its_own_error_and_good_rows_survive(tmp_path: Path) -> None:
    lines = [GOOD_LINE]
    for bad in BAD_LINES.values():
        lines += [bad, GOOD_LINE]
    rows = run_batch(tmp_path, b"\n".join(lines) + b"\n")
    assert [r["row"] for r in rows] == list(range(1, len(lines) + 1))
    assert all("score" in r and r["id"] == "good" for r in rows[::2])
    for (reason, _), row in zip(BAD_LINES.items(), rows[1::2], strict=True):
        assert set(row) <= {"row", "error", "id"} and row["error"], reason
    errors = [r["error"] for r in rows[1::2]]
    assert "not UTF-8" in errors[0] and "byte 0xe9" in errors[0]
    assert "4,300 digits" in errors[1] and "nested too deeply" in errors[2]
    assert "lone surrogate" in errors[3] and "not valid JSON" in errors[4]
    assert "no words" in errors[7] and "no words" in errors[8]
    assert "longer than" in errors[9]


def test_ids_that_are_not_json_safe_are_normalised(tmp_path: Path) -> None:
    answer = json.dumps(GOOD)
    content = "\n".join([
        f'{{"answer": {answer}, "id": NaN}}',
        f'{{"answer": {answer}, "id": -Infinity}}',
        f'{{"answer": {answer}, "id": 1e999}}',
        f'{{"answer": {answer}, "id": "a\\ud800b"}}',
        f'{{"answer": {answer}, "id": {{"k": [1.5, NaN]}}}}',
        f'{{"answer": {answer}, "id": 12345678901234567890123}}',
    ]).encode()
    rows = run_batch(tmp_path, content)
    assert [r["id"] for r in rows] == ["NaN", "-Infinity", "1e999", "a\ufffdb",
                                       {"k": [1.5, "NaN"]}, 12345678901234567890123]
    assert all("score" in r for r in rows)


def test_a_byte_order_mark_and_blank_lines_are_not_rows(tmp_path: Path) -> None:
    rows = run_batch(tmp_path, b"\xef\xbb\xbf" + GOOD_LINE + b"\n\n   \n" + GOOD_LINE)
    assert [(r["row"], "score" in r) for r in rows] == [(1, True), (4, True)]


def test_csv_rows_are_read_one_by_one(tmp_path: Path) -> None:
    content = b"\n".join([
        b"answer,id",
        b'"' + GOOD.encode() + b'",1',
        b'"caf\xe9 job",2',  # not UTF-8
        b'"' + GOOD.encode() + b'",3',
        b'"' + b"b" * (MAX_CSV_FIELD + 1) + b'",4',  # a field over the csv limit
        b'"' + GOOD.encode() + b'",5',
        b'"\xe2\x80\x8b",6',  # a zero-width space
        b'"' + GOOD.encode() + b'",7',
    ]) + b"\n"
    rows = run_batch(tmp_path, content, "rows.csv")
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r["id"] for r in rows if "score" in r] == ["1", "3", "5", "7"]
    assert "not UTF-8" in rows[1]["error"] and "field larger" in rows[3]["error"]
    assert "no words" in rows[5]["error"]


def test_the_command_keeps_going_past_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b"\n".join([GOOD_LINE, BAD_LINES["not UTF-8"],
                                 BAD_LINES["nested 1,500 deep"], GOOD_LINE]))
    done = subprocess.run([*leavewell(), "analyze", "--batch", str(path)],
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    rows = [strict_json(line) for line in done.stdout.decode("utf-8").splitlines()]
    assert [("score" in r, r["row"]) for r in rows] == [(True, 1), (False, 2), (False, 3),
                                                        (True, 4)]


# ------------------------------------------------------------------ properties

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats()
    | st.text() | st.sampled_from(["\ud800", "a\udfffb", "\u200b", "🙂"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5) | st.sampled_from(["answer", "id", "lang"]), inner,
                      max_size=4),
    max_leaves=12,
)
rows_as_objects = st.fixed_dictionaries(
    {"answer": json_values}, optional={"id": json_values, "lang": json_values,
                                       "ui_lang": json_values, "situation": json_values})
lines = st.one_of(
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")),
    json_values.map(lambda v: json.dumps(v).encode()),
    rows_as_objects.map(lambda v: json.dumps(v).encode()),
    rows_as_objects.map(lambda v: json.dumps(v, ensure_ascii=False).encode(
        "utf-8", "surrogatepass")),
    st.just(GOOD_LINE),
)


def _is_blank(line: bytes, first: bool) -> bool:
    if first:
        line = line.removeprefix(b"\xef\xbb\xbf")
    try:
        return not line.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(lines, min_size=1, max_size=8))
def test_any_bytes_give_one_strict_json_line_per_row(tmp_path: Path, batch: list[bytes]) -> None:
    rows = run_batch(tmp_path, b"\n".join(batch))
    expected = [n for n, line in enumerate(batch, 1) if not _is_blank(line, n == 1)]
    assert [r["row"] for r in rows] == expected
    by_row = {r["row"]: r for r in rows}
    for number, line in enumerate(batch, 1):
        if line == GOOD_LINE:
            assert "score" in by_row[number] and by_row[number]["id"] == "good"
        elif number in by_row:
            assert ("error" in by_row[number]) != ("score" in by_row[number])
