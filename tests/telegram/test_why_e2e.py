"""End to end on Telegram: "Why was this flagged?" and "I disagree" through the real PTB
Application, our core and SQLite, against the fake Bot API server."""

from __future__ import annotations

import json

from leavewell.dialogs.analyzer.messages import finding_field
from leavewell.dialogs.script import default_script
from tests.support.fake_telegram import FakeTelegram, FakeUser, SentMessage
from tests.support.formats import telegram_html_problems
from tests.telegram.conftest import RunningBot, button, exchange, last_with_buttons, settle

BITTER_ZH = "我的老板很糟糕，工资也太低了，所以我走了。"
ZH = default_script().catalogs["zh"]


def with_button(tg: FakeTelegram, user: FakeUser, label: str) -> SentMessage:
    return next(m for m in reversed(tg.messages(user))
                if any(label in text for text, _ in m.buttons))


async def feedback_in_chinese(tg: FakeTelegram, user: FakeUser) -> None:
    await exchange(tg, user, lambda: user.send_command("/start"))
    for _ in range(2):  # role, company: Skip
        prompt = last_with_buttons(tg, user)
        await exchange(tg, user, lambda p=prompt: user.press(p, p.buttons[0][1]))
    prompt = last_with_buttons(tg, user)
    await exchange(tg, user, lambda: user.press(prompt, button(prompt, "裁员")))
    replies = await exchange(tg, user, lambda: user.send_text(BITTER_ZH))
    while not any("/100" in m.plain for m in replies):  # follow-ups: Skip
        prompt = last_with_buttons(tg, user)
        replies = await exchange(tg, user, lambda p=prompt: user.press(p, button(p, "跳过")))


async def test_why_and_i_disagree_with_buttons_in_chinese(tg: FakeTelegram,
                                                          bot: RunningBot) -> None:
    li = tg.user(3101, "Li", language_code="zh-hans")
    await feedback_in_chinese(tg, li)
    feedback = with_button(tg, li, ZH.labels["why_open"])
    assert "✗ 1. " + finding_field("trash_talk", "zh", "message") in feedback.plain

    # the feedback's Why button lists the numbered points, each a button
    open_why = button(feedback, ZH.labels["why_open"])
    replies = await exchange(tg, li, lambda: li.press(feedback, open_why))
    (listing,) = replies
    first_point = "1. " + finding_field("trash_talk", "zh", "name")
    assert listing.buttons[0][0] == first_point and len(listing.buttons) > 1

    # a point's button explains it
    replies = await exchange(tg, li, lambda: li.press(listing, button(listing, first_point)))
    (explanation,) = replies
    assert explanation.plain.startswith("第 1 点：抱怨前东家")
    assert telegram_html_problems(explanation.text) == []

    # "I disagree", pressed twice in a row before the first press is answered
    disagree = button(explanation, "我不同意")
    li.press(explanation, disagree)
    li.press(explanation, disagree)
    await settle(tg)
    answers = [m.plain for m in tg.messages(li)[-2:]]
    assert answers[0].startswith("谢谢，已记录：你不同意第 1 点（抱怨前东家）")
    assert answers[1].startswith("你已经对第 1 点表示过不同意")
    assert all(len(data.encode()) <= 64 for m in tg.messages(li) for _, data in m.buttons)
    # the only refusal: the second press tried to mark the already marked message again
    assert [(e.method, "not modified" in e.description) for e in tg.errors] == [
        ("editMessageText", True)]

    # the record is in the user's history, once; the explanation showed what it holds:
    # the exact words, what an interviewer infers, the signal (in Chinese), the tip
    replies = await exchange(tg, li, lambda: li.send_command("/export"))
    document = next(m for m in replies if m.kind == "document")
    (record,) = json.loads(document.file.data)["user"]["disagreements"]
    assert {k: record[k] for k in ("number", "finding", "situation", "answer_lang",
                                   "ui_lang")} == {
        "number": 1, "finding": "trash_talk", "situation": "laid_off", "answer_lang": "zh",
        "ui_lang": "zh"}
    assert record["at"] > record["feedback_at"] > 0
    assert record["rule"].startswith("trash_talk")
    text = explanation.plain
    assert record["evidence"] and all(
        words in BITTER_ZH and f"“{words}”" in text for words in record["evidence"])
    assert finding_field("trash_talk", "zh", "infer") in text
    assert ZH.messages[f"why_signal_{record['signal']}"] in text
    assert f"（规则 {record['rule']}）" in text
    assert finding_field("trash_talk", "zh", "tip") in text
    await exchange(tg, li, lambda: li.send_command("/forget"))
    confirm = last_with_buttons(tg, li)
    await exchange(tg, li, lambda: li.press(confirm, confirm.buttons[0][1]))
    replies = await exchange(tg, li, lambda: li.send_command("/export"))
    document = next(m for m in replies if m.kind == "document")
    assert (json.loads(document.file.data)["user"] or {}).get("disagreements", []) == []


async def test_why_typed_as_a_command(tg: FakeTelegram, bot: RunningBot) -> None:
    ann = tg.user(3102, "Ann", language_code="en")
    replies = await exchange(tg, ann, lambda: ann.send_command("/why"))
    assert replies[-1].plain == default_script().catalogs["en"].messages["why_none"]
    await exchange(tg, ann, lambda: ann.send_command("/practice", "let_go"))
    await exchange(tg, ann, lambda: ann.send_text("My boss was a jerk, so I left."))
    while not any("/100" in m.plain for m in tg.messages(ann)[-3:]):
        prompt = last_with_buttons(tg, ann)
        await exchange(tg, ann, lambda p=prompt: ann.press(p, button(p, "skip")))
    (explanation,) = await exchange(tg, ann, lambda: ann.send_command("/why", "1"))
    assert explanation.plain.startswith("Point 1: Negative about the old job")
    assert "“jerk”" in explanation.plain
    assert explanation.buttons == [("I disagree", "why.1.1.no")]
    assert tg.errors == [], [(e.method, e.description) for e in tg.errors]
