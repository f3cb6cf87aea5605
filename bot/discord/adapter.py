"""The Discord adapter: a discord.py Client whose events go through the core.

Thin by design: it translates gateway events into core events, acknowledges every
interaction at once, keeps server practice private (a private thread, or a DM), and
sends the core's outbox. The interview itself lives in `dialogs/`.

Mentor rounds in a server channel: `/round` and the round's buttons there reach the core
with who acted (an Actor: may they run rounds, where to reach them privately) and how
to answer them privately in place (an ephemeral follow-up of their interaction). Join
opens the member's private place, where the round's question is asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from leavewell.bot.core import Core
from leavewell.bot.discord import guilds
from leavewell.bot.discord.commands import CatalogTranslator, build_commands
from leavewell.bot.discord.send import NO_PINGS, DiscordSender, with_retries
from leavewell.bot.discord.translate import (
    PLATFORM,
    audio_attachments,
    incoming_of_message,
    interaction_id,
    is_interview_place,
    lang_hint,
    ref_of,
    ui_lang,
)
from leavewell.bot.discord.views import PREFIX, ChoiceButton, button_label
from leavewell.bot.incoming import Actor, ConversationRef, Incoming
from leavewell.bot.ordering import KeyedQueue
from leavewell.bot.settings import Settings
from leavewell.bot.startup import StartupError
from leavewell.bot.voice import Listener
from leavewell.dialogs.events import ChoicePressed, Command, Event, Start
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import MARKDOWN, PLAIN, Renderer, Safe
from leavewell.dialogs.rounds.commands import parse_choice
from leavewell.dialogs.rounds.machine import destination
from leavewell.storage.base import ConversationRecord, OutboxItem, RoundRecord

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000
ALREADY_ACKNOWLEDGED = 40060
PRIVATE_START = ("practice", "start")  # commands that open a private place on a server
ROUND_COMMAND = "round"
INTERACTION_VIA = "interaction:"  # reply_via of a channel event: answer by follow-up


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True  # answers are typed in the thread / DM
    return wanted


class LeavewellClient(discord.Client):
    def __init__(self, adapter: DiscordAdapter) -> None:
        # The bot never joins voice: no "PyNaCl is not installed" warnings on stderr.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=intents(), allowed_mentions=NO_PINGS, max_messages=None,
                         chunk_guilds_at_startup=False, guild_ready_timeout=0.5)
        self.choice_handler = adapter
        self.adapter = adapter
        self.tree: app_commands.CommandTree[LeavewellClient] = app_commands.CommandTree(self)

    async def on_ready(self) -> None:
        self.adapter.ready.set()
        log.info("Discord gateway ready as %s", self.user)
        # Every new session (first start or a reconnect that could not resume) may have
        # missed messages: read the open interviews back.
        self.adapter.catch_up_later()

    async def on_message(self, message: discord.Message) -> None:
        self.adapter.on_message(message)


class DiscordAdapter:
    def __init__(self, core: Core, renderer: Renderer, settings: Settings, *,
                 clock: Callable[[], float] = time.time,
                 listener: Listener | None = None) -> None:
        assert settings.discord_bot_token is not None
        self.core = core
        self.renderer = renderer
        self.settings = settings
        self.clock = clock
        self.listener = listener  # transcribes voice answers, when the extra is installed
        self.ready = asyncio.Event()
        self.queue = KeyedQueue()
        self._guild_lock = asyncio.Lock()
        self._connector: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        # Until the history of open interviews is read back, live messages wait here.
        self._catching_up = True
        self._held: list[discord.Message] = []
        self.client = LeavewellClient(self)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self.settings.discord_api_base_url:
            Route.BASE = self.settings.discord_api_base_url.rstrip("/")
        if self.settings.discord_gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.discord_gateway_url)
        assert self.settings.discord_bot_token is not None
        try:
            await self.client.login(self.settings.discord_bot_token.get_secret_value())
        except discord.LoginFailure as exc:
            await self.client.close()
            raise StartupError("Discord rejected the bot token (DISCORD_BOT_TOKEN): "
                               "401 Unauthorized") from exc
        except aiohttp.ClientError as exc:
            await self.client.close()
            raise StartupError(f"cannot reach the Discord API at {Route.BASE}: {exc}") from exc
        self.core.register_sender(PLATFORM, DiscordSender(self.client, self.renderer,
                                                          self.core.store.export_user))
        self.client.add_dynamic_items(ChoiceButton)
        await self._sync_commands()
        self._connector = asyncio.create_task(self._connect())
        ready = asyncio.ensure_future(self.ready.wait())
        await asyncio.wait({ready, self._connector}, timeout=30,
                           return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._connector.done():
            self._connector.result()  # a refused IDENTIFY (bad token, intents) fails here
        if not self.ready.is_set():
            log.warning("Discord gateway not ready yet; serving anyway")

    async def _connect(self) -> None:
        await self.client.connect(reconnect=True)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.queue.drain(timeout=10)
        await self.client.close()
        if self._connector is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._connector, 10)
        await self.queue.drain(timeout=5)

    async def _sync_commands(self) -> None:
        tree = self.client.tree
        guild = discord.Object(self.settings.discord_guild_id) \
            if self.settings.discord_guild_id else None
        build_commands(tree, self.renderer, self, guild)
        await tree.set_translator(CatalogTranslator(self.renderer))
        try:
            synced = await with_retries(lambda: tree.sync(guild=guild))
        except discord.HTTPException as exc:
            log.error("slash commands not synced: %s %s", exc.status, exc.code)
            return
        log.info("synced %d slash commands %s", len(synced),
                 f"to guild {guild.id}" if guild else "globally")

    # -- messages ----------------------------------------------------------------------

    def on_message(self, message: discord.Message) -> None:
        """Synchronous: the event joins its conversation's queue in gateway order."""
        if self._catching_up:
            self._held.append(message)
            return
        me = self.client.user
        incoming = incoming_of_message(message, me.id if me else 0)
        if incoming is not None:
            self.queue.submit(incoming.ref.key,
                              lambda: self._handle(incoming, heard_from=message))

    async def replay_presses(self) -> None:
        """Button presses acknowledged before a crash but never handled."""
        for event_id, payload in await self.core.store.inbox_pending(f"{PLATFORM}:",
                                                                      limit=100_000):
            try:
                ref = ConversationRef.from_address(payload["address"])
                event = ChoicePressed(at=float(payload["at"]), choice=str(payload["choice"]))
                who = payload.get("actor") or {}
                actor = Actor(name=str(who.get("name") or ""),
                              in_group=bool(who.get("in_group")))
                via = payload.get("reply_via")
            except (KeyError, TypeError, ValueError, AttributeError):
                await self.core.store.inbox_drop([event_id])
                continue
            # A press in a channel answers its presser by the interaction's follow-up,
            # still possible for 15 minutes; later the reply is dropped as undeliverable.
            incoming = Incoming(ref, event, event_id, actor=actor,
                                reply_via=str(via) if via else None)
            self.queue.submit(ref.key, lambda incoming=incoming: self._handle(incoming))

    def catch_up_later(self) -> None:
        self._catching_up = True
        task = asyncio.create_task(self.catch_up())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def catch_up(self) -> None:
        """Discord does not re-send gateway events to a new session, so messages written
        while the bot was down (or just before it died) are read back from the history
        of every open interview. Already processed ones are skipped by their event id.
        Live messages that arrive meanwhile wait, so each conversation keeps its order."""
        try:
            await self.replay_presses()
            open_ones = [c for c in await self.core.store.due_deadlines(float("inf"),
                                                                         limit=10_000)
                         if c.address.get("platform") == PLATFORM]
            for conversation in open_ones:
                self.queue.submit(conversation.conversation_key,
                                  lambda c=conversation: self._read_back(c))
        finally:
            self._catching_up = False
            held, self._held = self._held, []
            for message in held:
                self.on_message(message)

    async def _read_back(self, conversation: ConversationRecord) -> None:
        since = float(conversation.state.get("last_event_at") or 0.0)
        me = self.client.user
        try:
            chat_id = int(conversation.address["chat_id"])
            channel = self.client.get_channel(chat_id) or await self.client.fetch_channel(
                chat_id)
            if me is None or not isinstance(channel, discord.abc.Messageable):
                return
            after = datetime.fromtimestamp(max(0.0, since - 1), UTC)
            async for message in channel.history(after=after, limit=50, oldest_first=True):
                incoming = incoming_of_message(message, me.id)
                if incoming is not None and incoming.ref.key == conversation.conversation_key:
                    await self._handle(incoming, heard_from=message)
        except discord.HTTPException as exc:
            log.warning("could not read back %s: %s", conversation.conversation_key,
                        exc.status)

    async def _handle(self, incoming: Incoming,
                      heard_from: discord.Message | None = None) -> list[OutboxItem] | None:
        """``heard_from``: the message of a voice answer to transcribe first."""
        audio = audio_attachments(heard_from) if heard_from is not None else []
        if self.listener is not None and audio:
            incoming = replace(incoming, event=await self.listener.hear(incoming.event,
                                                                         audio[0].read))
        for attempt in range(3):  # the commit is idempotent, so a retry is safe
            try:
                return await self.core.handle(incoming)
            except Exception:
                if attempt == 2:
                    raise
                log.warning("handling %s failed; retrying", incoming.event_id, exc_info=True)
                await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    # -- buttons -----------------------------------------------------------------------

    async def on_choice(self, interaction: discord.Interaction[Any], choice: str) -> None:
        parsed = parse_choice(choice)
        if parsed is not None and self._in_channel(interaction):
            # A round's public post: Join opens a private place; the rest are ratings.
            if parsed[1] == "join":
                await self._join_round(interaction, choice, parsed[0])
            else:
                await self._round_press(interaction, choice)
            return
        ref = ref_of(interaction.channel_id or 0, interaction.user.id)
        incoming = Incoming(ref, ChoicePressed(at=self.clock(), choice=choice),
                            interaction_id(interaction.id))
        acked: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.queue.submit(ref.key, lambda: self._press(interaction, incoming, acked))
        # Durable before the press is acknowledged: Discord never sends an interaction
        # twice, so a crash after the ack is recovered from the inbox at start-up.
        assert incoming.event_id is not None
        try:
            await self.core.store.inbox_put([(incoming.event_id, {
                "address": ref.address(), "choice": choice, "at": incoming.event.at})])
        except Exception:
            log.exception("could not store a button press")
        acked.set_result(await self._show_choice(interaction, choice))

    async def _show_choice(self, interaction: discord.Interaction[Any], choice: str) -> bool:
        """Acknowledge the press by editing its message: the choice shown, buttons gone."""
        message = interaction.message
        content = message.content if message is not None else ""
        label = button_label(message, PREFIX + choice)
        if label:
            lang = ui_lang(interaction.locale, self.settings.default_lang)
            suffix = "\n\n" + self.text("choice_made", lang, MARKDOWN, label=label)
            if len(content) + len(suffix) <= TEXT_LIMIT:
                content += suffix
        try:
            await interaction.response.edit_message(content=content or None, view=None,
                                                    allowed_mentions=NO_PINGS)
            return True
        except discord.HTTPException as exc:
            log.debug("button press not acknowledged: %s %s", exc.status, exc.code)
            return False

    async def _press(self, interaction: discord.Interaction[Any], incoming: Incoming,
                     acked: asyncio.Future[bool]) -> None:
        _, conversation = await self.core.store.load(incoming.ref.key, incoming.ref.user_key)
        if conversation is None:
            assert incoming.event_id is not None
            await self.core.store.inbox_drop([incoming.event_id])
            if await acked:
                lang = ui_lang(interaction.locale, self.settings.default_lang)
                with contextlib.suppress(discord.HTTPException):
                    await interaction.followup.send(
                        self.text("discord_conversation_gone", lang), ephemeral=True,
                        allowed_mentions=NO_PINGS)
            return
        await self._handle(incoming)

    # -- slash commands ----------------------------------------------------------------

    async def on_command(self, interaction: discord.Interaction[Any], name: str,
                         args: str) -> None:
        if name == ROUND_COMMAND and self._in_channel(interaction):
            await self._round_command(interaction, args)
            return
        me = self.client.user
        if interaction.guild_id is None or is_interview_place(interaction.channel,
                                                              me.id if me else 0):
            ref = ref_of(interaction.channel_id or 0, interaction.user.id)
            done = self.queue.submit(ref.key, lambda: self._command(interaction, ref, name,
                                                                    args))
            if not await self._defer(interaction):
                return
            with contextlib.suppress(Exception):
                await done
            # The replies went to the thread / DM: nothing is left to say here.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
            return
        if not await self._defer(interaction):
            return  # a re-sent interaction: already handled once
        lang = ui_lang(interaction.locale, self.settings.default_lang)
        if name in PRIVATE_START:
            await self._practice_on_server(interaction, name, args, lang)
            return
        try:
            dm = await with_retries(interaction.user.create_dm)
        except discord.HTTPException:
            await self._reply(interaction, self.text("discord_no_private_place", lang))
            return
        ref = ref_of(dm.id, interaction.user.id)
        self.queue.submit(ref.key, lambda: self._command(interaction, ref, name, args))
        await self._reply(interaction, self.text("discord_replied_in_dm", lang))

    async def _practice_on_server(self, interaction: discord.Interaction[Any], name: str,
                                  args: str, lang: str) -> None:
        assert interaction.guild_id is not None
        allowed = await guilds.allowed_channels(self.core.store, interaction.guild_id)
        if allowed and interaction.channel_id not in allowed:
            await self._reply(interaction, self.text(
                "discord_channel_not_allowed", lang, MARKDOWN,
                channels=Safe(", ".join(f"<#{c}>" for c in allowed))))
            return
        place = await self._open_private(interaction, lang)
        if place is None:
            await self._reply(interaction, self.text("discord_no_private_place", lang))
            return
        chat_id, is_thread = place
        ref = ref_of(chat_id, interaction.user.id)
        self.queue.submit(ref.key, lambda: self._command(interaction, ref, name, args))
        if is_thread:
            text = self.text("discord_thread_opened", lang, MARKDOWN,
                             place=Safe(f"<#{chat_id}>"))
        else:
            text = self.text("discord_dm_opened", lang)
        await self._reply(interaction, text)

    async def _open_private(self, interaction: discord.Interaction[Any],
                            lang: str) -> tuple[int, bool] | None:
        """A private thread with the user in this channel; else their DMs; else None."""
        channel = interaction.channel
        perms = interaction.app_permissions
        if (isinstance(channel, discord.TextChannel) and perms.create_private_threads
                and perms.send_messages_in_threads):
            name = self.text("discord_thread_name", lang, PLAIN,
                             name=interaction.user.display_name)[:100]
            try:
                thread = await with_retries(lambda: channel.create_thread(
                    name=name, type=discord.ChannelType.private_thread, invitable=False,
                    auto_archive_duration=1440))
                await with_retries(lambda: thread.add_user(interaction.user))
                return thread.id, True
            except discord.HTTPException as exc:
                log.info("no private thread in channel %s (%s %s); trying a DM",
                         channel.id, exc.status, exc.code)
        try:
            dm = await with_retries(interaction.user.create_dm)
        except discord.HTTPException:
            return None
        return dm.id, False

    async def _command(self, interaction: discord.Interaction[Any], ref: ConversationRef,
                       name: str, args: str) -> None:
        at = interaction.created_at.timestamp()
        hint = lang_hint(interaction.locale)
        event: Event = (Start(at=at, lang_hint=hint) if name == "start"
                        else Command(at=at, name=name, args=args, lang_hint=hint))
        await self._handle(Incoming(ref, event, interaction_id(interaction.id)))

    async def _defer(self, interaction: discord.Interaction[Any]) -> bool:
        """Acknowledge at once (Discord allows 3 s); False when it was answered already."""
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            return True
        except discord.HTTPException as exc:
            if exc.code == ALREADY_ACKNOWLEDGED:
                return False
            log.warning("interaction not acknowledged: %s %s", exc.status, exc.code)
            return True

    async def _reply(self, interaction: discord.Interaction[Any], text: str) -> None:
        with contextlib.suppress(discord.HTTPException):
            await with_retries(lambda: interaction.followup.send(
                text, ephemeral=True, allowed_mentions=NO_PINGS))

    # -- mentor rounds in a channel ----------------------------------------------------

    def _in_channel(self, interaction: discord.Interaction[Any]) -> bool:
        """A server channel (not the bot's private thread): where rounds run."""
        me = self.client.user
        return interaction.guild_id is not None and not is_interview_place(
            interaction.channel, me.id if me else 0)

    def _may_run_rounds(self, interaction: discord.Interaction[Any]) -> bool:
        """Manage Server (or Administrator), or the role of DISCORD_MENTOR_ROLE_ID."""
        permissions = interaction.permissions
        if permissions.manage_guild or permissions.administrator:
            return True
        role_id = self.settings.discord_mentor_role_id
        user = interaction.user
        return (role_id is not None and isinstance(user, discord.Member)
                and user.get_role(role_id) is not None)

    async def _reach(self, user: discord.abc.User) -> dict[str, str]:
        """The address of the user's DMs (where a mentor's report goes); {} if none."""
        try:
            dm = await with_retries(user.create_dm)
        except discord.HTTPException as exc:
            log.info("no DM channel with a round participant: %s %s", exc.status, exc.code)
            return {}
        return ref_of(dm.id, user.id).address()

    @staticmethod
    def _via(interaction: discord.Interaction[Any]) -> str:
        return f"{INTERACTION_VIA}{interaction.application_id}:{interaction.token}"

    async def _round_command(self, interaction: discord.Interaction[Any], args: str) -> None:
        """`/round ...` in a channel: the round's business, answered privately in place."""
        if not await self._defer(interaction):
            return  # a re-sent interaction: already handled once
        user = interaction.user
        ref = ref_of(interaction.channel_id or 0, user.id)
        actor = Actor(name=user.display_name, privileged=self._may_run_rounds(interaction),
                      in_group=True, reach=await self._reach(user))
        event = Command(at=interaction.created_at.timestamp(), name=ROUND_COMMAND, args=args,
                        lang_hint=lang_hint(interaction.locale))
        incoming = Incoming(ref, event, interaction_id(interaction.id), actor=actor,
                            reply_via=self._via(interaction))
        self.queue.submit(ref.key, lambda: self._round_event(interaction, incoming))

    async def _round_event(self, interaction: discord.Interaction[Any], incoming: Incoming,
                           acked: asyncio.Future[bool] | None = None) -> None:
        if acked is not None:
            await acked  # follow-ups need the acknowledgement first
        items = await self._handle(incoming)
        if not any(i.conversation_key == incoming.ref.key for i in items or ()):
            # Nothing for the actor alone (the round's post says it all, or a re-sent
            # event): the "thinking…" placeholder goes.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()

    async def _round_press(self, interaction: discord.Interaction[Any], choice: str) -> None:
        """A rating button under a shared answer (or Join on a round that is over):
        counted once, answered only to the presser, and the public post keeps its
        buttons for everyone else."""
        user = interaction.user
        ref = ref_of(interaction.channel_id or 0, user.id)
        event_id = interaction_id(interaction.id)
        at = self.clock()
        via = self._via(interaction)
        acked: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        async def handle() -> None:
            actor = Actor(name=user.display_name, in_group=True, reach=await self._reach(user))
            incoming = Incoming(ref, ChoicePressed(at=at, choice=choice), event_id,
                                actor=actor, reply_via=via)
            await self._round_event(interaction, incoming, acked)

        self.queue.submit(ref.key, handle)
        try:  # durable before the ack, like every press (replayed after a crash)
            await self.core.store.inbox_put([(event_id, {
                "address": ref.address(), "choice": choice, "at": at, "reply_via": via,
                "actor": {"name": user.display_name, "in_group": True}})])
        except Exception:
            log.exception("could not store a button press")
        acked.set_result(await self._defer(interaction))

    async def _join_round(self, interaction: discord.Interaction[Any], choice: str,
                          round_id: str) -> None:
        """Join: the round's question is asked in the member's private place (the one
        they joined from before, else a new private thread, else their DMs)."""
        record = await self.core.store.load_round(round_id)
        if record is None or not record.is_open or (record.deadline or 0) <= self.clock():
            # Over (or unknown): no private place to open; the round says so, privately.
            await self._round_press(interaction, choice)
            return
        if not await self._defer(interaction):
            return
        lang = ui_lang(interaction.locale, self.settings.default_lang)
        user = interaction.user
        place = await self._joined_place(record, user.id)
        if place is None:
            place = await self._open_private(interaction, lang)
        if place is None:
            await self._reply(interaction, self.text("discord_no_private_place", lang))
            return
        chat_id, is_thread = place
        ref = ref_of(chat_id, user.id)
        event_id = interaction_id(interaction.id)
        incoming = Incoming(ref, ChoicePressed(at=self.clock(), choice=choice), event_id,
                            actor=Actor(name=user.display_name, in_group=False))
        try:  # the ack went out before the place existed: a crash now is retried by
            # pressing Join again (the post keeps its button); from here it is durable
            await self.core.store.inbox_put([(event_id, {
                "address": ref.address(), "choice": choice, "at": incoming.event.at,
                "actor": {"name": user.display_name, "in_group": False}})])
        except Exception:
            log.exception("could not store a button press")
        self.queue.submit(ref.key, lambda: self._handle_quietly(incoming))
        if is_thread:
            text = self.text("discord_round_in_thread", lang, MARKDOWN,
                             place=Safe(f"<#{chat_id}>"))
        else:
            text = self.text("discord_round_in_dm", lang)
        await self._reply(interaction, text)

    async def _handle_quietly(self, incoming: Incoming) -> None:
        """A queue job (jobs return nothing)."""
        await self._handle(incoming)

    async def _joined_place(self, record: RoundRecord, user_id: int
                            ) -> tuple[int, bool] | None:
        """The private place a member joined this round from, if they did and it is ours:
        pressing Join twice never opens a second thread."""
        address = destination(record.state, f"member:{PLATFORM}:{user_id}")
        if not address or address.get("platform") != PLATFORM:
            return None
        chat_id = int(address["chat_id"])
        channel = self.client.get_channel(chat_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(chat_id)
            except discord.HTTPException:
                return None
        me = self.client.user
        if not is_interview_place(channel, me.id if me else 0):
            return None
        return chat_id, isinstance(channel, discord.Thread)

    # -- server settings ---------------------------------------------------------------

    async def on_channels(self, interaction: discord.Interaction[Any], action: str,
                          channel: int | None) -> None:
        lang = ui_lang(interaction.locale, self.settings.default_lang)
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException:
            return
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            await self._reply(interaction, self.text("discord_admin_only", lang))
            return
        gid = interaction.guild_id
        async with self._guild_lock:
            current = await guilds.allowed_channels(self.core.store, gid)
            if action in ("add", "remove"):
                if channel is None:
                    await self._reply(interaction, self.text("discord_channels_need_channel",
                                                             lang))
                    return
                changed = set(current)
                (changed.add if action == "add" else changed.discard)(channel)
                current = sorted(changed)
            elif action == "clear":
                current = []
            if action != "list":
                await guilds.save_allowed_channels(self.core.store, gid, current, self.clock())
        await self._reply(interaction, self.text(
            "discord_channels_list", lang, MARKDOWN,
            channels=Safe(", ".join(f"<#{c}>" for c in current))))

    # -- helpers -----------------------------------------------------------------------

    def text(self, key: str, lang: str, fmt: str = MARKDOWN, **params: Any) -> str:
        return self.renderer.render(Outgoing(key, lang, params), fmt).text

