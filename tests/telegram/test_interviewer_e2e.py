"""Issue 13 end to end on Telegram: the real PTB Application against the fake Bot API.
Follow-ups that listen, one verdict for the whole exchange, set-up answers, the skeptical
mode and transcribed voice answers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.dialogs.test_interviewer import BLAME, COMPLETE, INSULT, NEUTRAL
from tests.support.fake_telegram import FakeTelegram, FakeUser, SentMessage
from tests.support.voice import ScriptedTranscriber, tone
from tests.telegram.conftest import RunningBot, button, exchange, last_with_buttons

SPOKEN = ("Um, our team was cut when the company lost its largest client. Before that I "
          "built the revenue dashboard and cut report time by 60 percent. My former manager "
          "is one of my references, and I want to grow into a senior analyst role here.")


@pytest.fixture
async def listening_bot(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[RunningBot]:
    running = RunningBot(tg, tmp_path / "tg.db",
                         transcriber=ScriptedTranscriber([SPOKEN, "Uh, the timing is right."]))
    await running.start()
    yield running
    with contextlib.suppress(Exception):
        await running.stop()


def text_of(replies: list[SentMessage]) -> str:
    return "\n".join(m.plain for m in replies)


async def setup_with_words(tg: FakeTelegram, user: FakeUser, role: str, company: str,
                           situation_label: str) -> str:
    await exchange(tg, user, lambda: user.send_command("/start"))
    await exchange(tg, user, lambda: user.send_text(role))
    replies = await exchange(tg, user, lambda: user.send_text(company))
    prompt = last_with_buttons(tg, user)
    await exchange(tg, user, lambda: user.press(prompt, button(prompt, situation_label)))
    return text_of(replies)


async def test_the_issue_case_listens_reacts_and_judges_the_whole_exchange(
        tg: FakeTelegram, bot: RunningBot) -> None:
    ivy = tg.user(1301, "Ivy", language_code="en")
    echoed = await setup_with_words(tg, ivy, "skip", "-", "laid off")
    assert "No role or company" in echoed
    first = text_of(await exchange(tg, ivy, lambda: ivy.send_text(COMPLETE["en"])))
    assert "Interviewer:" in first
    assert "proudest" not in first and "reference" not in first  # already given
    reaction = text_of(await exchange(tg, ivy, lambda: ivy.send_text(INSULT["en"])))
    assert "Earlier you said" in reaction and "idiot" in reaction
    probe = text_of(await exchange(tg, ivy, lambda: ivy.send_text(BLAME["en"])))
    assert "What part of that was yours?" in probe
    feedback = text_of(await exchange(tg, ivy, lambda: ivy.send_text(NEUTRAL["en"])))
    assert "Contains a red flag" in feedback and "Strong answer" not in feedback
    assert "in follow-up answer 1" in feedback and "idiot" in feedback
    assert "Does the story hold together?" in feedback
    assert "skip role" not in feedback and "at skip" not in feedback
    assert tg.errors == []


async def test_skeptical_mode_and_a_transcribed_voice_answer_in_chinese(
        tg: FakeTelegram, listening_bot: RunningBot) -> None:
    transcriber = listening_bot.transcriber
    assert isinstance(transcriber, ScriptedTranscriber)
    transcriber.transcripts[:] = [COMPLETE["zh"], "嗯，那个，时机合适，项目已经上线了。"]
    lin = tg.user(1302, "Lin", language_code="zh")
    echoed = await setup_with_words(tg, lin, "  数据分析师。 ", "跳过", "裁员")
    assert "数据分析师" in echoed and "/role" in echoed
    replies = await exchange(tg, lin, lambda: lin.send_command("/mode", "严格"))
    asked_again = text_of(replies)
    assert "挑剔的面试官" in asked_again and "面试官：" in asked_again
    assert "30 到 60 秒" not in asked_again  # the skeptic gives no hints
    recording = tone(1.0)
    heard = text_of(await exchange(tg, lin, lambda: lin.send_voice(duration=42,
                                                                    file_bytes=recording)))
    assert transcriber.heard == [recording]  # downloaded from Telegram as sent
    assert "我听到的内容（42 秒）" in heard and "面试官：" in heard
    replies = await exchange(tg, lin, lambda: lin.send_voice(duration=6))
    for _ in range(3):
        if any("/100" in m.plain for m in replies):
            break
        replies = await exchange(tg, lin, lambda: lin.send_text(NEUTRAL["zh"]))
    feedback = text_of(replies)
    assert "严格面试官" in feedback and "口头禅" in feedback and "每分钟" in feedback
    # the button under "what next" retries with the friendly coach
    prompt = last_with_buttons(tg, lin)
    replies = await exchange(tg, lin, lambda: lin.press(prompt, button(prompt, "友好的教练")))
    assert "已换回友好的教练" in text_of(replies)
    assert tg.errors == []


async def test_a_short_answer_gets_its_measured_time(tg: FakeTelegram, bot: RunningBot) -> None:
    max_ = tg.user(1303, "Max", language_code="en")
    await setup_with_words(tg, max_, "Data analyst", "Acme", "quit")
    short = "I wanted to grow into data engineering, so I left to study it full time."
    replies = await exchange(tg, max_, lambda: max_.send_text(short))
    for _ in range(3):
        if any("/100" in m.plain for m in replies):
            break
        replies = await exchange(tg, max_, lambda: max_.send_text(NEUTRAL["en"]))
    feedback = text_of(replies)
    assert "s; aim for 30–60 s" in feedback and "Short: about" in feedback
