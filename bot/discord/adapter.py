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
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from leavewell.bot.discord.commands import CatalogTranslator, build_commands
from leavewell.bot.discord.inbound import (
    PLATFORM,
    audio_attachments,
    incoming_of_message,
    interaction_id,
    is_interview_place,
    lang_hint,
    ref_of,
    ui_lang,
)
from leavewell.bot.discord.send import NO_PINGS, DiscordSender, with_retries
from leavewell.bot.discord.settings import DiscordSettings
from leavewell.bot.discord.shards import shard_of
from leavewell.bot.discord.views import PREFIX, ChoiceButton, button_label
from leavewell.bot.incoming import Actor, ConversationRef, Incoming, from_payload, to_payload
from leavewell.bot.intake import Outcome, Received
from leavewell.bot.plugin import AdapterContext
from leavewell.bot.startup import StartupError
from leavewell.bot.texts import PlatformTexts
from leavewell.dialogs.events import ChoicePressed, Command, Event, Start
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.render import MARKDOWN, PLAIN, Safe
from leavewell.dialogs.rounds.commands import parse_choice

log = logging.getLogger(__name__)

TEXT_LIMIT = 2000
ALREADY_ACKNOWLEDGED = 40060
PRIVATE_START = ("practice", "start")  # commands that open a private place on a server
ROUND_COMMAND = "round"
INTERACTION_VIA = "interaction:"  # reply_via of a channel event: answer by follow-up
TEXTS = Path(__file__).with_name("texts.yaml")
READ_BACK_AT_ONCE = 8  # conversations whose history is read back at the same time


def intents() -> discord.Intents:
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.dm_messages = True
    wanted.message_content = True  # answers are typed in the thread / DM
    return wanted


class _Leavewell:
    """What both clients (one connection, or discord.py's own sharding) add."""

    adapter: DiscordAdapter

    async def on_message(self, message: discord.Message) -> None:
        self.adapter.on_message(message)


def _options() -> dict[str, Any]:
    # The bot never joins voice: no "PyNaCl is not installed" warnings on stderr.
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    return {"intents": intents(), "allowed_mentions": NO_PINGS, "max_messages": None,
            "chunk_guilds_at_startup": False, "guild_ready_timeout": 0.5}


class LeavewellClient(_Leavewell, discord.Client):
    def __init__(self, adapter: DiscordAdapter) -> None:
        super().__init__(**_options())
        self.choice_handler = adapter
        self.adapter = adapter
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(self)

    async def on_ready(self) -> None:
        self.adapter.ready.set()
        log.info("Discord gateway ready as %s", self.user)
        # Every new session (first start or a reconnect that could not resume) may have
        # missed messages: read the open interviews back.
        self.adapter.catch_up_later()


class ShardedLeavewellClient(_Leavewell, discord.AutoShardedClient):
    """DISCORD_SHARD_COUNT set: this replica runs the shards of DISCORD_SHARD_IDS."""

    def __init__(self, adapter: DiscordAdapter, shard_count: int,
                 shard_ids: list[int]) -> None:
        super().__init__(shard_count=shard_count, shard_ids=shard_ids, **_options())
        self.choice_handler = adapter
        self.adapter = adapter
        self.tree: app_commands.CommandTree[Any] = app_commands.CommandTree(self)

    async def on_ready(self) -> None:
        self.adapter.ready.set()
        log.info("Discord gateway ready as %s on shards %s of %s", self.user,
                 ",".join(map(str, self.shard_ids or ())), self.shard_count)

    async def close(self) -> None:
        # discord.py makes its event queue at login: closing a client that never logged
        # in (another platform failed to start first) must not fail on it.
        if not hasattr(self, "_AutoShardedClient__queue"):
            self._AutoShardedClient__queue: asyncio.PriorityQueue[Any] = asyncio.PriorityQueue()
        await super().close()

    async def on_shard_ready(self, shard_id: int) -> None:
        # A shard's new session may have missed messages: its open interviews are read back.
        self.adapter.catch_up_later(shard_id)


def make_client(adapter: DiscordAdapter, settings: DiscordSettings) -> discord.Client:
    if settings.shard_count is None:
        return LeavewellClient(adapter)
    return ShardedLeavewellClient(adapter, settings.shard_count, list(settings.my_shards()))


