"""Interface language ≠ interview language through the real discord.py client."""

from __future__ import annotations

from tests.discord.conftest import Driver, RunningBot, member
from tests.support.fake_discord import FakeDiscord

RISKY_EN = (
    "Honestly my boss was terrible and the pay wasn't enough. I guess I just wanted out, "
    "and **the hours** wore me down @everyone."
)
GOOD_ZH = (
    "公司去年裁员百分之三十，我所在的团队整体被裁。在那之前我负责的数据平台把报表时间缩短了一半。"
    "我和原来的经理一直保持联系，他愿意做我的推荐人。我希望在贵公司继续做数据分析。"
)

MIXED = "I left because 公司的发展方向变了，我想找一个 more stable 的团队 and grow."


async def feedback_after(driver: Driver, followup: str) -> str:
    for _ in range(4):
        replies = await driver.say(followup)
        found = next((m for m in replies if "/100" in m.content), None)
        if found is not None:
            return found.content
    raise AssertionError([m.content[:60] for m in driver.messages()])


async def test_chinese_interface_english_interview_in_dms(dc: FakeDiscord,
                                                          bot: RunningBot) -> None:
    li = Driver(dc, dc.user(3001, "li", "zh-CN"))
    li.channel = dc.dm_channel(li.user)
    replies = await li.command("lang")
    assert "界面语言：中文" in replies[-1].content
    replies = await li.press("用英文面试")
    assert any("面试官会用英文提问" in m.content for m in replies)
    replies = await li.command("practice", {"situation": "quit"})
    question = replies[-1].content
    assert "（提示：" in question and "请用英文作答" in question
    await li.say(RISKY_EN)
    replies = await li.say("我其实是因为太累了。")
    assert "这段回答是中文" in replies[0].content
    text = await feedback_after(li, "I learned to plan my next step before leaving.")
    assert "面试官听到了什么" in text and "boss was terrible" in text
    assert "更好的英文说法" in text and "词汇注释" in text
    assert dc.errors == []
    for message in dc.sent_messages():
        assert not dc.could_ping(message), message.content[:100]


async def test_english_interface_chinese_interview_in_a_thread(dc: FakeDiscord,
                                                               bot: RunningBot) -> None:
    ann = Driver(dc, member(dc, 3002, "ann"))
    await ann.practice_on_server()
    await ann.press("")  # role: Skip
    await ann.press("")  # company: Skip
    await ann.command("lang")
    replies = await ann.press("Interview in Chinese")
    assert any("the interviewer will ask in Chinese" in m.content for m in replies)
    replies = await ann.press("laid off")
    assert "请问你为什么离开上一份工作" in replies[-1].content
    assert "Let's begin. Tell me, why did you leave your last job?" in replies[-1].content
    replies = await ann.say(MIXED)
    assert "mixes Chinese and English" in replies[0].content
    await ann.say(GOOD_ZH)
    text = await feedback_after(ann, "我和前主管一直保持联系，也在学习新的工具。")
    assert "What the interviewer hears" in text and "Stronger ways to say it" not in text
    assert dc.errors == []
