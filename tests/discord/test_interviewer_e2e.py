"""Issue 13 end to end on Discord: the real discord.py client against the fake Discord.
Follow-ups that listen, one verdict for the whole exchange, set-up answers, the skeptical
mode (slash command and button) and transcribed voice answers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.dialogs.test_interviewer import BLAME, COMPLETE, INSULT, NEUTRAL
from tests.discord.conftest import Driver, RunningBot
from tests.support.fake_discord import FakeDiscord, StoredMessage
from tests.support.voice import ScriptedTranscriber, tone


@pytest.fixture
async def listening_bot(dc: FakeDiscord, guild: dict[str, Any], tmp_path: Path
                        ) -> AsyncIterator[RunningBot]:
    running = RunningBot(dc, tmp_path / "dc.db", transcriber=ScriptedTranscriber([]))
    await running.start()
    yield running
    with contextlib.suppress(Exception):
        await running.stop()


def text_of(replies: list[StoredMessage]) -> str:
    return "\n".join(m.content for m in replies)


async def in_dm(dc: FakeDiscord, user_id: int, name: str, locale: str,
                role: str, company: str, situation_label: str) -> tuple[Driver, str]:
    """A new user's first /practice in a DM: the set-up, answered with words."""
    driver = Driver(dc, dc.user(user_id, name, locale))
    driver.channel = dc.dm_channel(driver.user)
    await driver.command("practice")
    await driver.say(role)
    echoed = text_of(await driver.say(company))
    await driver.press(situation_label)
    return driver, echoed


async def until_feedback(driver: Driver, replies: list[StoredMessage], answer: str) -> str:
    for _ in range(4):
        if any("/100" in m.content for m in replies):
            break
        replies = await driver.say(answer)
    return text_of(replies)


async def test_the_issue_case_listens_reacts_and_judges_the_whole_exchange(
        dc: FakeDiscord, bot: RunningBot) -> None:
    ivy, echoed = await in_dm(dc, 1301, "ivy", "en-US", "none", "skip", "laid off")
    assert "No role or company" in echoed
    first = text_of(await ivy.say(COMPLETE["en"]))
    assert "Interviewer" in first
    assert "proudest" not in first and "reference" not in first  # already given
    reaction = text_of(await ivy.say(INSULT["en"]))
    assert "Earlier you said" in reaction and "idiot" in reaction
    probe = text_of(await ivy.say(BLAME["en"]))
    assert "What part of that was yours?" in probe
    feedback = text_of(await ivy.say(NEUTRAL["en"]))
    assert "Contains a red flag" in feedback and "Strong answer" not in feedback
    assert "in follow\\-up answer 1" in feedback and "idiot" in feedback  # markdown-escaped
    assert "skip role" not in feedback


async def test_skeptical_mode_and_a_transcribed_voice_answer_in_chinese(
        dc: FakeDiscord, listening_bot: RunningBot) -> None:
    transcriber = listening_bot.transcriber
    assert isinstance(transcriber, ScriptedTranscriber)
    transcriber.transcripts[:] = [COMPLETE["zh"], "嗯，那个，时机合适，项目已经上线了。"]
    lin, echoed = await in_dm(dc, 1302, "lin", "zh-CN", "  数据分析师。 ", "跳过", "裁员")
    assert "数据分析师" in echoed and "/role" in echoed
    asked_again = text_of(await lin.command("mode", {"interviewer": "skeptical"}))
    assert "挑剔的面试官" in asked_again and "30 到 60 秒" not in asked_again
    recording = tone(1.0)
    heard = text_of(await lin.say("", attachments=[{
        "filename": "voice-message.ogg", "content_type": "audio/ogg", "data": recording,
        "duration_secs": 42.0}]))
    assert transcriber.heard == [recording]  # read from the attachment as posted
    assert "我听到的内容（42 秒）" in heard and "面试官：" in heard
    replies = await lin.say("", attachments=[{
        "filename": "voice-message.ogg", "content_type": "audio/ogg", "data": tone(0.5),
        "duration_secs": 6.0}])
    feedback = await until_feedback(lin, replies, NEUTRAL["zh"])
    assert "严格面试官" in feedback and "口头禅" in feedback and "每分钟" in feedback
    replies = await lin.press("友好的教练")
    assert "已换回友好的教练" in text_of(replies)
