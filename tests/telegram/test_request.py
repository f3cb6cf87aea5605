"""PTB's requests through aiohttp: transport failures become PTB's own errors."""

from __future__ import annotations

import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from leavewell.bot.telegram.request import AiohttpRequest
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123:request-test"


async def test_bot_calls_and_uploads_go_through_aiohttp() -> None:
    async with FakeTelegram(token=TOKEN) as tg:
        user = tg.user(501, "Ann")
        user.send_command("/start")
        bot = Bot(TOKEN, base_url=tg.base_url, base_file_url=tg.file_url,
                  request=AiohttpRequest(), get_updates_request=AiohttpRequest(pool_size=1))
        async with bot:
            updates = await bot.get_updates(timeout=0)
            await bot.send_message(user.id, "<b>hi</b>", parse_mode="HTML")
            await bot.send_document(user.id, b'{"a": 1}', filename="export.json",
                                    caption="yours")
    assert [u.message.text for u in updates] == ["/start"]
    sent = tg.messages(user)
    assert [m.plain for m in sent] == ["hi", "yours"]
    assert sent[1].file is not None and sent[1].file.data == b'{"a": 1}'


async def test_a_slow_reply_is_timed_out() -> None:
    async with FakeTelegram(token=TOKEN) as tg:
        tg.delay_next("sendMessage", 1.0)
        bot = Bot(TOKEN, base_url=tg.base_url, request=AiohttpRequest())
        async with bot:
            with pytest.raises(TimedOut):
                await bot.send_message(tg.user(502).id, "late", read_timeout=0.2)


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
