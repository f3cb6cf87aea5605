"""`leavewell analyze` without a subprocess: answer language, interface language,
detection and warnings (the subprocess runs are in test_console.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from leavewell.bot.analyze_cli import analyze_batch, analyze_one
from leavewell.bot.cli import main
from leavewell.dialogs.analyzer import finding_message

EN = "My boss was a jerk, and I want to grow into a data role."
ZH = "我的老板太差劲了，我想去更大的平台发展。"
MIXED_ZH = "我离开原来的公司是因为老板很差劲，其实 I want to grow"


def stdin(text: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8")


def messages(result: dict[str, Any]) -> list[str]:
    return [f["message"] for f in (*result["red_flags"], *result["improvements"])]


def test_explicit_language_with_matching_text() -> None:
    result = analyze_one(EN, "en", None)
    assert (result["lang"], result["answer_lang"], result["detected_lang"]) == ("en", "en", "en")
    assert result["ui_lang"] == "en" and "warning" not in result
    assert "trash_talk" in {f["id"] for f in result["red_flags"]}


def test_ui_language_is_separate_from_the_answer_language() -> None:
    result = analyze_one(EN, "en", None, ui_lang="zh")
    assert result["answer_lang"] == "en" and result["ui_lang"] == "zh"
    assert "trash_talk" in {f["id"] for f in result["red_flags"]}
    assert finding_message("trash_talk", "zh") in messages(result)
    # the evidence is still the English answer's own words
    assert all(e["text"] in EN for f in result["red_flags"] for e in f["evidence"])
    reverse = analyze_one(ZH, "zh", None, ui_lang="en")
    assert finding_message("trash_talk", "en") in messages(reverse)


def test_auto_detects_the_answer_language() -> None:
    zh = analyze_one(ZH, "auto", "employed")
    assert (zh["answer_lang"], zh["detected_lang"], zh["lang"]) == ("zh", "zh", "zh")
    assert zh["ui_lang"] == "zh" and zh["situation"] == "employed"
    en = analyze_one(EN, "auto", None, ui_lang="zh")
    assert (en["answer_lang"], en["ui_lang"]) == ("en", "zh")


def test_auto_uses_the_main_language_of_a_mixed_answer() -> None:
    result = analyze_one(MIXED_ZH, "auto", None)
    assert (result["detected_lang"], result["answer_lang"]) == ("mixed", "zh")
    assert "warning" not in result


def test_auto_refuses_an_answer_without_words() -> None:
    with pytest.raises(ValueError, match="no text in a known language"):
        analyze_one("🙂 👍 100%", "auto", None)


def test_explicit_language_is_obeyed_with_a_warning() -> None:
    result = analyze_one(ZH, "en", None)
    assert (result["answer_lang"], result["detected_lang"]) == ("en", "zh")
    assert result["warning"] == "answer looks like zh, analysed with en rules"
    result = analyze_one(EN, "zh", None)
    assert result["warning"] == "answer looks like en, analysed with zh rules"
    # no warning when the text is mixed: detected_lang says so
    assert "warning" not in analyze_one(MIXED_ZH, "en", None)


@pytest.mark.parametrize("lang", ["en", "zh", "auto"])
@pytest.mark.parametrize("answer", ["\u200b", "🙂 👍 🎉", "\u200b\u2060\ufeff", "... !!! 100%"])
def test_an_answer_without_words_is_never_scored(answer: str, lang: str) -> None:
    # issue 14: a zero-width space or three emoji were scored 53 "acceptable" unless auto
    with pytest.raises(ValueError, match=r"no words|no text"):
        analyze_one(answer, lang, None)


@pytest.mark.parametrize(("lang", "ui_lang"), [("fr", None), ("", None), ("en", "fr"),
                                               ("en", "auto")])
def test_unknown_languages_are_refused(lang: str, ui_lang: str | None) -> None:
    with pytest.raises(ValueError, match="unknown"):
        analyze_one(EN, lang, None, ui_lang)


def batch(tmp_path: Path, rows: list[Any], lang: str,
          ui_lang: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    path = tmp_path / "answers.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                    encoding="utf-8")
    out = io.StringIO()
    errors = analyze_batch(path, lang, out, ui_lang)
    return errors, [json.loads(line) for line in out.getvalue().splitlines()]


def test_batch_rows_carry_their_languages(tmp_path: Path) -> None:
    errors, rows = batch(tmp_path, [
        {"answer": ZH, "lang": "auto", "id": "a"},
        {"answer": EN, "lang": "auto", "ui_lang": "zh"},
        {"answer": ZH},  # the default: en, with a warning
        {"answer": "🙂🙂", "lang": "auto"},
        {"answer": EN, "ui_lang": "de"},
        {"answer": EN, "lang": 5},
        {"answer": EN, "lang": "", "ui_lang": None, "situation": ["odd"]},
    ], "en")
    assert errors == 3
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert (rows[0]["answer_lang"], rows[0]["ui_lang"], rows[0]["id"]) == ("zh", "zh", "a")
    assert (rows[1]["answer_lang"], rows[1]["ui_lang"]) == ("en", "zh")
    assert rows[2]["warning"] == "answer looks like zh, analysed with en rules"
    assert rows[3] == {"row": 4, "error": "no text in a known language"}
    assert "ui_lang" in rows[4]["error"] and "lang" in rows[5]["error"]
    assert (rows[6]["answer_lang"], rows[6]["situation"]) == ("en", "unspecified")


def test_batch_defaults_come_from_the_command_line(tmp_path: Path) -> None:
    _, rows = batch(tmp_path, [{"answer": ZH}, {"answer": EN, "ui_lang": "en"}], "auto", "zh")
    assert [(r["answer_lang"], r["ui_lang"]) for r in rows] == [("zh", "zh"), ("en", "en")]


def test_batch_csv_with_empty_language_cells(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text(f'answer,lang,ui_lang\n"{EN}",,zh\n"{ZH}",auto,\n', encoding="utf-8")
    out = io.StringIO()
    assert analyze_batch(path, "en", out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["answer_lang"], r["ui_lang"], r["detected_lang"]) for r in rows] == [
        ("en", "zh", "en"), ("zh", "zh", "zh")]


def test_command_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", stdin(ZH))
    assert main(["analyze", "--lang", "auto", "--ui-lang", "en", "--situation", "employed"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["answer_lang"], result["ui_lang"], result["detected_lang"]) == (
        "zh", "en", "zh")
    assert finding_message("trash_talk", "en") in messages(result)

    monkeypatch.setattr("sys.stdin", stdin("🙂"))
    assert main(["analyze", "--lang", "auto"]) == 2
    assert "no text in a known language" in capsys.readouterr().err

    monkeypatch.setattr("sys.stdin", stdin(ZH))
    assert main(["analyze"]) == 0  # --lang defaults to en, as before
    result = json.loads(capsys.readouterr().out)
    assert result["answer_lang"] == "en" and result["warning"].startswith("answer looks like zh")


def test_command_line_rejects_an_unknown_ui_language(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--ui-lang", "auto"])
    assert "--ui-lang" in capsys.readouterr().err


def test_explain_shows_rules_signals_reason_and_dropped_matches() -> None:
    from leavewell.bot.analyze_cli import analyze_one

    result = analyze_one(
        "I want to grow into a lead role. My manager was a jerk, and I was not burned out. "
        "The pay was also low.", "en", "employed", explain=True)
    explained = result["explain"]
    assert explained["reason"]["headline"] == "growth"
    assert "pay" in explained["reason"]["stated"]
    by_id = {f["id"]: f for f in explained["findings"]}
    assert by_id["trash_talk"]["signal"] == "rule"
    assert by_id["trash_talk"]["matches"][0]["rule"].startswith("trash_talk.")
    assert by_id["trash_talk"]["matches"][0]["text"] == "jerk"
    assert by_id["pay_aside"]["signal"] == "reason" and by_id["pay_aside"]["points"] < 0
    dropped = {(d["text"], d["outcome"]) for d in explained["dropped"]}
    assert ("burned out", "negated") in dropped
    assert "explain" not in analyze_one("I want to grow.", "en", None)
