"""TelegramSender without a server: round buttons and the toasts that answer presses."""

from __future__ import annotations

from typing import Any

import pytest
from telegram.error import BadRequest

from leavewell.bot.delivery import PermanentDeliveryError
from leavewell.bot.telegram.send import TOAST_LIMIT, TelegramSender, keyboard, toast_text
from leavewell.dialogs.outgoing import Choice, Outgoing
from leavewell.dialogs.render import HTML, default_renderer
from leavewell.dialogs.rounds.commands import join_choice, rate_choice, share_choice
from leavewell.storage.base import OutboxItem

GROUP = {"platform": "telegram", "chat_id": "-100200", "user_id": "7", "thread_id": ""}


class StubBot:
    def __init__(self, refuse: str | None = None) -> None:
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []
        self.refuse = refuse

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.calls.append(("message", text, kwargs))

    async def answer_callback_query(self, query_id: str, **kwargs: Any) -> bool:
        if self.refuse:
            raise BadRequest(self.refuse)
        self.calls.append(("answer", query_id, kwargs))
        return True


async def no_export(user_key: str) -> dict[str, Any]:
    raise AssertionError("no export here")


def sender(bot: StubBot) -> TelegramSender:
    return TelegramSender(bot, default_renderer(), no_export,  # type: ignore[arg-type]
                          bot_username="leavewell_bot")


def row(outgoing: Outgoing, **address: str) -> OutboxItem:
    return OutboxItem(1, "telegram:-100200:7:", "telegram", {**GROUP, **address},
                      outgoing.to_dict(), 0.0)


def test_a_rounds_join_button_is_a_deep_link_and_the_rest_are_callbacks() -> None:
    choices = (Choice(join_choice("a1b2c3d4e5f6"), "Join the round"),
               Choice(share_choice("a1b2c3d4e5f6"), "Share"),
               Choice(rate_choice("a1b2c3d4e5f6", 2, "positive"), "Positive"),
               Choice("2.retry", "Retry"))
    markup = keyboard(choices, "leavewell_bot")
    assert markup is not None
    buttons = [b for row in markup.inline_keyboard for b in row]
    assert buttons[0].url == "https://t.me/leavewell_bot?start=round_a1b2c3d4e5f6"
    assert buttons[0].callback_data is None
    assert [b.callback_data for b in buttons[1:]] == [c.id for c in choices[1:]]
    # a Join pressed in the group would run the interview there: never a callback
    with pytest.raises(ValueError, match="username"):
        keyboard(choices[:1], None)
    assert keyboard(choices[1:], None) is not None


async def test_a_reply_to_a_press_in_a_group_is_its_toast() -> None:
    bot = StubBot()
    outgoing = Outgoing("round_rating_counted", "en", {"no": 2, "point": "positive"})
    await sender(bot).send(row(outgoing, reply_via="callback:4001"))
    assert bot.calls == [("answer", "4001", {
        "text": "Counted: Positive for answer #2. Thank you!"})]


async def test_without_reply_via_the_same_reply_is_a_message() -> None:
    bot = StubBot()
    outgoing = Outgoing("round_rating_counted", "en", {"no": 2, "point": "positive"})
    await sender(bot).send(row(outgoing))
    assert [kind for kind, _, _ in bot.calls] == ["message"]
    assert bot.calls[0][1] == "Counted: <i>Positive</i> for answer #2. Thank you!"


async def test_a_toast_too_late_is_dropped_not_retried() -> None:
    bot = StubBot(refuse="Query is too old and response timeout expired or query id is invalid")
    outgoing = Outgoing("round_no_self_rating", "en", {})
    with pytest.raises(PermanentDeliveryError, match="too old"):
        await sender(bot).send(row(outgoing, reply_via="callback:4002"))
    assert bot.calls == []


def test_toasts_fit_telegrams_200_characters_on_one_line() -> None:
    assert toast_text("Counted:\n  Positive") == "Counted: Positive"
    long = toast_text("word " * 100)
    assert len(long) == TOAST_LIMIT and long.endswith("…")
    assert toast_text("é" * 200) == "é" * 200


def rows(*outgoing: Outgoing, **address: str) -> list[OutboxItem]:
    return [OutboxItem(n, "telegram:-100200:7:", "telegram", {**GROUP, **address},
                       o.to_dict(), 0.0) for n, o in enumerate(outgoing, 1)]


async def test_replies_ready_together_go_out_as_one_message() -> None:
    bot = StubBot()
    plain, asking = Outgoing("help", "en"), Outgoing("help", "en",
                                                     choices=(Choice("1.skip", "Skip"),))
    sent = await sender(bot).send_joined(rows(plain, plain, asking, plain))
    assert sent == 3  # the buttons end the message: the fourth row goes next time
    ((kind, text, kwargs),) = bot.calls
    one = default_renderer().render(plain, HTML).text
    assert kind == "message" and text == "\n\n".join([one, one, one])
    assert kwargs["reply_markup"].inline_keyboard[0][0].callback_data == "1.skip"


async def test_a_toast_or_a_message_too_long_is_not_joined() -> None:
    bot = StubBot()
    assert await sender(bot).send_joined(
        rows(Outgoing("help", "en"), Outgoing("help", "en"), reply_via="callback:q9")) == 1
    assert [kind for kind, _, _ in bot.calls] == ["answer"]
    long = Outgoing("help", "en")
    one = len(default_renderer().render(long, HTML).text)
    many = rows(*[long] * (4096 // one + 2))
    bot.calls.clear()
    assert await sender(bot).send_joined(many) == (4096 + 2) // (one + 2)  # with the breaks
    assert all(len(text) <= 4096 for _, text, _ in bot.calls)
