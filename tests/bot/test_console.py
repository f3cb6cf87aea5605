"""The console adapter and the `leavewell` command, run as a user would run them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from leavewell.bot.app import run_practice
from leavewell.bot.console import parse_line
from leavewell.bot.settings import load_settings
from leavewell.dialogs.events import Command, TextAnswer

ANSWER = (
    "Our team was cut when the company lost its biggest client. I had led the move of our "
    "reporting to Python and saved 10 hours a week. My manager is one of my references, "
    "and I'm excited to grow into analytics engineering in this role."
)


def leavewell() -> list[str]:
    script = Path(sys.executable).parent / "leavewell"
    return [str(script)] if script.exists() else [sys.executable, "-m", "leavewell.bot.cli"]


def run_cli(args: list[str], stdin: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")
    }
    environment.update(
        LEAVEWELL_DATABASE_URL=f"sqlite:///{tmp_path / 'console.db'}",
        HOME=str(tmp_path),
        XDG_DATA_HOME=str(tmp_path / "data"),
        **env,
    )
    return subprocess.run(
        [*leavewell(), *args], input=stdin, capture_output=True, text=True,
        env=environment, timeout=60, check=False,
    )


def test_parse_line_commands_and_answers() -> None:
    assert parse_line("/lang zh\n", 1.0) == Command(at=1.0, name="lang", args="zh")
    assert parse_line("/ not a command\n", 1.0) == TextAnswer(at=1.0, text="/ not a command")
    assert parse_line("hello\n", 1.0) == TextAnswer(at=1.0, text="hello")


def test_piped_interview_plays_to_the_end_and_exits_zero(tmp_path: Path) -> None:
    lines = ["Data analyst", "Acme", "2", ANSWER, "I stay in touch with my manager.",
             "Because Acme builds the tools I use every day.", "3"]
    result = run_cli(["practice", "--lang", "en"], "\n".join(lines) + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Which of these describes your situation" in out
    assert "/100" in out and "A model answer to make your own" in out
    assert "Acme" in out
    assert "Stopped." in out
    assert ANSWER not in result.stderr  # answers never reach the logs


def test_piped_interview_in_chinese(tmp_path: Path) -> None:
    lines = ["跳过", "跳过", "1",
             "我在现在的公司负责数据分析，把报表效率提升了30%。我希望在更大的平台上成长。",
             "我想承担更多的管理职责。", "因为这个岗位的方向正是我想发展的。"]
    result = run_cli(["practice", "--lang", "zh"], "\n".join(lines) + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "面试官" in result.stdout and "/100" in result.stdout


def test_close_reopen_continue(tmp_path: Path) -> None:
    first = run_cli(["practice", "--lang", "en"], "skip\nskip\n2\n", tmp_path)
    assert first.returncode == 0 and "why did you leave your last job" in first.stdout
    second = run_cli(["practice"], ANSWER + "\n", tmp_path)
    assert second.returncode == 0, second.stderr
    # the second session re-asks where we were, then takes the answer and follows up
    assert "why did you leave your last job" in second.stdout
    assert "Interviewer:" in second.stdout.split(ANSWER[:10])[-1] or "/100" in second.stdout


def test_no_token_runs_the_console(tmp_path: Path) -> None:
    result = run_cli([], "1\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Which language shall we use?" in result.stdout


def test_a_token_is_never_printed(tmp_path: Path) -> None:
    token = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmn"
    result = run_cli([], "", tmp_path, TELEGRAM_BOT_TOKEN=token, LEAVEWELL_LOG_LEVEL="DEBUG")
    assert token not in result.stdout + result.stderr


def test_invalid_settings_give_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(["practice"], "", tmp_path, LEAVEWELL_MAX_FOLLOWUPS="seven")
    assert result.returncode == 2
    assert "LEAVEWELL_MAX_FOLLOWUPS" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_from_a_toml_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "lw.toml"
    config.write_text('max_followups = 3\nidle_timeout_seconds = 60\n', encoding="utf-8")
    monkeypatch.setenv("LEAVEWELL_CONFIG", str(config))
    monkeypatch.setenv("LEAVEWELL_IDLE_TIMEOUT", "90")
    settings = load_settings()
    assert settings.max_followups == 3
    assert settings.idle_timeout_seconds == 90  # the environment wins


def test_export_writes_a_json_file(tmp_path: Path) -> None:
    result = run_cli(["practice", "--lang", "en"], "/export\n", tmp_path)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.split("as a JSON file.")[1].split()[0])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["user"]


async def test_run_practice_in_process(tmp_path: Path) -> None:
    settings = load_settings({"database_url": f"sqlite:///{tmp_path / 'p.db'}"})
    out = io.StringIO()
    await run_practice(settings, lang="en", stdin=io.StringIO("skip\nskip\n9\n"), stdout=out)
    assert "Let's begin." in out.getvalue()


def test_analyze_single_answer(tmp_path: Path) -> None:
    result = run_cli(["analyze", "--lang", "en", "--situation", "let_go"],
                     "My boss was a jerk and it wasn't my fault.", tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "red_flag"
    assert {"score", "red_flags", "improvements", "word_count", "speaking_seconds"} <= set(data)
    for finding in data["red_flags"]:
        for span in finding["evidence"]:
            assert span["text"] in "My boss was a jerk and it wasn't my fault."


def test_analyze_unknown_situation_is_unspecified(tmp_path: Path) -> None:
    result = run_cli(["analyze", "--situation", "astronaut"], "I want to grow.", tmp_path)
    assert json.loads(result.stdout)["situation"] == "unspecified"


def test_analyze_batch_jsonl_with_bad_rows(tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    batch.write_text(
        "\n".join([
            json.dumps({"answer": "I hated that place.", "lang": "en"}),
            "{not json",
            json.dumps({"answer": "我希望在更大的平台上成长。", "lang": "zh",
                        "situation": "employed"}),
            json.dumps({"answer": "", "lang": "en"}),
            json.dumps({"answer": "Fine.", "lang": "fr"}),
            json.dumps(["not", "an", "object"]),
        ]) + "\n",
        encoding="utf-8",
    )
    result = run_cli(["analyze", "--batch", str(batch)], "", tmp_path)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0]["verdict"] == "red_flag"
    assert "error" in rows[1] and "error" in rows[3] and "error" in rows[4] and "error" in rows[5]
    assert rows[2]["lang"] == "zh" and rows[2]["situation"] == "employed"


def test_analyze_batch_csv(tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    batch.write_text('answer,lang,situation\n"I was laid off, sadly.",en,laid_off\n',
                     encoding="utf-8")
    result = run_cli(["analyze", "--batch", str(batch)], "", tmp_path)
    row = json.loads(result.stdout.splitlines()[0])
    assert row["situation"] == "laid_off" and "score" in row


def test_diagram_and_check_commands(tmp_path: Path) -> None:
    assert "stateDiagram-v2" in run_cli(["diagram"], "", tmp_path).stdout
    checked = run_cli(["check"], "", tmp_path)
    assert checked.returncode == 0, checked.stderr
    # every installed adapter and what its platform can show
    assert "adapter telegram (Telegram): buttons, threads, voice, files" in checked.stdout
    assert "adapter discord (Discord): buttons, threads, voice, files" in checked.stdout


def test_webhook_mode_requires_a_secret() -> None:
    from leavewell.bot.settings import SettingsError

    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        load_settings({"telegram_bot_token": "1:x", "telegram_webhook_url": "https://a.b/h"})


def test_console_chinese_interface_english_interview(tmp_path: Path) -> None:
    lines = ["/lang zh en", "/practice laid_off",
             "Honestly my boss was terrible and they didn't pay enough, so I left.",
             "我和前主管一直保持联系。",
             "I keep in touch with my manager and I am learning SQL.",
             "/stop"]
    result = run_cli(["practice"], "\n".join(lines) + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "why did you leave your last job?" in out and "（提示：" in out
    assert "这段回答是中文" in out  # a Chinese follow-up answer is named, not mis-scored
    assert "面试官听到了什么" in out and "“boss was terrible”" in out
    assert "更好的英文说法" in out and "词汇注释" in out


def test_console_english_interface_chinese_interview(tmp_path: Path) -> None:
    lines = ["/lang en zh", "/practice laid_off",
             "公司去年裁员，我所在的团队整体被裁。我负责的数据平台把报表时间缩短了一半，"
             "我希望在贵公司继续做数据分析。",
             "I stay in touch because 我们的关系很好，他也愿意 be my reference 和推荐人。",
             "我和前主管一直保持联系，他愿意做我的推荐人。",
             "我一直在学习新的分析工具。",
             "/stop"]
    result = run_cli(["practice"], "\n".join(lines) + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "请问你为什么离开上一份工作" in out and "(Let's begin." in out
    assert "mixes Chinese and English" in out
    assert "What the interviewer hears" in out and "/100" in out


def test_why_and_disagree_in_the_console(tmp_path: Path) -> None:
    lines = ["skip", "skip", "/practice let_go", "My boss was a jerk, so I left.",
             "He never listened to anyone.", "Nothing, it was his fault.",
             "It was all his doing.",  # the third follow-up probes the blame (issue 13)
             "/why", "/why 1", "/why 1 disagree", "/why 1 disagree", "/export"]
    result = run_cli(["practice", "--lang", "en"], "\n".join(lines) + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # the feedback numbers its points and says what to type instead of a button
    assert "✗ 1. You spoke badly of a former employer" in out
    assert "/why: Why was this flagged?" in out
    assert "/why 1: 1. Negative about the old job" in out
    assert "Point 1: Negative about the old job (red flag)" in out and "“jerk”" in out
    assert "/why 1 disagree: I disagree" in out
    assert out.count("Thanks, noted: you disagree with point 1") == 1
    assert "You already disagreed with point 1." in out
    path = Path(out.split("as a JSON file.")[1].split()[0])
    (record,) = json.loads(path.read_text(encoding="utf-8"))["user"]["disagreements"]
    assert (record["finding"], record["evidence"], record["situation"]) == (
        "trash_talk", ["jerk"], "let_go")


def test_the_issue_13_case_on_the_console(tmp_path: Path) -> None:
    """A laid-off user skips the set-up with words, gives a complete answer, then insults
    the old director: the interviewer reacts, and the verdict covers the whole talk."""
    from tests.dialogs.test_interviewer import BLAME, COMPLETE, INSULT, NEUTRAL

    lines = ["skip", "-", "2", COMPLETE["en"], INSULT["en"], BLAME["en"], NEUTRAL["en"],
             "4", COMPLETE["en"], NEUTRAL["en"], NEUTRAL["en"], NEUTRAL["en"], "3"]
    result = run_cli(["practice", "--lang", "en"], "\n".join(lines) + "\n", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "No role or company" in out and "the skip role" not in out
    assert "proudest" not in out.split("Earlier you said")[0]  # the result was given
    assert "Earlier you said" in out and "What part of that was yours?" in out
    first_feedback = out.split("What next?")[0]
    assert "Contains a red flag" in first_feedback and "Strong answer" not in first_feedback
    assert "in follow-up answer 1" in first_feedback
    # "4": the button under the feedback, the same question with a skeptical interviewer
    assert "skeptical interviewer" in out and "(skeptical interviewer)" in out
