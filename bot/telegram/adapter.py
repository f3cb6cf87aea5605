"""The Telegram adapter: PTB's Bot for the API, updates handed to the core's intake.

Polling is our own loop over `getUpdates` so that an update is confirmed (offset moved
past it) only once the intake says it is durable: a crash re-delivers it, and the core's
event id makes the second delivery a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from leavewell.bot.incoming import Actor, ConversationRef, Incoming
from leavewell.bot.intake import Outcome, Received
from leavewell.bot.plugin import AdapterContext
from leavewell.bot.startup import StartupError
from leavewell.bot.telegram.inbound import (
    PLATFORM,
    command_of,
    conversation_of,
    event_id_of,
    incoming_of,
    is_private,
    is_round_business,
    private_address,
    spoken_of,
)
from leavewell.bot.telegram.request import AiohttpRequest
from leavewell.bot.telegram.send import TelegramSender, with_retries
from leavewell.bot.telegram.settings import TelegramSettings
from leavewell.dialogs.events import TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import HTML, escape_html
from leavewell.dialogs.script import LANGS

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
ADMIN_STATUSES = frozenset({"creator", "administrator"})
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_QUEUED = 2_000  # updates taken in but not yet handled before polling pauses
CONNECTION_POOL = 16
TYPING_AFTER = 1.0  # seconds without a reply before the user sees "typing…"


def ui_lang(language_code: str | None, default: str) -> str:
    code = (language_code or "").lower()[:2]
    return code if code in LANGS else default


@dataclass(slots=True)
class _InHand:
    """What the adapter keeps about an update between interpreting and settling it."""

    update: Update
    in_group: bool = False
    round_in_group: bool = False
    typing: asyncio.Task[None] | None = None


class TelegramAdapter:
    """Polls (or takes webhooks), hands updates to the core's intake, and does what
    Telegram demands of an update once it is handled (answer a button press)."""

    platform = PLATFORM

    def __init__(
        self,
        context: AdapterContext,
        settings: TelegramSettings,
        *,
        clock: Callable[[], float] = time.time,
        poll_timeout: int = 30,
    ) -> None:
        assert settings.bot_token is not None
        self.context = context
        self.core = context.core
        self.intake = context.intake
        self.renderer = context.renderer
        self.settings = settings
        self.default_lang = context.default_lang
        self.clock = clock
        self.listener = context.listener  # transcribes voice answers, when installed
        self.poll_timeout = poll_timeout
        self._updates_request = AiohttpRequest(pool_size=1)
        self._requests = (AiohttpRequest(pool_size=CONNECTION_POOL), self._updates_request)
        self.app = self._build(settings, *self._requests)
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._webhook: web.AppRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._offset: int | None = None
        self._in_hand: dict[str, _InHand] = {}

    @staticmethod
    def _build(settings: TelegramSettings, request: AiohttpRequest,
               updates_request: AiohttpRequest) -> Application:
        assert settings.bot_token is not None
        builder = (
            ApplicationBuilder()
            .token(settings.bot_token.get_secret_value())
            # aiohttp rather than PTB's httpx: a fraction of the CPU per call (bench_textbook).
            .request(request)
            .get_updates_request(updates_request)
        )
        if settings.api_base_url:
            builder = builder.base_url(settings.api_base_url)
        if settings.api_file_url:
            builder = builder.base_file_url(settings.api_file_url)
        if settings.rate_limit:
            # 429s are retried by our sender (with_retries), so the limiter does not retry.
            builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
        return builder.updater(None).build()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.app.initialize()  # getMe: a wrong token fails here
        except InvalidToken as exc:
            await self._close_requests()
            raise StartupError("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN): "
                               "401 Unauthorized") from exc
        except NetworkError as exc:
            await self._close_requests()
            where = self.settings.api_base_url or "https://api.telegram.org"
            raise StartupError(f"cannot reach the Telegram Bot API at {where}: {exc}") from exc
        await self.app.start()
        self.context.register_sender(PLATFORM, TelegramSender(
            self.app.bot, self.renderer, self.core.export_user,
            bot_username=self.app.bot.username))
        await self._register_commands()
        await self.intake.replay(self)
        if self.settings.webhook_url:
            await self._start_webhook()
        else:
            await with_retries(lambda: self.app.bot.delete_webhook())
            self._poller = asyncio.create_task(self._poll())
        log.info("Telegram adapter running as @%s", self.app.bot.username)

    @property
    def idle(self) -> bool:
        """Nothing received is still being handled."""
        return self.intake.idle

    async def _close_requests(self) -> None:
        """A failed start leaves PTB's bot uninitialised, so its shutdown would skip the
        HTTP sessions the failed getMe opened: close them here."""
        for request in self._requests:
            await request.shutdown()

    async def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.cancel()  # it may sit in a long poll
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._webhook is not None:
            await self._webhook.cleanup()
        await self.intake.drain(timeout=10)
        if self._offset is not None and self._webhook is None:
            # confirm the last batch taken in (it is durable), so it is not sent again
            with contextlib.suppress(TelegramError):
                await self.app.bot.get_updates(offset=self._offset, timeout=0, limit=1)
        for task in list(self._background):
            task.cancel()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def _register_commands(self) -> None:
        for lang, catalog in self.renderer.script.catalogs.items():
            commands = [BotCommand(name, text[:256]) for name, text in catalog.commands.items()]
            language = None if lang == self.default_lang else lang
            await with_retries(lambda commands=commands, language=language:
                               self.app.bot.set_my_commands(
                                   commands, scope=BotCommandScopeDefault(),
                                   language_code=language))

    # -- receiving ---------------------------------------------------------------------

    async def _poll(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if len(self.intake) > MAX_QUEUED:  # let the backlog drain before taking more
                await self._pause(0.2)
                continue
            try:
                updates = await self.app.bot.get_updates(
                    offset=self._offset, timeout=self.poll_timeout,
                    allowed_updates=ALLOWED_UPDATES,
                )
                failures = 0
            except RetryAfter as exc:
                await self._pause(_seconds(exc.retry_after))
                continue
            except Conflict:
                log.error("another process is polling with this token; retrying")
                await self._pause(5)
                continue
            except (NetworkError, TelegramError) as exc:
                failures += 1
                log.warning("getUpdates failed (%s); retrying", exc)
                await self._pause(min(30, 0.5 * 2 ** failures))
                continue
            if not updates:
                continue
            try:
                await self.intake.receive(self, self._received(updates))
            except Exception:
                # Not durable yet, so not confirmed: Telegram will send them again.
                log.exception("could not store received updates; retrying")
                await self._pause(1)
                continue
            self._offset = max(u.update_id for u in updates) + 1

    def _received(self, updates: list[Update]) -> list[Received]:
        """For the intake: each update with the JSON Telegram sent for it (re-encoding
        PTB's objects with `to_dict()` costs about half a millisecond per update)."""
        try:
            result = json.loads(self._updates_request.last_body)["result"]
            sent = {int(raw["update_id"]): raw for raw in result}
        except (ValueError, KeyError, TypeError):
            sent = {}
        return [Received(event_id_of(u), _order_key(u), sent.get(u.update_id) or u.to_dict(),
                         live=u) for u in updates]

    def order_key(self, payload: dict[str, Any]) -> str | None:
        update = Update.de_json(payload, self.app.bot)
        return _order_key(update) if update is not None else None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the adapter is stopping."""
        waiter = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({waiter}, timeout=seconds)
        finally:
            waiter.cancel()

    async def _start_webhook(self) -> None:
        url = self.settings.webhook_url or ""
        path = urlsplit(url).path or "/"
        secret = self.settings.webhook_secret
        app = web.Application()
        app.router.add_post(path, self._on_webhook)
        self._webhook = web.AppRunner(app, access_log=None)
        await self._webhook.setup()
        host, _, port = self.settings.webhook_listen.rpartition(":")
        await web.TCPSite(self._webhook, host, int(port)).start()
        await with_retries(lambda: self.app.bot.set_webhook(
            url, allowed_updates=ALLOWED_UPDATES,
            secret_token=secret.get_secret_value() if secret else None))

    async def _on_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.webhook_secret
        given = request.headers.get(WEBHOOK_SECRET_HEADER, "")
        if secret is None or not hmac.compare_digest(given, secret.get_secret_value()):
            return web.Response(status=403)
        try:
            payload = await request.json()
            update = Update.de_json(payload, self.app.bot)
        except Exception:
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        # Answer once it is durable: if we die later, Telegram or the inbox replays it.
        await self.intake.receive(self, [Received(event_id_of(update), _order_key(update),
                                                  payload, live=update)])
        return web.Response(status=200)

    # -- one update (the intake's Interpreter) -----------------------------------------

    async def interpret(self, received: Received) -> Incoming | None:
        update = received.live or Update.de_json(received.payload, self.app.bot)
        if update is None:
            return None
        query = update.callback_query
        in_group = update.effective_chat is not None and not is_private(update)
        round_in_group = in_group and is_round_business(update, self.app.bot.username)
        hand = self._in_hand[received.event_id] = _InHand(update, in_group, round_in_group)
        if in_group and not round_in_group:
            # Practice is private: in a group only a hint to move to a private chat.
            if query is not None:
                await self._acknowledge(query)
            if self._addressed_to_us(update):
                await self._invite_to_private(update)
            return None
        incoming = incoming_of(update, self.app.bot.username, self.clock())
        if incoming is None:  # nothing an interview reacts to
            if query is not None:
                await self._acknowledge(query)
            return None
        incoming = replace(
            incoming, actor=await self._actor(update, in_group),
            reply_via=f"callback:{query.id}" if query is not None and in_group else None)
        if isinstance(incoming.event, TextAnswer):
            hand.typing = self._typing_later(int(incoming.ref.chat_id))
        spoken = spoken_of(update)
        if self.listener is not None and spoken is not None:
            incoming = replace(incoming, event=await self.listener.hear(
                incoming.event, lambda: self._download(spoken.file_id)))
        return incoming

    async def settled(self, received: Received, outcome: Outcome) -> None:
        hand = self._in_hand.pop(received.event_id, None)
        if hand is None:
            return
        if hand.typing is not None:
            hand.typing.cancel()
        query = hand.update.callback_query
        if query is None or outcome.incoming is None:
            return
        if hand.round_in_group:
            if outcome.error is not None:
                await self._acknowledge(query)  # its reply will not come: stop the spinner
            # Otherwise the round's reply answers the press: a toast in the outbox.
            return
        if outcome.replied:
            # Answered once, after the press's commit, by the process that handled it: a
            # press handled before a restart and delivered again changes and answers
            # nothing.
            await self._acknowledge(query)
            if not hand.in_group:
                await self._show_choice(query)

    async def _download(self, file_id: str) -> bytes:
        file = await self.app.bot.get_file(file_id)
        return bytes(await file.download_as_bytearray())

    async def _actor(self, update: Update, in_group: bool) -> Actor:
        user = update.effective_user
        if user is None:
            return Actor(in_group=in_group)
        privileged = False
        reach_open = True
        message = update.message
        if in_group and message is not None and update.effective_chat is not None:
            # Only /round asks: who may start and end rounds is the group's admins.
            try:
                member = await with_retries(lambda: self.app.bot.get_chat_member(
                    update.effective_chat.id, user.id))  # type: ignore[union-attr]
                privileged = member.status in ADMIN_STATUSES
            except TelegramError as exc:
                log.warning("could not check whether a user is a group admin: %s", exc)
            reach_open = await self._started_us(user.id)
        return Actor(name=user.full_name, privileged=privileged, in_group=in_group,
                     reach=private_address(user.id), reach_open=reach_open)

    async def _started_us(self, user_id: int) -> bool:
        """Whether the user ever wrote to us in private: until they do, Telegram refuses
        what we send there (a mentor's report would be lost)."""
        ref = ConversationRef.from_address(private_address(user_id))
        try:
            return await self.core.knows_conversation(ref)
        except Exception:
            log.warning("could not check for a private chat with a user", exc_info=True)
            return True  # unknown: no warning rather than a wrong one

    def _addressed_to_us(self, update: Update) -> bool:
        """In a group only our own commands and replies to us get an answer, so the bot
        never chatters when it can see every message (as an admin, or without privacy)."""
        message = update.message
        if message is None:
            return False
        if command_of(message, self.app.bot.username) is not None:
            return True
        replied = message.reply_to_message
        return bool(replied and replied.from_user and replied.from_user.id == self.app.bot.id)

    async def _acknowledge(self, query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:  # too old to answer: the press is still handled
            log.debug("callback query not answered: %s", exc)

    async def _show_choice(self, query: CallbackQuery) -> None:
        """Replace the pressed keyboard with the choice, so it cannot be pressed again."""
        message = query.message
        markup = getattr(message, "reply_markup", None)
        if message is None or markup is None or not hasattr(message, "text_html"):
            return
        label = next((b.text for row in markup.inline_keyboard for b in row
                      if b.callback_data == query.data), None)
        text = message.text_html or ""
        if label:
            text = f"{text}\n\n<i>✓ {escape_html(label)}</i>"
        with contextlib.suppress(BadRequest):
            await with_retries(lambda: query.edit_message_text(
                text, parse_mode=ParseMode.HTML, reply_markup=None))

    async def _invite_to_private(self, update: Update) -> None:
        """Answers about leaving a job are sensitive: the interview moves to a private chat."""
        chat = update.effective_chat
        user = update.effective_user
        if chat is None:
            return
        lang = ui_lang(user.language_code if user else None, self.default_lang)
        rendered = self.renderer.render(Outgoing("go_private", lang), HTML)
        label = self.renderer.script.catalogs[lang].labels["open_private"]
        link = f"https://t.me/{self.app.bot.username}?start=practice"
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, url=link)]])
        message = update.effective_message
        with contextlib.suppress(TelegramError):
            await with_retries(lambda: self.app.bot.send_message(
                chat.id, rendered.text, parse_mode=ParseMode.HTML, reply_markup=markup,
                reply_to_message_id=message.message_id if message and not
                update.callback_query else None,
                message_thread_id=message.message_thread_id if message and
                message.is_topic_message else None,
            ))

    def _typing_later(self, chat_id: int) -> asyncio.Task[None]:
        """"typing…" only when the reply is slow to come: most replies are ready in a few
        milliseconds, and an indicator before them would cost a Bot API call per answer
        (under a burst, when calls cost most)."""
        async def typing() -> None:
            await asyncio.sleep(TYPING_AFTER)
            with contextlib.suppress(TelegramError):
                await self.app.bot.send_chat_action(chat_id, ChatAction.TYPING)

        task = asyncio.create_task(typing())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task


def _order_key(update: Update) -> str:
    ref = conversation_of(update)
    return ref.key if ref is not None else f"{PLATFORM}:update:{update.update_id}"


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
