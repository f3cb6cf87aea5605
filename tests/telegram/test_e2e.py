"""End to end: the real python-telegram-bot Application, our core and SQLite, driven
through a fake Telegram Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.fake_telegram import FakeTelegram, FakeUser
from tests.support.formats import telegram_html_problems
from tests.telegram.conftest import RunningBot, button, exchange, last_with_buttons, settle

ANSWER_EN = (
    "Our whole analytics team was cut when the company lost its largest client. Before "
    "that I led the move of our reporting to Python and saved the team 10 hours a week. "
    "My manager is one of my references, and I want to grow into data engineering here."
)
ANSWER_ZH = (
    "公司失去了最大的客户，整个分析团队被裁。在那之前，我负责把报表迁移到 Python，"
    "每周为团队节省了10个小时。我的前主管愿意做我的推荐人，我希望在贵公司继续成长。"
)
HOSTILE = (
    "<script>alert('x')</script> Tom & Jerry <b>unclosed <i>tags & more 🙂🔥 "
    "مرحبا بالعالم \u202eevil @everyone https://evil.example **bold**"
)


def no_errors(tg: FakeTelegram) -> None:
    assert tg.errors == [], [(e.method, e.description) for e in tg.errors]


async def interview(tg: FakeTelegram, user: FakeUser, answer: str, *,
                    situation_label: str = "laid off", lang: str = "en") -> str:
    """Play a whole round with buttons; returns the feedback message's text."""
    await exchange(tg, user, lambda: user.send_command("/start"))
    for _ in range(2):  # role, company: press Skip
        prompt = last_with_buttons(tg, user)
        await exchange(tg, user, lambda p=prompt: user.press(p, p.buttons[0][1]))
    prompt = last_with_buttons(tg, user)
    await exchange(tg, user, lambda: user.press(prompt, button(prompt, situation_label)))
    await exchange(tg, user, lambda: user.send_text(answer))
    feedback = None
    for _ in range(4):
        replies = await exchange(tg, user, lambda: user.send_text(
            "I stayed in touch with my manager and kept learning." if lang == "en"
            else "我和前主管一直保持联系，也一直在学习。"))
        feedback = next((m for m in replies if "/100" in m.plain), None)
        if feedback is not None:
            break
    assert feedback is not None, [m.plain[:80] for m in tg.messages(user)]
    return feedback.plain


async def test_whole_interview_with_buttons_in_english(tg: FakeTelegram,
                                                       bot: RunningBot) -> None:
    ann = tg.user(1001, "Ann", language_code="en")
    feedback = await interview(tg, ann, ANSWER_EN)
    assert "What the interviewer hears" in feedback
    assert "/100" in feedback
    no_errors(tg)
    # every pressed keyboard was acknowledged and replaced by the choice
    assert len(tg.calls("answerCallbackQuery")) == 3
    edited = [m for m in tg.messages(ann) if m.history]
    assert len(edited) == 3 and all(not m.buttons and "✓" in m.plain for m in edited)
    # the last prompt offers what comes next
    assert last_with_buttons(tg, ann).buttons[0][0].startswith("Try the same")


async def test_whole_interview_in_chinese_from_the_users_language(tg: FakeTelegram,
                                                                  bot: RunningBot) -> None:
    li = tg.user(1002, "Li", language_code="zh-hans")
    feedback = await interview(tg, li, ANSWER_ZH, situation_label="裁员", lang="zh")
    assert "面试官听到了什么" in feedback
    no_errors(tg)


async def test_commands_are_registered_in_both_languages(tg: FakeTelegram,
                                                         bot: RunningBot) -> None:
    english = dict(tg.commands())
    chinese = dict(tg.commands("zh"))
    expected = {"start", "practice", "retry", "history", "lang", "stop", "help", "forget",
                "export", "role", "round", "why", "mode"}
    assert set(english) == set(chinese) == expected
    assert english["practice"] != chinese["practice"]


