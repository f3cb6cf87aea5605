"""Outbox row -> Discord messages: markdown within 2,000 characters, buttons, no pings.

A row whose address carries reply_via "interaction:<application id>:<token>" is the
answer to someone's own action in a server channel (a round's refusal, "rating
counted"): it goes as an ephemeral follow-up of that interaction, which only they see.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
import discord

from leavewell.bot.attachments import File, files_to_send
from leavewell.bot.chunks import split_paragraphs
from leavewell.bot.delivery import OutboxItem, PermanentDeliveryError
from leavewell.bot.discord.views import choice_view
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import MARKDOWN, Renderer

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000
FILES_PER_MESSAGE = 10
INTERACTION_VIA = "interaction:"
NO_PINGS = discord.AllowedMentions.none()
TRANSIENT: tuple[type[BaseException], ...] = (
    discord.DiscordServerError, aiohttp.ClientError, asyncio.TimeoutError, OSError,
)


def split_markdown(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    return split_paragraphs(text, limit, _cut_markdown_line)


def _cut_markdown_line(line: str, limit: int) -> list[str]:
    """Cut a too-long line, never between a backslash and the character it escapes."""
    pieces: list[str] = []
    while len(line) > limit:
        cut = limit
        backslashes = len(line[:cut]) - len(line[:cut].rstrip("\\"))
        if backslashes % 2:
            cut -= 1
        pieces.append(line[:cut])
        line = line[cut:]
    if line:
        pieces.append(line)
    return pieces


NONCE_LIMIT = 25


def nonce_of(item: OutboxItem, part: str) -> str:
    """The nonce of one message of an outbox row (Discord enforces it: a message sent
    again with the same nonce within minutes is not posted twice). A reply whose answer
    was lost (a crash, a dropped connection) is resent after a restart, by any replica,
    and still shows once. The row's creation time tells rows of two databases apart."""
    stamp = f"{int(item.created_at * 1000) % 1_000_000:06d}"
    room = NONCE_LIMIT - len(f"{item.id}..{part}")
    return f"{item.id}.{stamp[-room:] if room > 0 else ''}.{part}"


async def with_retries(call: Callable[[], Awaitable[Any]], attempts: int = 4,
                       base_delay: float = 0.5) -> Any:
    """discord.py waits out 429s itself (and retries some 5xx); what still fails with a
    server error, a connection problem or a timeout is retried here with backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except TRANSIENT as exc:
            if attempt == attempts:
                raise
            log.warning("Discord request failed (%s); retry %d", type(exc).__name__, attempt)
            await asyncio.sleep(base_delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


class DiscordSender:
    def __init__(self, client: discord.Client, renderer: Renderer,
                 export: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
        self.client = client
        self.renderer = renderer
        self.export = export

    async def send(self, item: OutboxItem) -> None:
        outgoing = Outgoing.from_dict(item.payload)
        rendered = self.renderer.render(outgoing, MARKDOWN)
        # REST works from login on: replies need not wait for the gateway's READY.
        post, nonces = self._target(item)
        chunks = split_markdown(rendered.text)
        view = choice_view(rendered.choices)
        files = await files_to_send(outgoing, item, self.export)
        try:
            for number, chunk in enumerate(chunks, 1):
                last = number == len(chunks)
                kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
                if nonces:
                    kwargs["nonce"] = nonce_of(item, str(number))
                if last and view is not None:
                    kwargs["view"] = view
                await with_retries(lambda chunk=chunk, kwargs=kwargs: post(chunk, **kwargs))
            if files:
                await self._send_files(outgoing, files, post,
                                       item if nonces else None)
        except (discord.Forbidden, discord.NotFound) as exc:
            # An interaction's token lives 15 minutes: after that its webhook is gone
            # (404 Unknown Webhook) and the reply can never be delivered.
            raise PermanentDeliveryError(f"{exc.status} {exc.code}") from exc
        except discord.HTTPException as exc:
            if exc.status >= 500 or exc.status == 429:
                raise
            log.error("Discord refused outbox row %d: %s %s", item.id, exc.status, exc.code)
            raise PermanentDeliveryError(f"{exc.status} {exc.code}") from exc

    def _target(self, item: OutboxItem) -> tuple[Callable[..., Awaitable[Any]], bool]:
        """Where the row's messages go: its channel (whose messages take a nonce), or an
        interaction's follow-ups."""
        via = str(item.address.get("reply_via") or "")
        if not via.startswith(INTERACTION_VIA):
            channel = self.client.get_partial_messageable(int(item.address["chat_id"]))
            return channel.send, True
        app_id, _, token = via[len(INTERACTION_VIA):].partition(":")
        if not app_id.isdecimal() or not token:
            raise PermanentDeliveryError(f"outbox row {item.id}: unusable reply_via")
        webhook = discord.Webhook.partial(int(app_id), token, client=self.client)
        # An interaction's follow-up webhook is an application webhook: the only kind
        # that may send ephemeral messages.
        webhook.type = discord.WebhookType.application
        return partial(webhook.send, ephemeral=True), False

    async def _send_files(self, outgoing: Outgoing, files: list[File],
                          post: Callable[..., Awaitable[Any]],
                          nonce_for: OutboxItem | None) -> None:
        """All files in one follow-up message (up to ten per message), after the text,
        so editing a message's buttons later never touches them. A caption, if any,
        is the message's content."""
        for start in range(0, len(files), FILES_PER_MESSAGE):
            batch = files[start:start + FILES_PER_MESSAGE]
            captions = [self.renderer.render(
                Outgoing(f.caption_key, outgoing.lang, outgoing.params), MARKDOWN).text
                for f in batch if f.caption_key is not None]
            joined = "\n\n".join(c for c in captions if c)
            content = split_markdown(joined)[0] if joined else None

            extra = {"nonce": nonce_of(nonce_for, f"f{start}")} if nonce_for else {}

            def send(batch: list[File] = batch, content: str | None = content,
                     extra: dict[str, Any] = extra) -> Any:
                # discord.File reads its stream: a fresh one for every try.
                return post(content, files=[
                    discord.File(io.BytesIO(f.data), filename=f.name) for f in batch
                ], allowed_mentions=NO_PINGS, **extra)

            await with_retries(send)
