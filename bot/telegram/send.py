"""Outbox row -> Telegram messages: HTML within 4,096 characters, inline keyboards."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.attachments import File, build_files
from bot.chunks import split_paragraphs
from bot.delivery import PermanentDeliveryError
from dialogs.outgoing import Choice, Outgoing
from dialogs.render import TELEGRAM_HTML, Renderer
from storage.base import OutboxItem

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
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


def keyboard(choices: tuple[Choice, ...]) -> InlineKeyboardMarkup | None:
    rows = []
    for choice in choices:
        if not 1 <= len(choice.id.encode()) <= CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback_data over {CALLBACK_DATA_LIMIT} bytes: {choice.id!r}")
        rows.append([InlineKeyboardButton(choice.label[:64], callback_data=choice.id)])
    return InlineKeyboardMarkup(rows) if rows else None


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


class TelegramSender:
    def __init__(self, bot: Bot, renderer: Renderer,
                 export: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
        self.bot = bot
        self.renderer = renderer
        self.export = export

    async def send(self, item: OutboxItem) -> None:
        outgoing = Outgoing.from_dict(item.payload)
        rendered = self.renderer.render(outgoing, TELEGRAM_HTML)
        chat_id = int(item.address["chat_id"])
        thread = item.address.get("thread_id") or None
        thread_id = int(thread) if thread else None
        chunks = split_html(rendered.text)
        markup = keyboard(rendered.choices)
        # Files first: a store outage fails the row before any text has left (no
        # duplicate text on the retry); a file that cannot be made is a bug, and the
        # text still goes.
        try:
            files = await build_files(outgoing, item, self.export)
        except ValueError:
            log.exception("outbox row %d: attachments left out", item.id)
            files = []
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

    async def _send_file(self, outgoing: Outgoing, file: File, chat_id: int,
                         thread_id: int | None) -> None:
        caption = None
        if file.caption_key is not None:
            text = self.renderer.render(
                Outgoing(file.caption_key, outgoing.lang, outgoing.params), TELEGRAM_HTML).text
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