async def test_several_users_at_once(tg: FakeTelegram, bot: RunningBot) -> None:
    users = [tg.user(2000 + n, f"U{n}", language_code="en" if n % 2 else "zh")
             for n in range(6)]
    results = await asyncio.gather(*(
        interview(tg, u, ANSWER_EN if n % 2 else ANSWER_ZH, lang="en" if n % 2 else "zh",
                  situation_label="laid off" if n % 2 else "裁员")
        for n, u in enumerate(users)
    ))
    assert all("/100" in r for r in results)
    no_errors(tg)


async def test_hostile_answers_produce_valid_messages(tg: FakeTelegram,
                                                      bot: RunningBot) -> None:
    eve = tg.user(1003, "Eve")
    feedback = await interview(tg, eve, HOSTILE + " " + "x" * 5000)
    assert "/100" in feedback
    no_errors(tg)
    for message in tg.messages(eve):
        assert telegram_html_problems(message.text) == [], message.text[:200]
    assert not any("<script>" in m.plain and "alert" not in m.plain for m in tg.messages(eve))


async def test_voice_answer_is_timed_and_the_gist_requested(tg: FakeTelegram,
                                                            bot: RunningBot) -> None:
    vic = tg.user(1004, "Vic")
    await exchange(tg, vic, lambda: vic.send_command("/start"))
    await exchange(tg, vic, lambda: vic.send_command("/practice", "employed"))
    replies = await exchange(tg, vic, lambda: vic.send_voice(duration=48))
    assert any("48 seconds" in m.plain for m in replies)
    replies = await exchange(tg, vic, lambda: vic.send_text(ANSWER_EN))
    assert any("Interviewer:" in m.plain for m in replies)
    # a reply ready at once needs no "typing…" before it
    assert not tg.calls("sendChatAction")


async def test_typing_is_shown_when_a_reply_is_slow(tg: FakeTelegram, bot: RunningBot) -> None:
    wes = tg.user(1014, "Wes")
    await exchange(tg, wes, lambda: wes.send_command("/start"))
    await exchange(tg, wes, lambda: wes.send_command("/practice", "employed"))
    tg.delay_next("sendMessage", 1.5)  # the reply takes a while to leave
    await exchange(tg, wes, lambda: wes.send_text(ANSWER_EN))
    assert [c["action"] for c in tg.calls("sendChatAction")] == ["typing"]


async def test_stickers_and_photos_get_a_friendly_reply(tg: FakeTelegram,
                                                        bot: RunningBot) -> None:
    sam = tg.user(1005, "Sam")
    await exchange(tg, sam, lambda: sam.send_command("/start"))
    replies = await exchange(tg, sam, lambda: sam.send_sticker())
    assert any("only read text" in m.plain for m in replies)
    replies = await exchange(tg, sam, lambda: sam.send_photo())
    assert any("only read text" in m.plain for m in replies)


async def test_stale_button_gets_a_polite_notice(tg: FakeTelegram, bot: RunningBot) -> None:
    ola = tg.user(1006, "Ola")
    await exchange(tg, ola, lambda: ola.send_command("/start"))
    prompt = last_with_buttons(tg, ola)
    stale = prompt.buttons[0][1]
    await exchange(tg, ola, lambda: ola.press(prompt, stale))
    # press the same (now removed) button again, as a slow client could
    update = {"callback_query": {
        "id": "stale-1", "from": {"id": 1006, "is_bot": False, "first_name": "Ola"},
        "chat_instance": "x", "data": stale,
        "message": tg.message_json(prompt),
    }}
    before = len(tg.messages(ola))
    tg.push_raw(update)
    await settle(tg)
    replies = tg.messages(ola)[before:]
    assert any("earlier question" in m.plain for m in replies)
    # only our hand-made query id was unknown to Telegram; the press was still handled
    assert [e.params.get("callback_query_id") for e in tg.errors] == ["stale-1"]


