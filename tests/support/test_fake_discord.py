"""Self-tests: the real discord.py client against FakeDiscord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.app_commands import Choice, locale_str

from tests.support.fake_discord import P_MANAGE_GUILD, FakeDiscord, FakeUser

GUILD, CHANNEL, OTHER_CHANNEL = 1000, 1001, 1002


TRANSLATIONS = {"practice": {"de": "ueben"}, "Start a practice interview": {"de": "Interview üben"}}


class Translator(app_commands.Translator):
    async def translate(self, string: locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        return TRANSLATIONS.get(string.message, {}).get(str(locale))


class StartView(discord.ui.View):
    """Persistent: no timeout, fixed custom_id, re-registered with add_view on every start."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Start", custom_id="lw:start", style=discord.ButtonStyle.primary)
    async def start(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.bot.clicks.append(interaction.user.id)
        await interaction.response.send_message("started", ephemeral=True)


class MenuView(discord.ui.View):
    @discord.ui.button(label="Next", custom_id="menu:next")
    async def next_page(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="page 2", view=None)


class AnswerModal(discord.ui.Modal, title="Why did you leave?"):
    story: discord.ui.TextInput = discord.ui.TextInput(
        label="Your answer", custom_id="story", style=discord.TextStyle.paragraph)

    def __init__(self, bot: Bot, custom_id: str) -> None:
        super().__init__(custom_id=custom_id)
        self.bot = bot

    async def on_submit(self, interaction: discord.Interaction) -> None:
        self.bot.answers.append(self.story.value)
        await interaction.response.send_message("thanks", ephemeral=True)


class Bot(discord.Client):
    def __init__(self, intents: discord.Intents | None = None) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = intents.members = True
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.ready = asyncio.Event()
        self.seen: list[discord.Message] = []
        self.clicks: list[int] = []
        self.answers: list[str] = []
        self.failures: list[Exception] = []
        self.synced: list[app_commands.AppCommand] = []
        self._add_commands()

    def _add_commands(self) -> None:
        guild = discord.Object(GUILD)

        @app_commands.command(name=locale_str("practice"),
                              description=locale_str("Start a practice interview"))
        @app_commands.describe(level="How hard the interviewer is")
        @app_commands.choices(level=[Choice(name="Easy", value="easy"),
                                     Choice(name="Hard", value="hard")])
        async def practice(interaction: discord.Interaction, level: Choice[str]) -> None:
            await interaction.response.send_message(
                f"level {level.value} ({interaction.locale})", ephemeral=True)

        @app_commands.command(description="Think first")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await asyncio.sleep(0.05)
            await interaction.followup.send("done thinking")

        @app_commands.command(description="Answer in a form")
        async def answer(interaction: discord.Interaction) -> None:
            custom_id = f"answer:{interaction.user.id}:{interaction.id}"
            await interaction.response.send_modal(AnswerModal(self, custom_id))

        @app_commands.command(description="Answers too late")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.4)
            try:
                await interaction.response.send_message("too late")
            except discord.HTTPException as exc:
                self.failures.append(exc)

        @app_commands.command(description="A menu")
        async def menu(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("page 1", view=MenuView(), ephemeral=True)

        @app_commands.command(description="Plain reply")
        async def hello(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("hello")
            except discord.HTTPException as exc:
                self.failures.append(exc)

        for cmd in (practice, slow, answer, late, hello, menu):
            self.tree.add_command(cmd, guild=guild)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(Translator())
        self.add_view(StartView(self))
        self.synced = await self.tree.sync(guild=discord.Object(GUILD))

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot:
            return
        self.seen.append(message)
        if message.content == "ping":
            await message.channel.send(f"pong {message.author.mention}")


@contextlib.asynccontextmanager
async def running(dc: FakeDiscord, **kwargs: Any) -> AsyncIterator[Bot]:
    bot = Bot(**kwargs)
    task = asyncio.create_task(bot.start("test-token"))
    ready = asyncio.create_task(bot.ready.wait())
    await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()  # raises the start-up error
    assert bot.ready.is_set(), "on_ready did not fire"
    try:
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 5)  # start() returns cleanly after close()


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        fake.install()
        yield fake


@pytest.fixture
def alice(dc: FakeDiscord) -> FakeUser:
    alice = dc.user(2001, "alice", locale="de")
    bob = dc.user(2002, "bob")
    dc.add_guild(GUILD, "Career Club", channels=[
        {"id": CHANNEL, "name": "interviews"},
        {"id": OTHER_CHANNEL, "name": "staff", "permission_overwrites": [
            {"id": str(GUILD), "type": 0, "allow": "0", "deny": str(1 << 10)}]},
    ], members=[alice, bob])
    return alice


async def test_ready_guild_and_sync(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        guild = bot.get_guild(GUILD)
        assert guild is not None and guild.name == "Career Club"
        assert {c.id for c in guild.text_channels} == {CHANNEL, OTHER_CHANNEL}
        assert {m.name for m in guild.members} == {"leavewell", "alice", "bob"}
        assert guild.me.guild_permissions.send_messages
        staff = guild.get_channel(OTHER_CHANNEL)
        assert not staff.permissions_for(guild.get_member(2001)).view_channel
        assert bot.user.id == dc.application_id and bot.application_id == dc.application_id
        assert dc.gateway_queries[0] == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
        ident = dc.identifies[0]
        assert ident["token"] == "test-token" and ident["intents"] & (1 << 15)
        assert any(p["op"] == 8 for p in dc.gateway_received)  # members intent -> chunking
        [put] = dc.requests_to("PUT", rf"/applications/\d+/guilds/{GUILD}/commands")
        practice = next(c for c in put.json if c["name"] == "practice")
        assert practice["name_localizations"] == {"de": "ueben"}
        assert practice["description_localizations"] == {"de": "Interview üben"}
        assert [c["value"] for c in practice["options"][0]["choices"]] == ["easy", "hard"]
        assert len(bot.synced) == 6 and all(c.guild_id == GUILD for c in bot.synced)


async def test_guild_and_dm_messages(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        await dc.message_create(CHANNEL, alice, "I was laid off")
        dm = dc.dm_channel(alice)
        await dc.message_create(dm, alice, "hi in private")
        await dc.wait_for(lambda: len(bot.seen) == 2)
        guild_msg, dm_msg = bot.seen
        assert guild_msg.content == "I was laid off" and guild_msg.guild.id == GUILD
        assert isinstance(guild_msg.author, discord.Member)
        assert dm_msg.content == "hi in private" and dm_msg.guild is None
        assert isinstance(dm_msg.channel, discord.DMChannel)

        await dc.message_create(dm, alice, "ping")
        reply = await dc.wait_for(lambda: dc.sent_messages(dm))
        assert reply[0].content == "pong <@2001>"
        assert dc.could_ping(reply[0])  # no allowed_mentions -> the mention pings
        history = [m.content async for m in bot.get_channel(CHANNEL).history(limit=10)]
        assert history == ["I was laid off"]


async def test_message_content_intent_missing(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc, intents=discord.Intents.default()) as bot:
        await dc.message_create(CHANNEL, alice, "secret")
        await dc.message_create(dc.dm_channel(alice), alice, "dm text")
        await dc.wait_for(lambda: len(bot.seen) == 2)
        assert [m.content for m in bot.seen] == ["", "dm text"]
        assert {m.name for m in bot.get_guild(GUILD).members} == {"leavewell"}


async def test_slash_command_ephemeral_reply(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc):
        ix = await dc.slash_command(alice, "practice", {"level": "hard"}, guild_id=GUILD)
        await dc.wait_acked(ix)
        assert ix.response_type == 4 and ix.ack_latency is not None and ix.ack_latency < 3
        [resp] = dc.interaction_responses(ix.id)
        assert resp["data"]["flags"] == 64 and resp["data"]["content"] == "level hard (de)"
        [msg] = dc.sent_messages(CHANNEL)
        assert msg.ephemeral and msg.interaction_id == ix.id
        assert not any(f["t"] == "MESSAGE_CREATE" and f["d"]["author"]["bot"]
                       for f in dc.dispatched)  # ephemeral replies are not broadcast


async def test_defer_then_followup(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc):
        ix = await dc.slash_command(alice, "slow", guild_id=GUILD)
        await dc.wait_for(lambda: len(ix.responses) == 2)
        assert ix.response_type == 5
        [post] = dc.requests_to("POST", rf"/webhooks/{dc.application_id}/{ix.token}")
        assert post.json["content"] == "done thinking" and post.status == 200
        [msg] = dc.sent_messages(CHANNEL)  # the follow-up replaced the "thinking" message
        assert msg.content == "done thinking" and msg.flags == 0


async def test_persistent_view_survives_restart(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        sent = await bot.get_channel(CHANNEL).send("Ready?", view=StartView(bot))
    stored = dc.messages[sent.id]
    assert stored.custom_ids == ["lw:start"]
    async with running(dc) as bot:  # a new process: only add_view() knows the button
        ix = await dc.click(alice, stored, "lw:start")
        await dc.wait_acked(ix)
        assert bot.clicks == [alice.id] and ix.response_type == 4
        assert dc.interaction_responses(ix.id)[0]["data"]["content"] == "started"
        assert len(dc.identifies) == 2


async def test_modal_submit(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        ix = await dc.slash_command(alice, "answer", guild_id=GUILD)
        await dc.wait_acked(ix)
        assert ix.response_type == 9
        [custom_id] = dc.modals
        assert custom_id == f"answer:{alice.id}:{ix.id}"
        sub = await dc.submit_modal(alice, custom_id, {"story": "The team was dissolved."})
        await dc.wait_acked(sub)
        assert bot.answers == ["The team was dissolved."]


async def test_rate_limit_and_server_error_are_retried(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        channel = bot.get_channel(CHANNEL)
        dc.fail_next("POST", rf"/channels/{CHANNEL}/messages", 429, retry_after=0.1)
        await channel.send("after a 429")
        dc.fail_next("POST", rf"/channels/{CHANNEL}/messages", 500)
        await channel.send("after a 500")
        statuses = [r.status for r in dc.requests_to("POST", rf"/channels/{CHANNEL}/messages")]
        assert statuses == [429, 200, 500, 200]
        assert [m.content for m in dc.sent_messages(CHANNEL)] == ["after a 429", "after a 500"]
        assert dc.errors == []


async def test_private_thread(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        channel = bot.get_channel(CHANNEL)
        thread = await channel.create_thread(name="interview-alice", invitable=False,
                                             type=discord.ChannelType.private_thread)
        await thread.add_user(discord.Object(alice.id))
        await thread.send("Welcome to your mock interview")
        stored = dc.channels[thread.id]
        assert stored["type"] == 12 and stored["thread_metadata"]["invitable"] is False
        assert dc.thread_members[thread.id] == {dc.application_id, alice.id}
        await dc.wait_for(lambda: bot.get_channel(thread.id))
        await dc.message_create(thread.id, alice, "my answer")
        await dc.wait_for(lambda: bot.seen)
        assert isinstance(bot.seen[0].channel, discord.Thread)


async def test_validation_errors(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        channel = bot.get_channel(CHANNEL)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert too_long.value.code == 50035
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="a", custom_id="same"))
        view.add_item(discord.ui.Button(label="b", custom_id="same"))
        with pytest.raises(discord.HTTPException):
            await channel.send("dupe", view=view)
        with pytest.raises(discord.Forbidden):
            await bot.get_channel(OTHER_CHANNEL).send("hidden")
        assert [e["code"] for e in dc.errors] == [50035, 50035, 50001]
        assert "components" in dc.errors[1]["errors"]
        sent = await channel.send("hi @everyone",
                                  allowed_mentions=discord.AllowedMentions.none())
        assert not dc.could_ping(sent.id)


async def test_late_and_duplicate_acknowledgements(dc: FakeDiscord, alice: FakeUser) -> None:
    dc.ack_window = 0.3  # Discord's 3 s, shortened; the command answers after 0.4 s
    async with running(dc) as bot:
        ix = await dc.slash_command(alice, "late", guild_id=GUILD)
        await dc.wait_for(lambda: bot.failures)
        assert isinstance(bot.failures[0], discord.NotFound) and bot.failures[0].code == 10062
        assert ix.late and not ix.acked

        ix = await dc.slash_command(alice, "hello", guild_id=GUILD)
        await dc.wait_acked(ix)
        await dc.redispatch_last("INTERACTION_CREATE")  # Discord re-sends the same event
        await dc.wait_for(lambda: len(bot.failures) == 2)
        assert bot.failures[1].code == 40060


async def test_resume_replays_missed_events(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        await dc.disconnect_client()
        await dc.message_create(CHANNEL, alice, "while you were away")
        await asyncio.wait_for(dc.client_connected.wait(), 5)
        await dc.wait_for(lambda: bot.seen)
        assert bot.seen[0].content == "while you were away"
        assert len(dc.resumes) == 1 and len(dc.identifies) == 1
        assert dc.dispatched[-1]["t"] in ("RESUMED", "MESSAGE_CREATE")


async def test_component_on_interaction_reply_updates_message(dc: FakeDiscord,
                                                              alice: FakeUser) -> None:
    async with running(dc):
        ix = await dc.slash_command(alice, "menu", guild_id=GUILD)
        await dc.wait_acked(ix)
        [menu] = dc.sent_messages(CHANNEL)
        assert menu.ephemeral and menu.custom_ids == ["menu:next"]
        click = await dc.click(alice, menu, "menu:next")
        await dc.wait_acked(click)
        assert click.response_type == 7
        assert menu.content == "page 2" and menu.components == []


async def test_attachments_edits_and_deletes(dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        await dc.message_create(CHANNEL, alice, "my CV", attachments=[
            {"filename": "cv.txt", "data": b"ten years of java"}])
        await dc.wait_for(lambda: bot.seen)
        assert await bot.seen[0].attachments[0].read() == b"ten years of java"

        channel = bot.get_channel(CHANNEL)
        sent = await channel.send("notes", file=discord.File(io.BytesIO(b"feedback"), "f.txt"))
        [post] = dc.requests_to("POST", rf"/channels/{CHANNEL}/messages")
        assert post.json["content"] == "notes" and post.files[0]["data"] == b"feedback"
        assert sent.attachments[0].filename == "f.txt"
        await sent.edit(content="notes (edited)")
        assert dc.messages[sent.id].content == "notes (edited)"
        await sent.delete()
        assert dc.sent_messages(CHANNEL) == []
        assert [f["t"] for f in dc.dispatched[-2:]] == ["MESSAGE_UPDATE", "MESSAGE_DELETE"]


async def test_member_roles_permissions_and_expired_follow_ups(dc: FakeDiscord,
                                                               alice: FakeUser) -> None:
    managers = dc.add_role(GUILD, 3001, "managers", P_MANAGE_GUILD)
    mentors = dc.add_role(GUILD, 3002, "mentors")
    carol = dc.add_member(GUILD, dc.user(2003, "carol", global_name="Carol C"), [3001, 3002],
                          nick="Coach Carol")
    seen: list[discord.Interaction] = []

    async def on_interaction(interaction: discord.Interaction) -> None:
        seen.append(interaction)

    async with running(dc) as bot:
        bot.on_interaction = on_interaction  # type: ignore[method-assign]
        assert {r.name for r in bot.get_guild(GUILD).roles} >= {managers["name"],
                                                                mentors["name"]}
        for user in (carol, alice):
            ix = await dc.slash_command(user, "slow", guild_id=GUILD)
            await dc.wait_for(lambda ix=ix: len(ix.responses) == 2)
        first, second = seen
        assert isinstance(first.user, discord.Member)
        assert first.user.display_name == "Coach Carol"
        assert first.permissions.manage_guild and first.user.get_role(3002) is not None
        assert not second.permissions.manage_guild and second.user.get_role(3002) is None
        # An interaction's token lives 15 minutes; then its webhook is gone.
        dc.expire(ix)
        with pytest.raises(discord.NotFound) as refused:
            await second.followup.send("too late", ephemeral=True)
        assert refused.value.code == 10015
        assert [m.content for m in dc.public_messages(CHANNEL)] == ["done thinking"] * 2


# -- sharding ----------------------------------------------------------------------------

ON_SHARD_0, ON_SHARD_1 = (2 << 22) | 11, (3 << 22) | 11  # (id >> 22) % 2 -> 0, 1


class ShardedBot(discord.AutoShardedClient):
    """Records which shard each message came over."""

    def __init__(self, **kwargs: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, guild_ready_timeout=0.05, **kwargs)
        self.seen: list[tuple[str, int | None]] = []
        self.ready_shards: list[int] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False
                                   ) -> None:
        return None  # discord.py waits 5 s between shards; the fake's limit is 1 at a time

    async def on_shard_ready(self, shard_id: int) -> None:
        self.ready_shards.append(shard_id)

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append((message.content, message.guild.shard_id if message.guild else None))


def _sharded_world(dc: FakeDiscord) -> FakeUser:
    alice = dc.user(2001, "alice")
    dc.add_guild(ON_SHARD_0, "Even", channels=[{"id": 5001, "name": "general"}],
                 members=[alice])
    dc.add_guild(ON_SHARD_1, "Odd", channels=[{"id": 5002, "name": "general"}],
                 members=[alice])
    return alice


async def test_auto_sharded_client_asks_for_shards_and_gets_a_session_each() -> None:
    async with FakeDiscord(shards=2) as dc:
        dc.install()
        alice = _sharded_world(dc)
        bot = ShardedBot()
        task = asyncio.create_task(bot.start("test-token"))
        try:
            await dc.wait_for(lambda: sorted(bot.ready_shards) == [0, 1], 10, "two shards")
            [gateway] = dc.requests_to("GET", "/gateway/bot")
            assert gateway.response["shards"] == 2
            assert gateway.response["session_start_limit"]["max_concurrency"] == 1
            assert sorted(tuple(i["shard"]) for i in dc.identifies) == [(0, 2), (1, 2)]
            assert dc.connected_shards() == {0, 1}
            s0, s1 = dc.sessions[0], dc.sessions[1]
            assert s0.id != s1.id and s0.conn is not s1.conn
            ready = {s: next(f["d"] for f in dc.sessions[s].log if f["t"] == "READY")
                     for s in (0, 1)}
            assert ready[0]["shard"] == [0, 2] and ready[1]["shard"] == [1, 2]
            assert [g["id"] for g in ready[0]["guilds"]] == [str(ON_SHARD_0)]
            assert [g["id"] for g in ready[1]["guilds"]] == [str(ON_SHARD_1)]
            assert {g.id: g.shard_id for g in bot.guilds} == {ON_SHARD_0: 0, ON_SHARD_1: 1}

            await dc.message_create(5001, alice, "even")
            await dc.message_create(5002, alice, "odd")
            await dc.message_create(dc.dm_channel(alice), alice, "private")
            await dc.wait_for(lambda: len(bot.seen) == 3)
            assert sorted(bot.seen, key=str) == sorted(
                [("even", 0), ("odd", 1), ("private", None)], key=str)
            carried = {s: [f["d"].get("content") for f in dc.sessions[s].log
                           if f["t"] == "MESSAGE_CREATE"] for s in (0, 1)}
            assert carried == {0: ["even", "private"], 1: ["odd"]}  # DMs: shard 0
        finally:
            await bot.close()
            await asyncio.wait_for(task, 5)


async def test_one_shard_each_and_the_events_of_a_missing_shard_are_gone() -> None:
    async with FakeDiscord() as dc:
        dc.install()
        alice = _sharded_world(dc)
        odd = ShardedBot(shard_count=2, shard_ids=[1])
        task = asyncio.create_task(odd.start("test-token"))
        try:
            await dc.wait_for(lambda: odd.ready_shards == [1], 10, "shard 1")
            assert not dc.requests_to("GET", "/gateway/bot")  # the count was given
            assert [i["shard"] for i in dc.identifies] == [[1, 2]]
            await dc.message_create(5001, alice, "nobody runs shard 0")
            await dc.message_create(5002, alice, "odd")
            await dc.wait_for(lambda: odd.seen)
            await asyncio.sleep(0.1)
            assert odd.seen == [("odd", 1)]
            await dc.disconnect_client(shard=1)
            await dc.message_create(5002, alice, "while away")
            await dc.wait_for(lambda: dc.connected_shards() == {1}, 5, "a resume")
            await dc.wait_for(lambda: len(odd.seen) == 2)
            assert odd.seen[1] == ("while away", 1) and len(dc.resumes) == 1
        finally:
            await odd.close()
            await asyncio.wait_for(task, 5)


@pytest.mark.parametrize("shard", [[2, 2], [0, 0], [-1, 2], "0,2"])
async def test_identify_with_an_invalid_shard_is_closed_4010(shard: Any) -> None:
    import aiohttp

    async with FakeDiscord() as dc, aiohttp.ClientSession() as http, \
            http.ws_connect(dc.gateway_url) as ws:
        hello = await ws.receive_json()
        assert hello["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "t", "intents": 1, "shard": shard,
                                           "properties": {}}})
        msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 4010
        assert not dc.sessions


async def test_an_enforced_nonce_makes_a_resent_message_one_message(
        dc: FakeDiscord, alice: FakeUser) -> None:
    async with running(dc) as bot:
        channel = bot.get_partial_messageable(CHANNEL)
        first = await channel.send("once", nonce="row-1.1")
        again = await channel.send("once", nonce="row-1.1")  # a retry after a lost answer
        other = await channel.send("twice", nonce="row-2.1")
        plain = [await channel.send("no nonce") for _ in range(2)]
        assert again.id == first.id and other.id != first.id
        assert [m.content for m in dc.sent_messages(CHANNEL)] == [
            "once", "twice", "no nonce", "no nonce"]
        assert plain[0].id != plain[1].id
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send("long", nonce="x" * 26)
        assert refused.value.code == 50035


async def test_a_second_port_serves_the_same_fake_and_shows_on_its_requests() -> None:
    import aiohttp

    async with FakeDiscord(token="t") as fake:
        port = await fake.also_listen()
        assert port != fake.port
        async with aiohttp.ClientSession(headers={"Authorization": "Bot t"}) as http:
            for base in (fake.api_base, fake.api_base_on(port)):
                async with http.get(base + "/users/@me") as response:
                    assert response.status == 200
        assert [r.port for r in fake.requests_to("GET", "/users/@me")] == [fake.port, port]
        assert fake.gateway_url_on(port) == f"ws://127.0.0.1:{port}/gateway"
