"""Outbox row -> Telegram messages: HTML within 4,096 characters, inline keyboards.

Two things are Telegram's own: a round's Join choice becomes a deep link to a private
chat with the bot (a bot cannot write to anyone who never started it), and a reply to a
button pressed in a group (address["reply_via"] == "callback:<query id>") is the
toast that answers the press, seen only by whoever pressed it.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from leavewell.bot.attachments import File, files_to_send
from leavewell.bot.chunks import split_paragraphs
from leavewell.bot.delivery import OutboxItem, PermanentDeliveryError
from leavewell.bot.telegram.inbound import DEEP_LINK_PREFIX
from leavewell.dialogs.outgoing import Choice, Outgoing
from leavewell.dialogs.render import HTML, PLAIN, Rendered, Renderer
from leavewell.dialogs.rounds.commands import parse_choice

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
TOAST_LIMIT = 200  # answerCallbackQuery's text
CALLBACK_VIA = "callback:"
_TAG = re.compile(r"<[^>]*>")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def split_html(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    return split_paragraphs(text, limit, _cut_html_line)


def _cut_html_line(line: str, limit: int) -> list[str]:
    """A single line still too long loses its formatting and is cut, so a tag or an
    entity is never broken in two."""
    plain = html.unescape(_TAG.sub("", line))
    step = limit // 6  # an escaped character takes at most 6 ('&quot;')
    return [html.escape(plain[i:i + step], quote=False) for i in range(0, len(plain), step)]


def keyboard(choices: tuple[Choice, ...],
             bot_username: str | None = None) -> InlineKeyboardMarkup | None:
    rows = []
    for choice in choices:
        label = choice.label[:64]
        link = deep_link(choice.id, bot_username)
        if link is not None:
            rows.append([InlineKeyboardButton(label, url=link)])
            continue
        if not 1 <= len(choice.id.encode()) <= CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback_data over {CALLBACK_DATA_LIMIT} bytes: {choice.id!r}")
        rows.append([InlineKeyboardButton(label, callback_data=choice.id)])
    return InlineKeyboardMarkup(rows) if rows else None


def deep_link(choice_id: str, bot_username: str | None) -> str | None:
    """A round's Join choice as t.me/<bot>?start=round_<id>: following it opens the
    private chat and sends /start round_<id> there. None for any other choice."""
    parsed = parse_choice(choice_id)
    if parsed is None or parsed[1] != "join":
        return None
    if not bot_username:
        # As callback data the press would come from the group, and the interview
        # would answer there, in front of everyone.
        raise ValueError("a round's Join button needs the bot's username")
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}{parsed[0]}"


def toast_text(text: str, limit: int = TOAST_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


async def with_retries(call: Callable[[], Awaitable[Any]], attempts: int = 4) -> Any:
    """Telegram's documented ways to fail that are worth waiting out: 429 with
    retry_after, 5xx (NetworkError) and timeouts. Anything else is final."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryAfter as exc:
            delay = exc.retry_after
            wait = delay.total_seconds() if hasattr(delay, "total_seconds") else float(delay)
            if attempt == attempts:
                raise
            await asyncio.sleep(wait)
        except (TimedOut, NetworkError) as exc:
            if isinstance(exc, BadRequest) or attempt == attempts:
                raise
            await asyncio.sleep(0.5 * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


CAPTION_LIMIT = 1024
JOIN = "\n\n"  # between replies sent as one message


class TelegramSender:
    def __init__(self, bot: Bot, renderer: Renderer,
                 export: Callable[[str], Awaitable[dict[str, Any]]], *,
                 bot_username: str | None = None) -> None:
        self.bot = bot
        self.renderer = renderer
        self.bot_username = bot_username  # for deep links; known once the bot is initialised
        self.export = export

    async def send(self, item: OutboxItem) -> None:
        outgoing = Outgoing.from_dict(item.payload)
        via = str(item.address.get("reply_via") or "")
        if via.startswith(CALLBACK_VIA):
            await self._answer_press(via[len(CALLBACK_VIA):], outgoing)
            return
        await self._send_text(item, outgoing, self.renderer.render(outgoing, HTML))

    async def send_joined(self, items: list[OutboxItem]) -> int:
        """Replies of one step that are ready together go out as one message when they
        can ("Got it." and the next question): one Bot API call instead of two. Only the
        last may carry buttons or files, a press's toast goes alone, and the whole must
        fit one message. Returns how many of `items` (from the first) were sent."""
        joined: list[tuple[OutboxItem, Outgoing, Rendered]] = []
        length = 0
        for item in items:
            if str(item.address.get("reply_via") or "").startswith(CALLBACK_VIA):
                break
            outgoing = Outgoing.from_dict(item.payload)
            rendered = self.renderer.render(outgoing, HTML)
            if joined:
                _, before, shown = joined[-1]
                length += len(JOIN)
                if shown.choices or before.attachments:
                    break
            length += len(rendered.text)
            if length > TEXT_LIMIT and joined:
                break
            joined.append((item, outgoing, rendered))
        if not joined:  # a toast
            await self.send(items[0])
            return 1
        if len(joined) == 1:
            await self._send_text(*joined[0])
            return 1
        item, outgoing, rendered = joined[-1]
        text = JOIN.join(shown.text for _, _, shown in joined)
        await self._send_text(item, outgoing, replace(rendered, text=text))
        return len(joined)

    async def _send_text(self, item: OutboxItem, outgoing: Outgoing,
                         rendered: Rendered) -> None:
        chat_id = int(item.address["chat_id"])
        thread = item.address.get("thread_id") or None
        thread_id = int(thread) if thread else None
        chunks = split_html(rendered.text)
        try:
            markup = keyboard(rendered.choices, self.bot_username)
        except ValueError as exc:  # our bug (an id over 64 bytes): retrying cannot help
            log.error("outbox row %d has buttons Telegram cannot take: %s", item.id, exc)
            raise PermanentDeliveryError(str(exc)) from exc
        files = await files_to_send(outgoing, item, self.export)
        try:
            for number, chunk in enumerate(chunks, 1):
                last = number == len(chunks)
                await with_retries(lambda chunk=chunk, last=last: self.bot.send_message(
                    chat_id,
                    chunk,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup if last else None,
                    message_thread_id=thread_id,
                    link_preview_options=NO_PREVIEW,
                ))
            for file in files:
                await self._send_file(outgoing, file, chat_id, thread_id)
        except Forbidden as exc:  # blocked by the user, or never started: final
            raise PermanentDeliveryError(str(exc)) from exc
        except BadRequest as exc:  # our bug, not the platform's: retrying will not help
            log.error("Telegram refused outbox row %d: %s", item.id, exc.message)
            raise PermanentDeliveryError(exc.message) from exc

    async def _answer_press(self, query_id: str, outgoing: Outgoing) -> None:
        """The reply to a press in a group: a toast only the presser sees."""
        text = toast_text(self.renderer.render(outgoing, PLAIN).text)
        try:
            await with_retries(lambda: self.bot.answer_callback_query(query_id, text=text))
        except (BadRequest, Forbidden) as exc:  # too old (or answered): it never will be
            raise PermanentDeliveryError(exc.message) from exc

    async def _send_file(self, outgoing: Outgoing, file: File, chat_id: int,
                         thread_id: int | None) -> None:
        caption = None
        if file.caption_key is not None:
            text = self.renderer.render(
                Outgoing(file.caption_key, outgoing.lang, outgoing.params), HTML).text
            caption = split_html(text, CAPTION_LIMIT)[0] if text else None
        kwargs: dict[str, Any] = {
            "filename": file.name,
            "caption": caption,
            "parse_mode": ParseMode.HTML if caption else None,
            "message_thread_id": thread_id,
        }
        if file.kind == "photo":
            await with_retries(lambda: self.bot.send_photo(chat_id, file.data, **kwargs))
        else:
            await with_retries(lambda: self.bot.send_document(chat_id, file.data, **kwargs))
