"""Interface language ≠ interview language through the real PTB Application."""

from __future__ import annotations

from tests.support.fake_telegram import FakeTelegram, FakeUser
from tests.support.formats import telegram_html_problems
from tests.telegram.conftest import RunningBot, button, exchange, last_with_buttons

RISKY_EN = (
    "Honestly my boss was terrible & the pay wasn't enough. I guess I just wanted out, "
    "and the <long> hours wore me down."
)
GOOD_ZH = (
    "公司去年裁员百分之三十，我所在的团队整体被裁。在那之前我负责的数据平台把报表时间缩短了一半。"
    "我和原来的经理一直保持联系，他愿意做我的推荐人。我希望在贵公司继续做数据分析。"
)


async def feedback_after(tg: FakeTelegram, user: FakeUser, followup: str) -> str:
    for _ in range(4):
        replies = await exchange(tg, user, lambda: user.send_text(followup))
        found = next((m for m in replies if "/100" in m.plain), None)
        if found is not None:
            return found.plain
    raise AssertionError([m.plain[:60] for m in tg.messages(user)])


async def test_chinese_interface_practises_an_english_interview(tg: FakeTelegram,
                                                                bot: RunningBot) -> None:
    li = tg.user(2001, "Li", language_code="zh-hans")
    await exchange(tg, li, lambda: li.send_command("/lang"))
    menu = last_with_buttons(tg, li)
    assert "界面语言：中文" in menu.plain
    assert [label for label, _ in menu.buttons] == [
        "界面：英文", "界面：中文", "用英文面试", "用中文面试", "隐藏翻译提示"]
    replies = await exchange(tg, li, lambda: li.press(menu, button(menu, "用英文面试")))
    assert "面试官会用英文提问" in replies[0].plain

    replies = await exchange(tg, li, lambda: li.send_command("/practice", "let_go"))
    question = replies[-1].plain
    assert question.split("\n")[0].isascii() is False  # "面试官：" then the English question
    assert "Interviewer" not in question and "?" in question.split("（提示")[0]
    assert "（提示：" in question and "请用英文作答" in question

    await exchange(tg, li, lambda: li.send_text(RISKY_EN))
    # a follow-up answered in Chinese is named and judged by the Chinese rules
    replies = await exchange(tg, li, lambda: li.send_text("我觉得是因为老板不喜欢我。"))
    assert "这段回答是中文" in replies[0].plain
    text = await feedback_after(tg, li, "I learned to ask for feedback early, every month.")
    assert "面试官听到了什么" in text and "“boss was terrible”" in text
    assert "更好的英文说法" in text and "词汇注释" in text
    for message in tg.messages(li):
        assert telegram_html_problems(message.text) == [], message.text[:200]
    assert tg.errors == []


async def test_english_interface_practises_a_chinese_interview(tg: FakeTelegram,
                                                               bot: RunningBot) -> None:
    ann = tg.user(2002, "Ann", language_code="en")
    replies = await exchange(tg, ann, lambda: ann.send_command("/lang", "en zh"))
    assert "the interviewer will ask in Chinese" in replies[-1].plain
    replies = await exchange(tg, ann, lambda: ann.send_command("/practice", "laid_off"))
    assert "请问你为什么离开上一份工作" in replies[-1].plain
    assert "(Let's begin. Tell me, why did you leave your last job?)" in replies[-1].plain
    replies = await exchange(tg, ann, lambda: ann.send_text("🙂🙂🙂"))
    assert "couldn't find any words" in replies[0].plain
    await exchange(tg, ann, lambda: ann.send_text(GOOD_ZH))
    text = await feedback_after(tg, ann, "我和前主管一直保持联系，也在学习新的工具。")
    assert "What the interviewer hears" in text
    assert "Stronger ways to say it" not in text
    assert tg.errors == []