@dataclass(slots=True)
class _Live:
    """What only the live update has: the interaction (or message) behind an event."""

    incoming: Incoming
    message: discord.Message | None = None  # a voice answer's message, to transcribe
    interaction: discord.Interaction[Any] | None = None
    # Resolved once the interaction is acknowledged (a follow-up needs that first).
    acked: asyncio.Future[bool] | None = None
    # The interaction's placeholder goes when the actor gets no reply of their own.
    clear_placeholder: bool = False
    check_conversation: bool = False  # a press: its conversation must still exist
    reach_of: discord.abc.User | None = None  # find where to reach them privately
    after_ack: bool = False  # its replies are follow-ups: handled once acknowledged


class DiscordAdapter:
    """Gateway events to the core's intake; interactions acknowledged within Discord's
    3 seconds; the core's outbox sent back."""

    platform = PLATFORM

    def __init__(self, context: AdapterContext, settings: DiscordSettings, *,
                 clock: Callable[[], float] = time.time) -> None:
        assert settings.bot_token is not None
        self.context = context
        self.core = context.core
        self.intake = context.intake
        self.renderer = context.renderer
        self.settings = settings
        self.default_lang = context.default_lang
        self.clock = clock
        self.listener = context.listener  # transcribes voice answers, when installed
        self.texts = PlatformTexts(TEXTS)
        self.ready = asyncio.Event()
        self._connector: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        # Until the history of open interviews is read back (of each shard, when sharded),
        # live messages wait here.
        self._catching_up: set[int | None] = {None}
        self._held: list[discord.Message] = []
        self.client: Any = make_client(self, settings)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        if self.settings.api_base_url:
            Route.BASE = self.settings.api_base_url.rstrip("/")
        if self.settings.gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.gateway_url)
        assert self.settings.bot_token is not None
        try:
            await self.client.login(self.settings.bot_token.get_secret_value())
        except discord.LoginFailure as exc:
            await self.client.close()
            raise StartupError("Discord rejected the bot token (DISCORD_BOT_TOKEN): "
                               "401 Unauthorized") from exc
        except aiohttp.ClientError as exc:
            await self.client.close()
            raise StartupError(f"cannot reach the Discord API at {Route.BASE}: {exc}") from exc
        self.context.register_sender(PLATFORM, DiscordSender(self.client, self.renderer,
                                                             self.core.export_user))
        self.client.add_dynamic_items(ChoiceButton)
        await self._sync_commands()
        # Presses kept before a restart go first: queued before the gateway can hand over
        # anything newer of their conversation (interactions are not held for the catch-up).
        await self.intake.replay(self)
        self._connector = asyncio.create_task(self._connect())
        ready = asyncio.ensure_future(self.ready.wait())
        await asyncio.wait({ready, self._connector}, timeout=30,
                           return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self._connector.done():
            self._connector.result()  # a refused IDENTIFY (bad token, intents) fails here
        if not self.ready.is_set():
            log.warning("Discord gateway not ready yet; serving anyway")

    @property
    def idle(self) -> bool:
        return self.intake.idle and not self._background

    async def _connect(self) -> None:
        await self.client.connect(reconnect=True)

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.intake.drain(timeout=10)
        await self.client.close()
        if self._connector is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._connector, 10)
        await self.intake.drain(timeout=5)

    async def _sync_commands(self) -> None:
        tree = self.client.tree
        guild = discord.Object(self.settings.guild_id) if self.settings.guild_id else None
        build_commands(tree, self.renderer, self.texts, self, guild)
        await tree.set_translator(CatalogTranslator(self.renderer, self.texts,
                                                    self.default_lang))
        try:
            synced = await with_retries(lambda: tree.sync(guild=guild))
        except discord.HTTPException as exc:
            log.error("slash commands not synced: %s %s", exc.status, exc.code)
            return
        log.info("synced %d slash commands %s", len(synced),
                 f"to guild {guild.id}" if guild else "globally")

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    # -- the intake ----------------------------------------------------------------------

    def _hand_over(self, live: _Live) -> asyncio.Task[list[asyncio.Future[Outcome]]]:
        """Give an event to the core's intake. Tasks start in the order they are made, so
        events handed over one after another keep that order in their conversation; the
        task is done once the event is durable."""
        incoming = live.incoming
        assert incoming.event_id is not None
        received = Received(incoming.event_id, incoming.ref.key, to_payload(incoming),
                            live=live)
        return self._spawn(self.intake.receive(self, [received]))

    def order_key(self, payload: dict[str, Any]) -> str | None:
        return ConversationRef.from_address(payload["address"]).key

    async def interpret(self, received: Received) -> Incoming | None:
        live: _Live | None = received.live
        if live is None:  # replayed after a restart
            return _replayed(received)
        incoming = live.incoming
        if live.after_ack and live.acked is not None:
            await live.acked
        if live.reach_of is not None:
            incoming = replace(incoming, actor=replace(
                incoming.actor, reach=await self._reach(live.reach_of)))
        if live.check_conversation and not await self.core.knows_conversation(incoming.ref):
            await self._conversation_gone(live)
            return None
        audio = audio_attachments(live.message) if live.message is not None else []
        if self.listener is not None and audio:
            incoming = replace(incoming, event=await self.listener.hear(incoming.event,
                                                                         audio[0].read))
        return incoming

    async def settled(self, received: Received, outcome: Outcome) -> None:
        live: _Live | None = received.live
        if live is None or live.interaction is None or not live.clear_placeholder:
            return
        if live.acked is not None and not await live.acked:
            return
        own = [i for i in outcome.replies or () if i.conversation_key == received.order_key]
        if not own:
            # Nothing for the actor alone (the replies went elsewhere, or a re-sent
            # event): the "thinking…" placeholder goes.
            with contextlib.suppress(discord.HTTPException):
                await live.interaction.delete_original_response()

    async def _conversation_gone(self, live: _Live) -> None:
        interaction = live.interaction
        if interaction is None or live.acked is None or not await live.acked:
            return
        lang = ui_lang(interaction.locale, self.default_lang)
        with contextlib.suppress(discord.HTTPException):
            await interaction.followup.send(self.say("conversation_gone", lang),
                                            ephemeral=True, allowed_mentions=NO_PINGS)

    # -- messages ----------------------------------------------------------------------

    def on_message(self, message: discord.Message) -> None:
        """Synchronous: the event joins its conversation in gateway order."""
        if self._catching_up:
            self._held.append(message)
            return
        me = self.client.user
        incoming = incoming_of_message(message, me.id if me else 0)
        if incoming is not None:
            self._hand_over(_Live(incoming, message=message))

    def catch_up_later(self, shard_id: int | None = None) -> None:
        self._catching_up.add(shard_id)
        self._spawn(self.catch_up(shard_id))

    async def catch_up(self, shard_id: int | None = None) -> None:
        """Discord does not re-send gateway events to a new session, so messages written
        while the bot was down (or just before it died) are read back from the history
        of every open interview. Already processed ones are skipped by their event id.
        Live messages that arrive meanwhile wait, so each conversation keeps its order.
        Sharded, a shard reads back only the conversations whose events it carries."""
        try:
            open_ones = await self.core.open_conversations(PLATFORM)
            gate = asyncio.Semaphore(READ_BACK_AT_ONCE)

            async def read_back(ref: ConversationRef, since: float) -> list[discord.Message]:
                async with gate:
                    return await self._read_back(ref, since, shard_id)

            histories = await asyncio.gather(*(read_back(ref, since)
                                               for ref, since in open_ones))
            me = self.client.user
            for messages in histories:
                for message in messages:
                    incoming = incoming_of_message(message, me.id if me else 0)
                    if incoming is not None:
                        self._hand_over(_Live(incoming, message=message))
        finally:
            self._catching_up.discard(shard_id)
            self._catching_up.discard(None)
            if not self._catching_up:  # else another shard is still reading back
                held, self._held = self._held, []
                for message in held:
                    self.on_message(message)

    async def _read_back(self, ref: ConversationRef, since: float,
                         shard_id: int | None = None) -> list[discord.Message]:
        """The conversation's messages since its last event, oldest first; none when its
        events go to another shard than `shard_id` (another replica reads those)."""
        me = self.client.user
        try:
            chat_id = int(ref.chat_id)
            channel = self.client.get_channel(chat_id) or await self.client.fetch_channel(
                chat_id)
            if me is None or not isinstance(channel, discord.abc.Messageable):
                return []
            if shard_id is not None and self._shard_of_channel(channel) != shard_id:
                return []
            after = datetime.fromtimestamp(max(0.0, since - 1), UTC)
            return [m async for m in channel.history(after=after, limit=50,
                                                     oldest_first=True)
                    if str(m.author.id) == ref.user_id]
        except (discord.HTTPException, ValueError) as exc:
            log.warning("could not read back %s: %s", ref.key, getattr(exc, "status", exc))
            return []

    def _shard_of_channel(self, channel: Any) -> int:
        guild = getattr(channel, "guild", None)  # a DM has none
        return shard_of(guild.id if guild is not None else None, self.settings.shard_count or 1)

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
        durable = self._hand_over(_Live(incoming, interaction=interaction, acked=acked,
                                        check_conversation=True))
        # Durable before the press is acknowledged: Discord never sends an interaction
        # twice, so a crash after the ack is recovered from the inbox at start-up.
        with contextlib.suppress(Exception):
            await durable
        acked.set_result(await self._show_choice(interaction, choice))

    async def _show_choice(self, interaction: discord.Interaction[Any], choice: str) -> bool:
        """Acknowledge the press by editing its message: the choice shown, buttons gone."""
        message = interaction.message
        content = message.content if message is not None else ""
        label = button_label(message, PREFIX + choice)
        if label:
            lang = ui_lang(interaction.locale, self.default_lang)
            suffix = "\n\n" + self.renderer.render(
                Outgoing("choice_made", lang, {"label": label}), MARKDOWN).text
            if len(content) + len(suffix) <= TEXT_LIMIT:
                content += suffix
        try:
            await interaction.response.edit_message(content=content or None, view=None,
                                                    allowed_mentions=NO_PINGS)
            return True
        except discord.HTTPException as exc:
            log.debug("button press not acknowledged: %s %s", exc.status, exc.code)
            return False

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
            durable = self._hand_over(_Live(self._command(interaction, ref, name, args)))
            if not await self._defer(interaction):
                return
            with contextlib.suppress(Exception):
                await asyncio.gather(*await durable)
            # The replies went to the thread / DM: nothing is left to say here.
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
            return
        if not await self._defer(interaction):
            return  # a re-sent interaction: already handled once
        lang = ui_lang(interaction.locale, self.default_lang)
        if name in PRIVATE_START:
            await self._practice_on_server(interaction, name, args, lang)
            return
        try:
            dm = await with_retries(interaction.user.create_dm)
        except discord.HTTPException:
            await self._reply(interaction, self.say("no_private_place", lang))
            return
        ref = ref_of(dm.id, interaction.user.id)
        self._hand_over(_Live(self._command(interaction, ref, name, args)))
        await self._reply(interaction, self.say("replied_in_dm", lang))

    async def _practice_on_server(self, interaction: discord.Interaction[Any], name: str,
                                  args: str, lang: str) -> None:
        assert interaction.guild_id is not None
        allowed = await self._allowed_channels(interaction.guild_id)
        if allowed and interaction.channel_id not in allowed:
            await self._reply(interaction, self.say(
                "channel_not_allowed", lang, MARKDOWN,
                channels=Safe(", ".join(f"<#{c}>" for c in allowed))))
            return
        place = await self._open_private(interaction, lang)
        if place is None:
            await self._reply(interaction, self.say("no_private_place", lang))
            return
        chat_id, is_thread = place
        ref = ref_of(chat_id, interaction.user.id)
        self._hand_over(_Live(self._command(interaction, ref, name, args)))
        if is_thread:
            text = self.say("thread_opened", lang, MARKDOWN, place=Safe(f"<#{chat_id}>"))
        else:
            text = self.say("dm_opened", lang)
        await self._reply(interaction, text)

    async def _open_private(self, interaction: discord.Interaction[Any],
                            lang: str) -> tuple[int, bool] | None:
        """A private thread with the user in this channel; else their DMs; else None."""
        channel = interaction.channel
        perms = interaction.app_permissions
        if (isinstance(channel, discord.TextChannel) and perms.create_private_threads
                and perms.send_messages_in_threads):
            name = self.say("thread_name", lang, PLAIN,
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

    @staticmethod
    def _command(interaction: discord.Interaction[Any], ref: ConversationRef,
                 name: str, args: str) -> Incoming:
        at = interaction.created_at.timestamp()
        hint = lang_hint(interaction.locale)
        event: Event = (Start(at=at, lang_hint=hint) if name == "start"
                        else Command(at=at, name=name, args=args, lang_hint=hint))
        return Incoming(ref, event, interaction_id(interaction.id))

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
        role_id = self.settings.mentor_role_id
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
        self._hand_over(_Live(incoming, interaction=interaction, clear_placeholder=True))

    async def _round_press(self, interaction: discord.Interaction[Any], choice: str) -> None:
        """A rating button under a shared answer (or Join on a round that is over):
        counted once, answered only to the presser, and the public post keeps its
        buttons for everyone else."""
        user = interaction.user
        ref = ref_of(interaction.channel_id or 0, user.id)
        acked: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        incoming = Incoming(ref, ChoicePressed(at=self.clock(), choice=choice),
                            interaction_id(interaction.id),
                            actor=Actor(name=user.display_name, in_group=True),
                            reply_via=self._via(interaction))
        durable = self._hand_over(_Live(incoming, interaction=interaction, acked=acked,
                                        clear_placeholder=True, reach_of=user,
                                        after_ack=True))
        # Durable before the ack, like every press (replayed after a crash).
        with contextlib.suppress(Exception):
            await durable
        acked.set_result(await self._defer(interaction))

    async def _join_round(self, interaction: discord.Interaction[Any], choice: str,
                          round_id: str) -> None:
        """Join: the round's question is asked in the member's private place (the one
        they joined from before, else a new private thread, else their DMs)."""
        user = interaction.user
        ref = ref_of(interaction.channel_id or 0, user.id)
        taking, joined_from = await self.core.round_place(round_id, ref.user_key,
                                                          self.clock())
        if not taking:
            # Over (or unknown): no private place to open; the round says so, privately.
            await self._round_press(interaction, choice)
            return
        if not await self._defer(interaction):
            return
        lang = ui_lang(interaction.locale, self.default_lang)
        place = await self._joined_place(joined_from)
        if place is None:
            place = await self._open_private(interaction, lang)
        if place is None:
            await self._reply(interaction, self.say("no_private_place", lang))
            return
        chat_id, is_thread = place
        incoming = Incoming(ref_of(chat_id, user.id),
                            ChoicePressed(at=self.clock(), choice=choice),
                            interaction_id(interaction.id),
                            actor=Actor(name=user.display_name, in_group=False))
        # The ack went out before the place existed: a crash before this point is retried
        # by pressing Join again (the post keeps its button); from here it is durable.
        self._hand_over(_Live(incoming))
        if is_thread:
            text = self.say("round_in_thread", lang, MARKDOWN, place=Safe(f"<#{chat_id}>"))
        else:
            text = self.say("round_in_dm", lang)
        await self._reply(interaction, text)

    async def _joined_place(self, address: dict[str, Any] | None) -> tuple[int, bool] | None:
        """The private place a member joined this round from, if it is still ours:
        pressing Join twice never opens a second thread."""
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

    @staticmethod
    def _scope(guild_id: int) -> str:
        return f"{PLATFORM}-guild:{guild_id}"

    async def _allowed_channels(self, guild_id: int) -> list[int]:
        """Channel ids /practice is limited to; empty means every channel."""
        values = await self.core.scope_settings(self._scope(guild_id))
        return [int(c) for c in values.get("allowed_channels") or []]

    async def on_channels(self, interaction: discord.Interaction[Any], action: str,
                          channel: int | None) -> None:
        lang = ui_lang(interaction.locale, self.default_lang)
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.HTTPException:
            return
        if interaction.guild_id is None or not interaction.permissions.manage_guild:
            await self._reply(interaction, self.say("admin_only", lang))
            return
        if action in ("add", "remove") and channel is None:
            await self._reply(interaction, self.say("channels_need_channel", lang))
            return

        def change(values: dict[str, Any]) -> dict[str, Any]:
            current = {int(c) for c in values.get("allowed_channels") or []}
            if action == "add" and channel is not None:
                current.add(channel)
            elif action == "remove" and channel is not None:
                current.discard(channel)
            elif action == "clear":
                current = set()
            return {**values, "allowed_channels": [str(c) for c in sorted(current)]}

        if action == "list":
            allowed = await self._allowed_channels(interaction.guild_id)
        else:
            values = await self.core.update_scope_settings(self._scope(interaction.guild_id),
                                                           change)
            allowed = [int(c) for c in values.get("allowed_channels") or []]
        await self._reply(interaction, self.say(
            "channels_list", lang, MARKDOWN,
            channels=Safe(", ".join(f"<#{c}>" for c in allowed))))

    # -- helpers -----------------------------------------------------------------------

    def say(self, key: str, lang: str, fmt: str = MARKDOWN, **params: Any) -> str:
        """One of this adapter's own texts (texts.yaml)."""
        return self.texts.render(key, lang, fmt, **params)


def _replayed(received: Received) -> Incoming | None:
    """An event kept in the inbox before a restart. Rows written before events were kept
    whole are button presses: {address, choice, at, reply_via, actor}."""
    payload = received.payload
    try:
        if "event" in payload:
            return from_payload(received.event_id, payload)
        ref = ConversationRef.from_address(payload["address"])
        who = payload.get("actor") or {}
        via = payload.get("reply_via")
        return Incoming(ref, ChoicePressed(at=float(payload["at"]),
                                           choice=str(payload["choice"])),
                        received.event_id,
                        actor=Actor(name=str(who.get("name") or ""),
                                    in_group=bool(who.get("in_group"))),
                        reply_via=str(via) if via else None)
    except (KeyError, TypeError, ValueError, AttributeError):
        log.warning("an unreadable kept event %s was dropped", received.event_id)
        return None