async def test_export_sends_a_json_document_and_forget_deletes(tg: FakeTelegram,
                                                               bot: RunningBot) -> None:
    kim = tg.user(1007, "Kim")
    await interview(tg, kim, ANSWER_EN)
    replies = await exchange(tg, kim, lambda: kim.send_command("/export"))
    document = next(m for m in replies if m.kind == "document")
    data = json.loads(document.file.data)
    assert any(t.get("text") == ANSWER_EN for t in data["turns"])
    replies = await exchange(tg, kim, lambda: kim.send_command("/forget"))
    confirm = last_with_buttons(tg, kim)
    await exchange(tg, kim, lambda: kim.press(confirm, button(confirm, "yes")))
    assert "deleted" in tg.messages(kim)[-1].plain
    replies = await exchange(tg, kim, lambda: kim.send_command("/export"))
    document = next(m for m in replies if m.kind == "document")
    turns = json.loads(document.file.data)["turns"]
    assert [t["text"] for t in turns] == ["/export"]  # only the request just made


async def test_groups_move_the_interview_to_a_private_chat(tg: FakeTelegram,
                                                           bot: RunningBot) -> None:
    group = tg.group(-5001, "Mentors")
    ann = tg.user(1008, "Ann")
    await exchange(tg, ann, lambda: ann.send_command("/practice", chat=group))
    invite = tg.messages(group)[-1]
    assert "private chat" in invite.plain
    (_label, url), = invite.url_buttons
    assert url == f"https://t.me/{tg.bot_username}?start=practice"
    ann.send_text("my boss was awful", chat=group)  # privacy mode: the bot never sees it
    assert tg.hidden
    no_errors(tg)


async def test_429_and_500_are_retried(tg: FakeTelegram, bot: RunningBot) -> None:
    ray = tg.user(1009, "Ray")
    tg.fail_next("sendMessage", status=429, retry_after=1)
    tg.fail_next("sendMessage", status=500)
    replies = await exchange(tg, ray, lambda: ray.send_command("/start"))
    assert [m.plain.split()[0] for m in replies][:1] == ["Hi!"]
    statuses = [r.status for r in tg.requests if r.method == "sendMessage"]
    assert statuses[:2] == [429, 500] and 200 in statuses


async def test_redelivered_update_changes_nothing_twice(tg: FakeTelegram,
                                                        bot: RunningBot) -> None:
    uma = tg.user(1010, "Uma")
    await exchange(tg, uma, lambda: uma.send_command("/start"))
    update = uma.send_command("/help")
    await settle(tg)
    count = len(tg.messages(uma))
    tg.redeliver(update["update_id"])
    await settle(tg)
    await asyncio.sleep(0.2)
    assert len(tg.messages(uma)) == count


async def test_restart_mid_interview_continues_where_it_was(tg: FakeTelegram,
                                                            bot: RunningBot) -> None:
    zoe = tg.user(1011, "Zoe")
    await exchange(tg, zoe, lambda: zoe.send_command("/start"))
    await exchange(tg, zoe, lambda: zoe.send_command("/practice", "laid_off"))
    await exchange(tg, zoe, lambda: zoe.send_text(ANSWER_EN))
    followup = tg.messages(zoe)[-1].plain
    assert followup.startswith("Interviewer:")
    await bot.restart()
    feedback = None
    for _ in range(3):
        replies = await exchange(tg, zoe, lambda: zoe.send_text("I keep in touch with them."))
        feedback = next((m for m in replies if "/100" in m.plain), feedback)
        if feedback:
            break
    assert feedback is not None
    texts = [m.plain for m in tg.messages(zoe)]
    assert texts.count(followup) == 1  # nothing was sent twice


