"""The Telegram adapter: a PTB Application whose updates go through the core.

Polling is our own loop over `getUpdates` so that an update is confirmed (offset
moved past it) only after its effects are committed: a crash re-delivers it, and
the core's event id makes the second delivery a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
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
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)

from leavewell.bot.core import Core
from leavewell.bot.incoming import Actor, ConversationRef
from leavewell.bot.ordering import KeyedQueue
from leavewell.bot.settings import Settings
from leavewell.bot.startup import StartupError
from leavewell.bot.telegram.request import AiohttpRequest
from leavewell.bot.telegram.send import TelegramSender, with_retries
from leavewell.bot.telegram.translate import (
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
from leavewell.bot.voice import Listener
from leavewell.dialogs.events import TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import TELEGRAM_HTML, Renderer, escape_html
from leavewell.dialogs.script import LANGS
from leavewell.storage._codec import StoreClosedError

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
ADMIN_STATUSES = frozenset({"creator", "administrator"})
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RECENT_IDS = 10_000
MAX_QUEUED = 2_000  # updates taken in but not yet handled before polling pauses
STORAGE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OSError, StoreClosedError)
CONNECTION_POOL = 16
INBOX_GRACE = 0.05  # seconds an update may take before it is kept in the inbox
BACKLOG = 8  # updates waiting to be handled: beyond this, keep a batch in the inbox at once
TYPING_AFTER = 1.0  # seconds without a reply before the user sees "typing…"


def ui_lang(language_code: str | None, default: str) -> str:
    code = (language_code or "").lower()[:2]
    return code if code in LANGS else default


class TelegramAdapter:
    def __init__(
        self,
        core: Core,
        renderer: Renderer,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.time,
        poll_timeout: int = 30,
        listener: Listener | None = None,
    ) -> None:
        assert settings.telegram_bot_token is not None
        self.core = core
        self.renderer = renderer
        self.settings = settings
        self.clock = clock
        self.listener = listener  # transcribes voice answers, when the extra is installed
        self.poll_timeout = poll_timeout
        self._updates_request = AiohttpRequest(pool_size=1)
        self._requests = (AiohttpRequest(pool_size=CONNECTION_POOL), self._updates_request)
        self.app = self._build(settings, *self._requests)
        self.queue = KeyedQueue()
        self._stop = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._webhook: web.AppRunner | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._offset: int | None = None
        # Ids taken in lately, so an update Telegram sends twice is dispatched once.
        self._recent: set[int] = set()
        self._recent_order: deque[int] = deque()
        # Updates of the batch being received -> whether their effects are durable yet.
        self._settled: dict[int, bool] = {}

    @staticmethod
    def _build(settings: Settings, request: AiohttpRequest,
               updates_request: AiohttpRequest) -> Application:
        assert settings.telegram_bot_token is not None
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_bot_token.get_secret_value())
            # aiohttp rather than PTB's httpx: a fraction of the CPU per call (bench_textbook).
            .request(request)
            .get_updates_request(updates_request)
        )
        if settings.telegram_api_base_url:
            builder = builder.base_url(settings.telegram_api_base_url)
        if settings.telegram_api_file_url:
            builder = builder.base_file_url(settings.telegram_api_file_url)
        if settings.telegram_rate_limit:
            # 429s are retried by our sender (with_retries), so the limiter does not retry.
            builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
        return builder.updater(None).build()

    def _submit(self, update: Update) -> asyncio.Future[None]:
        ref = conversation_of(update)
        key = ref.key if ref else f"update:{update.update_id}"
        return self.queue.submit(key, lambda: self.app.process_update(update))

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self.app.add_handler(TypeHandler(Update, self.on_update))
        self.app.add_error_handler(self._on_error)
        try:
            await self.app.initialize()  # getMe: a wrong token fails here
        except InvalidToken as exc:
            await self._close_requests()
            raise StartupError("Telegram rejected the bot token (TELEGRAM_BOT_TOKEN): "
                               "401 Unauthorized") from exc
        except NetworkError as exc:
            await self._close_requests()
            where = self.settings.telegram_api_base_url or "https://api.telegram.org"
            raise StartupError(f"cannot reach the Telegram Bot API at {where}: {exc}") from exc
        await self.app.start()
        self.core.register_sender(PLATFORM, TelegramSender(
            self.app.bot, self.renderer, self.core.store.export_user,
            bot_username=self.app.bot.username))
        await self._register_commands()
        await self._replay_inbox()
        if self.settings.telegram_webhook_url:
            await self._start_webhook()
        else:
            await with_retries(lambda: self.app.bot.delete_webhook())
            self._poller = asyncio.create_task(self._poll())
        log.info("Telegram adapter running as @%s", self.app.bot.username)

    @property
    def idle(self) -> bool:
        """Nothing received is still being handled."""
        return len(self.queue) == 0

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
        await self.queue.drain(timeout=10)
        if self._offset is not None and self._webhook is None:
            # confirm the last batch taken in (it is in the inbox), so it is not sent again
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
            language = None if lang == self.settings.default_lang else lang
            await with_retries(lambda commands=commands, language=language:
                               self.app.bot.set_my_commands(
                                   commands, scope=BotCommandScopeDefault(),
                                   language_code=language))

    # -- receiving ---------------------------------------------------------------------

    async def _poll(self) -> None:
        failures = 0
        while not self._stop.is_set():
            if len(self.queue) > MAX_QUEUED:  # let the backlog drain before taking more
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
                await self._receive(updates, self._as_received(updates))
            except Exception:
                # Not durable yet, so not confirmed: Telegram will send them again.
                log.exception("could not store received updates; retrying")
                await self._pause(1)
                continue
            self._offset = max(u.update_id for u in updates) + 1

    def _as_received(self, updates: list[Update]) -> dict[int, dict[str, Any]]:
        """getUpdates' JSON per update id, as Telegram sent it (re-encoding PTB's objects
        with `to_dict()` costs about half a millisecond per update)."""
        try:
            result = json.loads(self._updates_request.last_body)["result"]
            received = {int(raw["update_id"]): raw for raw in result}
        except (ValueError, KeyError, TypeError):
            return {}
        wanted = {u.update_id for u in updates}
        return received if wanted <= received.keys() else {}

    async def _receive(self, updates: list[Update],
                       received: dict[int, dict[str, Any]] | None = None) -> None:
        """Queue updates per conversation and make each durable before the offset moves
        past it (which confirms it to Telegram): its step committed, or kept in the inbox.
        Most updates are handled within milliseconds, so only those still in progress
        after INBOX_GRACE are written to the inbox (all at once when a backlog waits):
        an update's own commit is the only write on its way to the reply."""
        fresh = [u for u in updates if u.update_id not in self._recent]
        backlog = len(self.queue) > BACKLOG
        for update in fresh:
            self._settled[update.update_id] = False
        handling = []
        for update in fresh:
            self._recent.add(update.update_id)
            self._recent_order.append(update.update_id)
            if len(self._recent_order) > RECENT_IDS:
                self._recent.discard(self._recent_order.popleft())
            handling.append(self._submit(update))
        try:
            if handling and not backlog:
                await asyncio.wait(handling, timeout=INBOX_GRACE)
            unsettled = [u for u in fresh if not self._settled.get(u.update_id)]
            try:
                await self.core.store.inbox_put([
                    (event_id_of(u), (received or {}).get(u.update_id) or u.to_dict())
                    for u in unsettled])
            except BaseException:
                # Not confirmed, so Telegram sends them again: let them in then (the core
                # knows which of them were processed meanwhile).
                self._recent.difference_update(u.update_id for u in unsettled)
                raise
        finally:
            for update in fresh:
                self._settled.pop(update.update_id, None)

    def _settle(self, update: Update) -> None:
        """The update's effects are durable (committed, or deliberately dropped)."""
        if update.update_id in self._settled:
            self._settled[update.update_id] = True

    async def _replay_inbox(self) -> None:
        """Updates received before a crash but never processed: handle them first."""
        pending = await self.core.store.inbox_pending(f"{PLATFORM}:", limit=1_000_000)
        updates = [Update.de_json(payload, self.app.bot) for _, payload in pending]
        for update in updates:
            if update is not None:
                self._recent.add(update.update_id)
                self._recent_order.append(update.update_id)
                self._submit(update)
        if updates:
            log.info("replaying %d updates received before a restart", len(updates))

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the adapter is stopping."""
        waiter = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({waiter}, timeout=seconds)
        finally:
            waiter.cancel()

    async def _start_webhook(self) -> None:
        url = self.settings.telegram_webhook_url or ""
        path = urlsplit(url).path or "/"
        secret = self.settings.telegram_webhook_secret
        app = web.Application()
        app.router.add_post(path, self._on_webhook)
        self._webhook = web.AppRunner(app, access_log=None)
        await self._webhook.setup()
        host, _, port = self.settings.telegram_webhook_listen.rpartition(":")
        await web.TCPSite(self._webhook, host, int(port)).start()
        await with_retries(lambda: self.app.bot.set_webhook(
            url, allowed_updates=ALLOWED_UPDATES,
            secret_token=secret.get_secret_value() if secret else None))

    async def _on_webhook(self, request: web.Request) -> web.Response:
        secret = self.settings.telegram_webhook_secret
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
        await self._receive([update], {update.update_id: payload})
        return web.Response(status=200)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("error while handling a Telegram update", exc_info=context.error)

    # -- one update --------------------------------------------------------------------

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        in_group = update.effective_chat is not None and not is_private(update)
        round_in_group = in_group and is_round_business(update, self.app.bot.username)
        if in_group and not round_in_group:
            if query is not None:
                await self._acknowledge(query)
            if self._addressed_to_us(update):
                await self._invite_to_private(update)
            await self.core.store.inbox_drop([event_id_of(update)])
            self._settle(update)
            return
        incoming = incoming_of(update, self.app.bot.username, self.clock())
        if incoming is None:  # nothing an interview reacts to
            if query is not None:
                await self._acknowledge(query)
            await self.core.store.inbox_drop([event_id_of(update)])
            self._settle(update)
            return
        incoming = replace(
            incoming, actor=await self._actor(update, in_group),
            reply_via=f"callback:{query.id}" if query is not None and in_group else None)
        typing = self._typing_later(int(incoming.ref.chat_id)) \
            if isinstance(incoming.event, TextAnswer) else None
        spoken = spoken_of(update)
        if self.listener is not None and spoken is not None:
            incoming = replace(incoming, event=await self.listener.hear(
                incoming.event, lambda: self._download(spoken.file_id)))
        replied = False
        failed = True
        try:
            for attempt in range(3):  # the commit is idempotent, so a retry is safe
                try:
                    replied = await self.core.handle(incoming) is not None
                    failed = False
                    self._settle(update)
                    break
                except Exception as exc:
                    if attempt == 2:
                        if not isinstance(exc, STORAGE_ERRORS):
                            # A bug in handling this update: give up on it rather than
                            # replay it at every start. A storage outage keeps it for later.
                            await self.core.store.inbox_drop([event_id_of(update)])
                            self._settle(update)
                        raise
                    log.warning("handling update %s failed; retrying", update.update_id,
                                exc_info=True)
                    await asyncio.sleep(0.2 * (attempt + 1))
        finally:
            if typing is not None:
                typing.cancel()
            if query is not None and round_in_group and failed:
                await self._acknowledge(query)  # its reply will not come: stop the spinner
        if query is not None and not round_in_group and replied:
            # Answered once, after the press's commit, by the process that handled it: a
            # press handled before a restart and delivered again changes and answers
            # nothing. (A round's press is answered by its reply, a toast in the outbox.)
            await self._acknowledge(query)
        if query is not None and not in_group and replied:
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
            _user, conversation = await self.core.store.load(ref.key, ref.user_key)
        except STORAGE_ERRORS:
            log.warning("could not check for a private chat with a user", exc_info=True)
            return True  # unknown: no warning rather than a wrong one
        return conversation is not None

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
        lang = ui_lang(user.language_code if user else None, self.settings.default_lang)
        rendered = self.renderer.render(Outgoing("go_private", lang), TELEGRAM_HTML)
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

    def _in_background(self, coroutine: Any) -> None:
        async def quietly() -> None:
            with contextlib.suppress(TelegramError):
                await coroutine

        task = asyncio.create_task(quietly())
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
