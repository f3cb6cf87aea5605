"""scripts/words.yaml: what people type to the commands, in English and Chinese, checked
on load; and the commands understand those words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from leavewell.dialogs.engine import Interviewer
from leavewell.dialogs.errors import ScriptError
from leavewell.dialogs.events import Command, Start, TextAnswer
from leavewell.dialogs.modes import MODES, parse_mode
from leavewell.dialogs.rounds.commands import parse_round_command, parse_start, parse_window
from leavewell.dialogs.script import LANGS, SCRIPTS_DIR, default_script, load_script
from leavewell.dialogs.words import SWITCH, VOCABULARIES


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    target = tmp_path / "scripts"
    shutil.copytree(SCRIPTS_DIR, target)
    return target


def edit_words(scripts: Path, change) -> None:
    path = scripts / "words.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_every_language_lists_every_vocabulary() -> None:
    raw = yaml.safe_load((SCRIPTS_DIR / "words.yaml").read_text(encoding="utf-8"))
    assert set(raw) == set(LANGS)
    for lang in LANGS:
        assert set(raw[lang]) == set(VOCABULARIES)


def test_the_meanings_are_the_codes() -> None:
    words = default_script().words
    assert set(VOCABULARIES["modes"]) == set(MODES)  # type: ignore[arg-type]
    assert set(words.meaning("modes").values()) == set(MODES)
    assert set(words.meaning("languages").values()) == set(LANGS)
    assert set(words.meaning("hints_switch").values()) == set(SWITCH)


@pytest.mark.parametrize(("change", "error"), [
    (lambda d: d.pop("zh"), r"words.yaml: zh: missing"),
    (lambda d: d.update(fr={}), r"words.yaml: fr: unknown language"),
    (lambda d: d["zh"].pop("skip"), r"words.yaml: zh.skip: missing"),
    (lambda d: d["en"].update(dance=["tango"]), r"words.yaml: en.dance: unknown vocabulary"),
    (lambda d: d["en"]["modes"].update(lenient=["soft"]),
     r"words.yaml: en.modes.lenient: unknown meaning"),
    (lambda d: d["en"]["round_situations"].update(retired=["old"]),
     r"words.yaml: en.round_situations.retired: unknown meaning"),
    (lambda d: d["en"]["hints_switch"].update({"on": [True]}),
     r"words.yaml: en.hints_switch.on: True is not a word"),
    (lambda d: d["en"].update(skip=["Skip"]), r"words.yaml: en.skip: 'Skip': write it in lower"),
    (lambda d: d["en"].update(skip=["skip", "skip"]), r"words.yaml: en.skip: 'skip' is listed"),
    (lambda d: d["en"].update(skip=[]), r"words.yaml: en.skip: must be a non-empty list"),
    (lambda d: d["zh"]["modes"]["coach"].append("tough"),
     r"words.yaml: zh.modes.coach: 'tough' already means 'skeptical'"),
])
def test_mistakes_are_named(scripts: Path, change, error: str) -> None:
    edit_words(scripts, change)
    with pytest.raises(ScriptError, match=error):
        load_script(scripts)


def test_an_edited_word_reaches_the_engine(scripts: Path) -> None:
    edit_words(scripts, lambda d: d["en"]["skip"].append("pas"))
    engine = Interviewer(script=load_script(scripts))
    first = engine.step({}, {}, Start(at=1, lang_hint="en"))
    result = engine.step(first.profile, first.state, TextAnswer(at=2, text="pas"))
    assert result.state["stage"] == "ask_company"  # the role was skipped


@pytest.mark.parametrize(("args", "lang", "interview", "hints"), [
    ("中文", "zh", None, True),
    ("英语 中文", "en", "zh", True),
    ("面试 中文", "en", "zh", True),
    ("提示 关闭", "en", None, False),
    ("hints 0", "en", None, False),
    ("Chinese English", "zh", "en", True),
])
def test_lang_understands_both_languages(args: str, lang: str, interview: str | None,
                                         hints: bool) -> None:
    engine = Interviewer()
    first = engine.step({}, {}, Start(at=1, lang_hint="en"))
    result = engine.step(first.profile, first.state, Command(at=2, name="lang", args=args))
    assert (result.profile["lang"], result.profile["interview_lang"],
            result.profile["hints"]) == (lang, interview, hints)


@pytest.mark.parametrize(("word", "mode"), [
    ("严格", "skeptical"), ("Tough", "skeptical"), ("教练", "coach"), ("easy", "coach"),
    ("lenient", None),
])
def test_mode_words(word: str, mode: str | None) -> None:
    assert parse_mode(word) == mode


def test_round_words_in_both_languages() -> None:
    assert parse_round_command("结束") == ("end", "")
    assert parse_round_command("") == ("status", "")
    assert parse_window("1小时30分钟") == 5400
    assert parse_window("2 hours") == 7200
    options = parse_start("情况=被裁 时长=3天 不追问 严格")
    assert (options.situation, options.window, options.followups, options.mode) == (
        "laid_off", 3 * 86400, False, "skeptical")
