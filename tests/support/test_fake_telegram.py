"""Self-tests of the fake Telegram server, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.support.fake_telegram import FakeTelegram, parse_html

TOKEN = "123456:TEST-token"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.file_url) as b:
        yield b


def build_app(tg: FakeTelegram) -> Application:
    return (ApplicationBuilder().token(tg.token).base_url(tg.base_url)
            .base_file_url(tg.file_url).build())


@contextlib.asynccontextmanager
async def running(app: Application) -> AsyncIterator[Application]:
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


Ctx = ContextTypes.DEFAULT_TYPE


# --------------------------------------------------------------------------- with Application


async def test_start_command_reaches_handler_and_reply_is_recorded(tg: FakeTelegram) -> None:
    app = build_app(tg)

    async def start(update: Update, context: Ctx) -> None:
        assert update.effective_user is not None and update.message is not None
        await update.message.reply_html(f"Hello <b>{update.effective_user.first_name}</b> &amp; hi",
                                        do_quote=False)

    app.add_handler(CommandHandler("start", start))
    ann = tg.user(1001, "Ann")
    async with running(app):
        ann.send_command("/start")
        [msg] = await tg.wait_for_messages(ann)
    assert msg.text == "Hello <b>Ann</b> &amp; hi"
    assert msg.plain == "Hello Ann & hi"
    assert msg.parse_mode == "HTML"
    assert msg.entities == [{"type": "bold", "offset": 6, "length": 3}]
    methods = [r.method for r in tg.requests]
    assert methods.index("getMe") < methods.index("deleteWebhook") < methods.index("getUpdates")
    assert tg.pending_updates == []  # PTB confirmed the update on its next getUpdates
    assert tg.errors == []  # incl. no 409 for PTB's final getUpdates after a cancelled long poll
    assert tg.sent_times[ann.id]


async def test_button_press_is_answered_and_message_edited(tg: FakeTelegram) -> None:
    app = build_app(tg)
    second_answer: list[Exception] = []

    async def start(update: Update, context: Ctx) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="ans:yes"),
                                          InlineKeyboardButton("No", callback_data="ans:no")],
                                         [InlineKeyboardButton("Docs", url="https://x.test")]])
        await update.message.reply_text("Ready?", reply_markup=keyboard)

    async def pressed(update: Update, context: Ctx) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("noted")
        await query.edit_message_text(f"You chose {query.data}")
        try:
            await query.answer()
        except BadRequest as exc:
            second_answer.append(exc)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    ann = tg.user(1001)
    async with running(app):
        ann.send_command("start")
        [msg] = await tg.wait_for_messages(ann)
        assert msg.buttons == [("Yes", "ans:yes"), ("No", "ans:no")]
        assert msg.url_buttons == [("Docs", "https://x.test")]
        assert msg.button_rows == [["Yes", "No"], ["Docs"]]
        update = ann.press(msg, text="Yes")
        await tg.wait_for(lambda t: second_answer)
    query_id = update["callback_query"]["id"]
    assert tg.callback_answer(query_id)["text"] == "noted"
    assert [c["callback_query_id"] for c in tg.calls("answerCallbackQuery")] == [query_id] * 2
    assert msg.text == "You chose ans:yes" and msg.history == ["Ready?"]
    assert msg.buttons == []  # an edit without reply_markup drops the keyboard, as in Telegram
    assert "query is too old" in str(second_answer[0]).lower()
    with pytest.raises(ValueError, match="no button"):
        ann.press(msg, "ans:no")


async def test_invalid_html_is_a_bad_request_in_the_bot(tg: FakeTelegram) -> None:
    app = build_app(tg)
    seen: list[Exception] = []

    async def echo(update: Update, context: Ctx) -> None:
        assert update.message is not None
        try:
            await update.message.reply_html("1 < 2 <b>bold")
        except BadRequest as exc:
            seen.append(exc)

    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    ann = tg.user(1001)
    async with running(app):
        ann.send_text("hi")
        await tg.wait_for(lambda t: seen)
    assert "unsupported start tag" in seen[0].message
    [error] = tg.errors
    assert (error.method, error.status) == ("sendMessage", 400)
    assert error.description.startswith("Bad Request: can't parse entities")
    assert tg.messages(ann) == []


async def test_voice_file_is_downloadable(tg: FakeTelegram,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # durations as timedelta, no deprecation warning
    app = build_app(tg)
    got: list[bytes] = []

    async def voice(update: Update, context: Ctx) -> None:
        assert update.message is not None and update.message.voice is not None
        assert update.message.voice.duration == dtm.timedelta(seconds=4)
        tg_file = await context.bot.get_file(update.message.voice.file_id)
        got.append(bytes(await tg_file.download_as_bytearray()))

    app.add_handler(MessageHandler(filters.VOICE, voice))
    ann = tg.user(1001)
    async with running(app):
        ann.send_voice(duration=4, file_bytes=b"OggS-real-bytes")
        await tg.wait_for(lambda t: got)
    assert got == [b"OggS-real-bytes"]
    assert [r.method for r in tg.requests if r.method in ("getFile", "downloadFile")] == [
        "getFile", "downloadFile"]


async def test_group_command_and_privacy_mode(tg: FakeTelegram) -> None:
    app = build_app(tg)
    seen: list[str] = []

    async def any_message(update: Update, context: Ctx) -> None:
        assert update.message is not None
        seen.append(update.message.text or "")

    app.add_handler(CommandHandler("start", any_message))
    app.add_handler(MessageHandler(filters.ALL, any_message))
    group = tg.group(-100500, "Team")
    ann = tg.user(1001)
    async with running(app):
        ann.send_text("just chatting", chat=group)  # hidden by privacy mode
        ann.send_command("/start", "x", chat=group)
        await tg.wait_for(lambda t: seen)
    assert seen == ["/start@leavewell_test_bot x"]
    assert tg.hidden[0]["text"] == "just chatting"


async def test_group_members_and_their_statuses(tg: FakeTelegram, bot: Bot) -> None:
    group = tg.group(-100501, "Mentors")
    owner, admin, ann, gone = (tg.user(1001 + n, name) for n, name in
                               enumerate(("Olga", "Adam", "Ann", "Gus")))
    group.set_status(owner, "creator")
    group.set_status(admin, "administrator")
    group.set_status(gone, "left")
    ann.send_text("/help", chat=group)  # writing in a group makes a member of a newcomer
    members = [await bot.get_chat_member(group.id, u.id) for u in (owner, admin, ann, gone)]
    assert [type(m) for m in members] == [ChatMemberOwner, ChatMemberAdministrator,
                                         ChatMemberMember, ChatMemberLeft]
    assert [m.status for m in members] == ["creator", "administrator", "member", "left"]
    assert members[1].user.first_name == "Adam" and members[1].can_delete_messages
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(group.id, 999)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.get_chat_member(-100999, owner.id)
    with pytest.raises(ValueError, match="one creator"):
        group.set_status(ann, "creator")
    with pytest.raises(ValueError, match="left"):
        gone.send_text("/start", chat=group)


async def test_deep_links_and_toasts_in_groups(tg: FakeTelegram, bot: Bot) -> None:
    group = tg.group(-100502, "Mentors")
    ann, bo = tg.user(1001, "Ann"), tg.user(1002, "Bo")
    assert not bo.started
    update = bo.open_link(f"https://t.me/{tg.bot_username}?start=round_abc-1")
    assert update["message"]["text"] == "/start round_abc-1"
    assert update["message"]["chat"]["type"] == "private" and bo.started
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert bo.open_link(f"https://t.me/{tg.bot_username}")["message"]["text"] == "/start"
    with pytest.raises(ValueError, match="deep link"):
        bo.open_link("https://t.me/some_other_bot?start=x")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("+1", callback_data="r.1")]])
    sent = await bot.send_message(group.id, "Rate it", reply_markup=keyboard)
    (post,) = tg.messages(group)
    presses = [who.press(post, "r.1") for who in (ann, bo)]  # anyone in the group may press
    assert group.status(ann) == group.status(bo) == "member"
    assert [p["callback_query"]["message"]["chat"]["id"] for p in presses] == [sent.chat_id] * 2
    first, second = (p["callback_query"]["id"] for p in presses)
    assert await bot.answer_callback_query(first, text="Counted")
    assert await bot.answer_callback_query(second, text="Yours")
    assert tg.toasts(ann) == ["Counted"] and tg.toasts(bo) == ["Yours"]
    assert tg.callback_answer(presses[0])["text"] == "Counted"
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(first, text="again")
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(ann.press(post, "r.1")["callback_query"]["id"],
                                        text="x" * 201)


async def test_redelivered_update_reaches_a_restarted_bot(tg: FakeTelegram) -> None:
    seen: list[int] = []

    async def record(update: Update, context: Ctx) -> None:
        seen.append(update.update_id)

    ann = tg.user(1001)
    first = ann.send_text("hello")["update_id"]
    for run in (1, 2):
        app = build_app(tg)
        app.add_handler(MessageHandler(filters.ALL, record))
        async with running(app):
            await tg.wait_for(lambda t, n=run: len(seen) == n)
            await tg.wait_confirmed()
        tg.redeliver(first)  # Telegram sends it again to the next instance
    assert seen == [first, first]


# --------------------------------------------------------------------------- with a bare Bot


async def test_offset_semantics(tg: FakeTelegram, bot: Bot) -> None:
    ann = tg.user(1001)
    a = ann.send_text("one")["update_id"]
    b = ann.send_text("two")["update_id"]
    assert [u.update_id for u in await bot.get_updates()] == [a, b]
    assert [u.update_id for u in await bot.get_updates()] == [a, b]  # not confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=a + 1)] == [b]
    assert await bot.get_updates(offset=b + 1) == ()
    tg.redeliver(a)
    assert [u.update_id for u in await bot.get_updates(offset=b + 1)] == [a]
    assert await bot.get_updates(offset=b + 1) == ()

    waiting = asyncio.create_task(bot.get_updates(offset=b + 1, timeout=5))
    await tg.wait_for(lambda t: t.polling)
    c = ann.send_text("three")["update_id"]
    assert [u.update_id for u in await asyncio.wait_for(waiting, 2)] == [c]


async def test_concurrent_get_updates_conflict(tg: FakeTelegram) -> None:
    async with Bot(tg.token, base_url=tg.base_url) as b1, Bot(tg.token,
                                                              base_url=tg.base_url) as b2:
        poll = asyncio.create_task(b1.get_updates(timeout=2))
        await tg.wait_for(lambda t: t.polling)
        with pytest.raises(Conflict, match="terminated by other getUpdates"):
            await b2.get_updates(timeout=0)
        tg.user(1).send_text("hi")
        assert len(await poll) == 1


async def test_retry_after_and_server_error(tg: FakeTelegram, bot: Bot,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    ann = tg.user(1001)
    ann.send_text("hi")
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(ann.id, "hello")
    assert info.value.retry_after == dtm.timedelta(seconds=3)
    assert tg.errors[-1].description == "Too Many Requests: retry after 3"
    tg.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(ann.id, "hello")
    tg.delay_next("sendMessage", 0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.send_message(ann.id, "hello")
    assert loop.time() - started >= 0.2
    assert [m.text for m in tg.messages(ann)] == ["hello"]


async def test_set_my_commands_per_language(tg: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([("start", "Begin")])
    await bot.set_my_commands([("start", "Anfangen"), ("stop", "Aufhören")], language_code="de")
    assert tg.commands() == [("start", "Begin")]
    assert tg.commands("de") == [("start", "Anfangen"), ("stop", "Aufhören")]
    got = await bot.get_my_commands(language_code="de")
    assert [(c.command, c.description) for c in got] == tg.commands("de")
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad-Name", "x")])


async def test_send_document_and_photo_keep_bytes(tg: FakeTelegram, bot: Bot) -> None:
    ann = tg.user(1001)
    ann.send_text("hi")
    sent = await bot.send_document(ann.id, document=b"col1,col2\n", filename="report.csv",
                                   caption="Your <i>report</i>", parse_mode=ParseMode.HTML)
    assert sent.document is not None and sent.document.file_name == "report.csv"
    await bot.send_photo(ann.id, photo=b"\x89PNGfake")
    doc, photo = tg.messages(ann)
    assert doc.file is not None and (doc.file.filename, doc.file.data) == (
        "report.csv", b"col1,col2\n")
    assert doc.plain == "Your report" and doc.kind == "document"
    assert photo.kind == "photo" and photo.file is not None and photo.file.data == b"\x89PNGfake"
    again = await bot.get_file(sent.document.file_id)
    assert bytes(await again.download_as_bytearray()) == b"col1,col2\n"


async def test_sticker_photo_and_reply_updates_parse(tg: FakeTelegram, bot: Bot) -> None:
    ann = tg.user(1001, "Ann", username="ann")
    ann.send_sticker()
    ann.send_photo(caption="look")
    sent = await bot.send_message("@ann", "Question?")
    ann.reply_to(tg.messages(ann)[0], "Answer")
    updates = await bot.get_updates()
    assert updates[0].message.sticker.emoji == "👍"
    assert updates[1].message.photo[-1].width == 800 and updates[1].message.caption == "look"
    assert updates[2].message.reply_to_message.message_id == sent.message_id
    assert updates[2].message.reply_to_message.from_user.is_bot


async def test_telegram_like_validation(tg: FakeTelegram, bot: Bot) -> None:
    ann = tg.user(1001)
    stranger = tg.user(2002)
    ann.send_text("hi")
    button = InlineKeyboardButton
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "a & b", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "<b>x</i>", "parse_mode": "HTML"}, "unmatched end tag"),
        ({"text": '<span class="x">s</span>', "parse_mode": "HTML"}, "tg-spoiler"),
        ({"text": "<b>x", "parse_mode": "HTML"}, "end tag"),
        ({"text": "<b> </b>", "parse_mode": "HTML"}, "message text is empty"),
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "x", "reply_markup": InlineKeyboardMarkup(
            [[button("a", callback_data="é" * 33)]])}, "BUTTON_DATA_INVALID"),  # 66 bytes
        ({"text": "x", "reply_markup": InlineKeyboardMarkup(
            [[button(str(i), callback_data=str(i)) for i in range(9)]])}, "BUTTONS_TOO_MUCH"),
        ({"text": "x", "reply_to_message_id": 999}, "message to be replied not found"),
    ]
    for kwargs, expected in cases:
        with pytest.raises(BadRequest):
            await bot.send_message(ann.id, **kwargs)
        assert expected in tg.errors[-1].description, (kwargs, tg.errors[-1])
    assert await bot.send_message(ann.id, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(42, "hi")
    with pytest.raises(Forbidden, match="initiate conversation"):
        await bot.send_message(stranger.id, "hi")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(ann.id, b"x", caption="c" * 1025)

    msg = await bot.send_message(ann.id, "same", reply_markup=InlineKeyboardMarkup(
        [[button("a", callback_data="a")]]))
    with pytest.raises(BadRequest, match="not modified"):
        await msg.edit_text("same", reply_markup=msg.reply_markup)
    await msg.edit_reply_markup(None)
    with pytest.raises(BadRequest, match="not modified"):
        await msg.edit_reply_markup(None)
    assert await bot.send_chat_action(ann.id, "typing")
    assert (await bot.get_chat(ann.id)).first_name == "Ann"
    assert await msg.delete()
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await msg.delete()
    ann.blocked = True
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(ann.id, "hi")


def test_parse_html_entities() -> None:
    plain, entities = parse_html(
        'a <a href="https://e.test/?a=1&amp;b=2">link</a> <pre><code class="language-py">x'
        '</code></pre> &#128512;&lt;<tg-spoiler>s</tg-spoiler>')
    assert plain == "a link x 😀<s"
    assert entities == [
        {"type": "text_link", "offset": 2, "length": 4, "url": "https://e.test/?a=1&b=2"},
        {"type": "pre", "offset": 7, "length": 1, "language": "py"},
        {"type": "spoiler", "offset": 12, "length": 1},  # the emoji counts 2 in UTF-16
    ]


async def test_http_surface(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.base_url}{tg.token}/getMe") as r:
            assert r.status == 200 and (await r.json())["result"]["is_bot"] is True
        async with http.post(f"{tg.base_url}1:wrong/getMe") as r:
            assert r.status == 401 and (await r.json())["description"] == "Unauthorized"
        async with http.post(f"{tg.base_url}{tg.token}/noSuchMethod") as r:
            assert r.status == 404 and (await r.json())["error_code"] == 404
        async with http.post(f"{tg.base_url}{tg.token}/getUpdates",
                             json={"offset": 0, "timeout": 0}) as r:
            assert (await r.json()) == {"ok": True, "result": []}
    wrong = Bot("1:wrong", base_url=tg.base_url)
    with pytest.raises(InvalidToken, match="rejected"):
        await wrong.initialize()  # PTB calls getMe here; the fake answers 401
    await wrong.shutdown()


async def test_wait_for_timeout_reports_recent_requests(tg: FakeTelegram, bot: Bot) -> None:
    await bot.get_me()
    with pytest.raises(AssertionError, match=r"(?s)timed out.*getMe"):
        await tg.wait_for(lambda t: False, timeout=0.05)