async def test_webhook_mode_answers_only_after_commit(tg: FakeTelegram,
                                                      tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = RunningBot(
        tg, tmp_path / "hook.db",
        telegram_webhook_url=f"http://127.0.0.1:{port}/tg-hook",
        telegram_webhook_listen=f"127.0.0.1:{port}",
        telegram_webhook_secret="s3cret-value",
    )
    running.launch()  # not start(): in webhook mode the bot does not poll
    await tg.wait_for(lambda t: t.webhook is not None and running.adapters, 10)
    assert tg.webhook["secret_token"] == "s3cret-value"
    ann = tg.user(1012, "Ann")
    update = ann.send_command("/start")
    assert await tg.post_to_webhook(update, secret="wrong") == 403
    assert await tg.post_to_webhook(update) == 200  # once it is durable in the inbox
    await tg.wait_for(lambda t: running.adapters[0].idle
                      and any("Hi!" in m.plain for m in t.messages(ann)), 10)
    assert await tg.post_to_webhook(update) == 200  # a re-delivery: nothing twice
    await tg.wait_for(lambda t: running.adapters[0].idle, 10)
    await asyncio.sleep(0.1)
    assert sum("Hi!" in m.plain for m in tg.messages(ann)) == 1
    await running.stop()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_help_in_both_languages(tg: FakeTelegram, bot: RunningBot, lang: str) -> None:
    user = tg.user(1100 + len(lang), "H", language_code=lang)
    await exchange(tg, user, lambda: user.send_command("/start"))
    replies = await exchange(tg, user, lambda: user.send_command("/help"))
    assert "/practice" in replies[-1].plain
    assert ("practise" in replies[-1].plain) == (lang == "en")


async def test_history_after_two_attempts_comes_with_a_progress_chart(
        tg: FakeTelegram, bot: RunningBot) -> None:
    eve = tg.user(1201, "Eve")
    await interview(tg, eve, "My old boss was a jerk and it was all his fault.")
    retry = last_with_buttons(tg, eve)
    await exchange(tg, eve, lambda: eve.press(retry, button(retry, "same")))
    replies = await exchange(tg, eve, lambda: eve.send_text(ANSWER_EN))
    for _ in range(4):  # follow-ups, until the second feedback
        if any("/100" in m.plain for m in replies):
            break
        replies = await exchange(tg, eve, lambda: eve.send_text(
            "I stayed in touch with my manager and kept learning."))
    before = len(tg.messages(eve))
    await exchange(tg, eve, lambda: eve.send_command("/history"))
    await tg.wait_for(lambda t: any(m.kind == "photo" for m in t.messages(eve)[before:]), 10)
    replies = tg.messages(eve)[before:]
    text = next(m for m in replies if m.kind == "text" and "since your first try" in m.plain)
    photo = next(m for m in replies if m.kind == "photo")
    assert replies.index(text) < replies.index(photo)  # the explanation, then the picture
    assert photo.file is not None and photo.file.filename == "leavewell-progress.png"
    assert photo.file.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert not photo.caption
    assert [r.method for r in tg.requests].count("sendPhoto") == 1
    no_errors(tg)


async def test_a_press_delivered_again_after_a_restart_is_answered_once(
        tg: FakeTelegram, bot: RunningBot) -> None:
    """Regression (issue 14): a replayed press was answered a second time."""
    liv = tg.user(1015, "Liv")
    await exchange(tg, liv, lambda: liv.send_command("/start"))
    prompt = last_with_buttons(tg, liv)
    press = liv.press(prompt, prompt.buttons[0][1])
    await settle(tg)
    await bot.restart()
    before = len(tg.messages(liv))
    tg.redeliver(press["update_id"])  # Telegram sends it again, as after a lost offset
    await settle(tg)
    answers = [c for c in tg.calls("answerCallbackQuery")
               if c["callback_query_id"] == press["callback_query"]["id"]]
    assert len(answers) == 1
    assert len(tg.messages(liv)) == before  # and nothing is said again
    no_errors(tg)


async def test_an_update_is_committed_or_in_the_inbox_before_it_is_confirmed(
        tg: FakeTelegram, bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fast step needs no inbox row; one that cannot be stored yet is kept there, so
    confirming it to Telegram loses nothing."""
    ann = tg.user(1016, "Ann")
    await exchange(tg, ann, lambda: ann.send_command("/start"))
    store = bot.adapters[0].core.store
    assert await store.inbox_pending("telegram:") == []

    async def outage(incoming: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(bot.adapters[0].core, "handle", outage)
    update = ann.send_text("Data analyst")
    await tg.wait_confirmed(10)
    assert [e for e, _ in await store.inbox_pending("telegram:")] == [
        f"telegram:{update['update_id']}"]
    await settle(tg)
    monkeypatch.undo()
    before = len(tg.messages(ann))
    await bot.restart()  # the kept update is handled at start-up
    await tg.wait_for(lambda t: len(t.messages(ann)) > before, 10)
    assert await bot.adapters[0].core.store.inbox_pending("telegram:") == []
