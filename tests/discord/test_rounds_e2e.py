"""Mentor practice rounds on a Discord server, end to end: the real discord.py client, our
core and SQLite, driven through the fake Discord on 127.0.0.1.

A mentor runs `/round` in a channel; members join with the round post's button, answer
in a private thread, share if they like, and rate each other's shared answers with the
buttons under them. Everything said to one person alone is an ephemeral interaction
reply; the channel only ever sees the round post, the answers members chose to share,
and a summary that names nobody.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.discord.conftest import GENERAL, GUILD, TOKEN, Driver, RunningBot, button
from tests.support.fake_discord import (
    P_ALL,
    P_MANAGE_GUILD,
    P_PRIVATE_THREADS,
    FakeDiscord,
    FakeInteraction,
    FakeUser,
    StoredMessage,
)

MANAGERS, MENTORS = 7910, 7920  # a role with Manage Server; the configured mentor role

# Realistic answers to "why did you leave?" (laid off), each with a word no other has,
# so the tests can tell where someone's words went.
ANSWERS: dict[str, tuple[str, str]] = {
    "Ava Quill": ("Lumenfield", (
        "Our company shut down the Lumenfield product line after a merger, and the whole "
        "team of twelve was laid off. Before that I rebuilt the billing pipeline and cut "
        "failed payments by 30 percent. My manager is one of my references, and I'm excited "
        "to bring that experience to a payments team like yours.")),
    "Ben Ortiz": ("Grindwell", (
        "Honestly my manager at Grindwell was incompetent and the whole place was a toxic "
        "mess. They laid people off because leadership had no idea what they were doing, "
        "and it was all their fault, not mine.")),
    "Cleo Park": ("Pinebrook", (
        "When Pinebrook lost its biggest client, the analytics group was cut. I had "
        "automated our weekly reporting in Python, which saved about 10 hours a week. I "
        "still talk with my old manager, and I want to grow into data engineering here.")),
    "Dev Rao": ("Quartzline", (
        "The layoff at Quartzline was not about performance. I guess it was kind of fine, "
        "I was mostly looking for better pay anyway and the workload was way too much.")),
    "Eli Sund": ("Vexacorp", (
        "Vexacorp let half of us go, and my boss blamed me for everything even though the "
        "terrible project plan was his. I was also going through a divorce that year, so "
        "it was a really hard time for me.")),
}
COMMENT = "Clear reason and a strong finish"


@pytest.fixture
def guild(dc: FakeDiscord, admin: FakeUser) -> dict[str, Any]:
    """The server: moderators (everything), managers (Manage Server), and the mentor
    role that DISCORD_MENTOR_ROLE_ID names (no permissions of its own)."""
    g = dc.add_guild(GUILD, "Career Club", channels=[{"id": GENERAL, "name": "practice"}],
                     members=[(admin, [7900])],
                     roles=[{"id": 7900, "name": "mods", "permissions": str(P_ALL)}])
    dc.add_role(GUILD, MANAGERS, "managers", P_MANAGE_GUILD)
    dc.add_role(GUILD, MENTORS, "mentors")
    return g


@pytest.fixture
async def bot(dc: FakeDiscord, guild: dict[str, Any], tmp_path: Path
              ) -> AsyncIterator[RunningBot]:
    running = RunningBot(dc, tmp_path / "rounds.db", discord_mentor_role_id=MENTORS)
    await running.start()
    yield running
    await running.stop()


def person(dc: FakeDiscord, user_id: int, name: str, roles: tuple[int, ...] = ()) -> Driver:
    handle = name.lower().replace(" ", "")
    user = dc.add_member(GUILD, dc.user(user_id, handle, global_name=name), roles)
    return Driver(dc, user)


# -- what a person sees -------------------------------------------------------------------


def plain(text: str) -> str:
    """Message text without Discord markdown's escapes ("\\#1" is shown as "#1")."""
    return re.sub(r"\\(.)", r"\1", text)



async def private_reply(dc: FakeDiscord, ix: FakeInteraction, what: str = "") -> StoredMessage:
    """The one message an interaction's ephemeral reply left (the deferred "thinking"
    placeholder, replaced by the first follow-up)."""
    await dc.wait_acked(ix)
    reply = await dc.wait_for(lambda: next((m for m in dc.replies_to(ix) if m.content), None),
                              10, what or f"the private reply to {ix.user.name}")
    assert reply.ephemeral, reply.content
    return reply


async def no_private_reply(dc: FakeDiscord, ix: FakeInteraction) -> None:
    """The deferred placeholder was removed: nothing was left to say to this person."""
    await dc.wait_acked(ix)
    await dc.wait_for(lambda: any(r["kind"] == "delete" for r in ix.responses), 10,
                      "the placeholder to go")
    assert dc.replies_to(ix) == []


async def round_command(d: Driver, **options: Any) -> FakeInteraction:
    return await d.slash("round", options, channel_id=GENERAL)


async def round_post(dc: FakeDiscord) -> StoredMessage:
    return await dc.wait_for(lambda: next((m for m in dc.public_messages(GENERAL)
                                           if any(c.endswith(".join") for c in m.custom_ids)),
                                          None), 10, "the round's post")


async def join(d: Driver, post: StoredMessage) -> list[StoredMessage]:
    """Press Join: a private thread opens (pointed to privately) and the question is there."""
    ix = await d.dc.click(d.user, post, button(post, "join"))
    pointer = await private_reply(d.dc, ix, "the pointer to the private thread")
    found = re.search(r"<#(\d+)>", pointer.content)
    assert found, pointer.content
    d.channel = int(found[1])
    assert d.dc.channels[d.channel]["type"] == 12  # a private thread
    assert d.dc.thread_members[d.channel] == {d.dc.application_id, d.user.id}
    return await d.dc.wait_for(lambda: [m for m in d.messages() if "why did you leave" in
                                        m.content.lower()] and d.messages(), 10,
                               f"the round's question for {d.user.name}")


async def answer(d: Driver, text: str) -> str:
    """Answer in the thread; returns the feedback (follow-ups are off in these rounds)."""
    before = len(d.messages())
    await d.dc.message_create(d.channel or 0, d.user, text)
    return await feedback_after(d, before)


async def feedback_after(d: Driver, before: int) -> str:
    await d.dc.wait_for(lambda: any(".share" in c for m in d.messages()[before:]
                                    for c in m.custom_ids)
                        and any("counts for the round" in m.content
                                for m in d.messages()[before:]), 10,
                        f"feedback, the share offer and the round's note for {d.user.name}")
    return next(m.content for m in d.messages()[before:] if "/100" in m.content)


async def share(d: Driver) -> list[StoredMessage]:
    offer = next(m for m in reversed(d.messages()) if any(".share" in c for c in m.custom_ids))
    return await d.press("share", offer)


async def rate(d: Driver, post: StoredMessage, point: str) -> str:
    ix = await d.dc.click(d.user, post, button(post, point))
    return plain((await private_reply(d.dc, ix, f"{d.user.name}'s rating to be answered")).content)


async def shared_post(dc: FakeDiscord, no: int) -> StoredMessage:
    return await dc.wait_for(lambda: next((m for m in dc.public_messages(GENERAL)
                                           if f"Answer #{no}" in plain(m.content)), None), 10,
                             f"shared answer #{no} in the channel")


def report_files(dc: FakeDiscord, mentor: FakeUser) -> dict[str, bytes]:
    files = {}
    for message in dc.sent_messages(dc.dm_channel(mentor)):
        for attachment in message.data["attachments"]:
            files[attachment["filename"]] = message.files[int(attachment["id"])]
    return files


def csv_rows(files: dict[str, bytes]) -> list[dict[str, str]]:
    (name,) = [n for n in files if n.endswith(".csv")]
    return list(csv.DictReader(io.StringIO(files[name].decode("utf-8"))))


def no_errors(dc: FakeDiscord) -> None:
    assert dc.errors == [], dc.errors
    for ix in dc.interactions.values():
        assert ix.acked and not ix.late, ix.payload["data"]


def nothing_pings(dc: FakeDiscord) -> None:
    for message in dc.sent_messages():
        assert not dc.could_ping(message), message.content[:100]


# -- 1. a whole round ---------------------------------------------------------------------


async def test_a_mentor_and_five_members_run_a_round_in_a_channel(dc: FakeDiscord,
                                                                  bot: RunningBot) -> None:
    mentor = person(dc, 3000, "Morgan Mentor", (MANAGERS,))
    members = [person(dc, 3001 + n, name) for n, name in enumerate(ANSWERS)]
    ava, ben, cleo, dev, eli = members

    ix = await round_command(mentor, action="start", situation="laid_off", window="30m",
                             followups=False)
    post = await round_post(dc)
    await no_private_reply(dc, ix)  # the post says it all
    assert "Morgan Mentor" in post.content and "30 minutes" in post.content
    original = dict(content=post.content, components=post.components)

    # Everyone joins, gets the question in a private thread, answers, sees feedback.
    await asyncio.gather(*(join(m, post) for m in members))
    assert len({m.channel for m in members}) == 5
    scores: dict[str, str] = {}
    feedbacks = await asyncio.gather(*(answer(m, ANSWERS[m.user.global_name or ""][1])
                                       for m in members))
    for m, feedback in zip(members, feedbacks, strict=True):
        scores[m.user.global_name or ""] = re.findall(r"(\d+)/100", feedback)[0]
    # Join again: the same thread, no second one, and the answer stays in.
    threads = sum(1 for c in dc.channels.values() if c["type"] == 12)
    before = len(ben.messages())
    ix = await dc.click(ben.user, post, button(post, "join"))
    assert f"<#{ben.channel}>" in (await private_reply(dc, ix)).content
    await ben.settle(before)
    assert "already in" in ben.messages()[-1].content
    assert sum(1 for c in dc.channels.values() if c["type"] == 12) == threads
    trash_talk = feedbacks[1]
    assert re.search(r"incompetent|toxic|all their fault", trash_talk)  # quoted back

    # Two share; the others (and they themselves) rate with the buttons in the channel.
    replies = await share(ava)
    assert any("answer #1" in plain(r.content) for r in replies)
    await share(cleo)
    first, second = await shared_post(dc, 1), await shared_post(dc, 2)
    assert "Ava Quill" in first.content and "Lumenfield" in first.content
    assert "Cleo Park" in second.content and "Pinebrook" in second.content

    assert "Counted" in await rate(ben, first, "positive")
    assert "Counted" in await rate(dev, first, "specific")
    assert "Counted" in await rate(eli, second, "looks forward")
    assert "Counted" in await rate(ava, second, "specific")
    assert "your own answer" in await rate(ava, first, "positive")  # refused, privately
    assert "already given answer #1" in await rate(ben, first, "positive")  # once only

    ix = await round_command(dev, action="comment", answer=1, text=COMMENT)
    assert "passed on to its author" in (await private_reply(dc, ix)).content
    await dc.wait_for(lambda: any(COMMENT in m.content for m in ava.messages()), 10,
                      "the comment to reach Ava's thread")
    peer = [m.content for m in ava.messages() if "Peer feedback" in m.content]
    assert peer and "Dev Rao" not in "".join(peer) and "Ben Ortiz" not in "".join(peer)

    ix = await round_command(eli, action="status")
    status = (await private_reply(dc, ix)).content
    assert "5 joined, 5 answered, 2 shared" in status

    # The mentor ends it: a summary for the channel, the report in the mentor's DMs.
    ix = await round_command(mentor, action="end")
    assert "The round is closed" in (await private_reply(dc, ix)).content
    summary = await dc.wait_for(lambda: next((m for m in dc.public_messages(GENERAL)
                                              if "Practice round results" in m.content),
                                             None), 10, "the summary")
    files = await dc.wait_for(lambda: (f := report_files(dc, mentor.user)) and len(f) == 3
                              and f, 15, "the report's files")

    # The round post and the shared ones were never edited, and kept their buttons.
    assert post.content == original["content"] and post.components == original["components"]
    assert post.data["edited_timestamp"] is None and first.data["edited_timestamp"] is None
    assert all(len(p.custom_ids) == 5 for p in (first, second))

    # In public: the post, the two answers their authors shared, the summary. Nothing else.
    public = dc.public_messages(GENERAL)
    assert public == [post, first, second, summary]
    names = [m.user.global_name or "" for m in members]
    for message in (post, summary):
        for name in names:
            assert not re.search(rf"\b{name.split()[0]}\b", message.content), name
        for marker, _ in ANSWERS.values():
            assert marker not in message.content
    for shared, author in ((first, "Ava Quill"), (second, "Cleo Park")):
        for name in names:
            assert (name in shared.content) == (name == author)
        for name, (marker, _) in ANSWERS.items():
            assert (marker in shared.content) == (name == author)
    assert "5 of 5 members answered" in summary.content
    assert len(re.findall(r"\d+/100", summary.content)) == 1  # the average, no one's score
    assert "Average score" in summary.content

    # The mentor's report: everyone, with the CSV, Markdown and chart attached.
    dm = dc.sent_messages(dc.dm_channel(mentor.user))
    assert "Round report" in dm[0].content
    report = plain("\n".join(m.content for m in dm))  # in as many messages as it takes
    for name, (marker, _) in ANSWERS.items():
        assert name in report and f"{scores[name]}/100" in report and marker in report
    names_by_ext = {n.rsplit(".", 1)[1]: n for n in files}
    assert set(names_by_ext) == {"csv", "md", "png"}
    rows = csv_rows(files)
    assert sorted(r["name"] for r in rows) == sorted(ANSWERS)
    assert all(r["status"] == "answered" for r in rows)
    assert {r["name"]: r["score"] for r in rows} == scores
    shared_rows = {r["name"]: r for r in rows if r["shared"] == "yes"}
    assert set(shared_rows) == {"Ava Quill", "Cleo Park"}
    assert shared_rows["Ava Quill"]["peer_positive"] == "1"
    assert shared_rows["Ava Quill"]["comments"] == "1"
    markdown = files[names_by_ext["md"]].decode("utf-8")
    for name, (marker, _) in ANSWERS.items():
        assert name in markdown and marker in markdown
    assert files[names_by_ext["png"]].startswith(b"\x89PNG\r\n\x1a\n")
    # Nobody else got the report, and nothing anyone wrote could ping.
    for m in members:
        assert not dc.sent_messages(dc.dm_channel(m.user))
    nothing_pings(dc)
    no_errors(dc)


# -- 2. who may run a round ---------------------------------------------------------------


async def test_only_managers_and_the_mentor_role_run_rounds(dc: FakeDiscord,
                                                            bot: RunningBot) -> None:
    command = dc.commands[None]["round"]  # servers only; open to all (comment, status)
    assert command["contexts"] == [0] and command["default_member_permissions"] is None
    assert command["description_localizations"]["zh-CN"]
    fay = person(dc, 3101, "Fay Lin")
    gus = person(dc, 3102, "Gus Holm", (MENTORS,))

    ix = await round_command(fay, action="start", window="45m")
    refusal = (await private_reply(dc, ix)).content
    assert "Only the group's admins" in refusal and "mentor role" in refusal
    await asyncio.sleep(0.2)
    assert dc.public_messages(GENERAL) == []
    assert not dc.requests_to("POST", rf"/channels/{GENERAL}/messages")

    ix = await round_command(gus, action="start", window="45m", situation="each")
    post = await round_post(dc)
    await no_private_reply(dc, ix)
    assert "Gus Holm" in post.content and "each member answers" in post.content

    ix = await round_command(fay, action="end")
    assert "Only the mentor who started this round" in (await private_reply(dc, ix)).content

    # Where the bot may not open private threads, a member answers in a DM instead.
    for role in dc.guilds[GUILD]["roles"][:2]:  # @everyone and the bot's own role
        role["permissions"] = str(int(role["permissions"]) & ~P_PRIVATE_THREADS)
    ix = await dc.click(fay.user, post, button(post, "join"))
    assert "direct messages" in (await private_reply(dc, ix)).content
    fay.channel = dc.dm_channel(fay.user)
    await dc.wait_for(lambda: any("pick the situation" in m.content for m in fay.messages()),
                      10, "the round's first question in the DM")
    for who in (fay, gus):  # one round at a time, whoever asks
        ix = await round_command(who, action="start", window="1h")
        assert "already running" in (await private_reply(dc, ix)).content
    await asyncio.sleep(0.2)
    assert dc.public_messages(GENERAL) == [post]

    ix = await round_command(gus, action="end")
    assert "The round is closed" in (await private_reply(dc, ix)).content
    summary = await dc.wait_for(lambda: next((m for m in dc.public_messages(GENERAL)
                                              if "Practice round results" in m.content),
                                             None), 10, "the summary")
    assert "0 of 1 member answered" in summary.content

    # Join on the old post: the round is over, said privately; nothing is opened.
    hal = person(dc, 3103, "Hal Berg")
    ix = await dc.click(hal.user, post, button(post, "join"))
    assert "this round closed" in (await private_reply(dc, ix)).content
    assert not any(c["type"] == 12 for c in dc.channels.values())
    assert not dc.sent_messages(dc.dm_channel(hal.user))
    assert post.data["edited_timestamp"] is None and len(post.custom_ids) == 1
    nothing_pings(dc)
    no_errors(dc)


# -- 3. a crash in the middle -------------------------------------------------------------


async def pressed_before_the_crash(dc: FakeDiscord, database: Path, d: Driver,
                                   post: StoredMessage, point: str) -> FakeInteraction:
    """A rating press that reached the bot, was stored and acknowledged, and then the
    process died: what the adapter leaves behind, done here the same way."""
    from leavewell.bot.discord.inbound import interaction_id, ref_of
    from leavewell.storage import open_store

    ix = await dc.click(d.user, post, button(post, point))  # nobody is connected
    callback = f"{dc.api_base}/interactions/{ix.id}/{ix.token}/callback"
    async with aiohttp.ClientSession() as session, session.post(
            callback, json={"type": 5, "data": {"flags": 64}}) as response:
        assert response.status == 204  # deferred, ephemeral: "thinking…"
    store = await open_store(f"sqlite:///{database}")
    try:
        ref = ref_of(GENERAL, d.user.id)
        await store.inbox_put([(interaction_id(ix.id), {
            "address": ref.address(), "choice": button(post, point).removeprefix("lw:"),
            "at": time.time(), "reply_via": f"interaction:{dc.application_id}:{ix.token}",
            "actor": {"name": d.user.global_name, "in_group": True}})])
    finally:
        await store.close()
    return ix


def _command() -> list[str]:
    script = Path(sys.executable).parent / "leavewell"
    return [str(script)] if script.exists() else [sys.executable, "-m", "leavewell.bot.cli"]


async def spawn(dc: FakeDiscord, database: Path) -> asyncio.subprocess.Process:
    """The `leavewell` process itself, serving Discord against the fake."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_BOT_TOKEN")}
    env.update(DISCORD_BOT_TOKEN=TOKEN, DISCORD_API_BASE_URL=dc.api_base,
               DISCORD_GATEWAY_URL=dc.gateway_url, DISCORD_MENTOR_ROLE_ID=str(MENTORS),
               LEAVEWELL_DATABASE_URL=f"sqlite:///{database}", LEAVEWELL_LOG_LEVEL="WARNING")
    identifies = len(dc.identifies)
    process = await asyncio.create_subprocess_exec(
        *_command(), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    await dc.wait_for(lambda: (len(dc.identifies) > identifies and dc.client_ready
                               and dc.requests_to("PUT", r".*/commands"))
                      or process.returncode is not None, 20, "the process to connect")
    assert process.returncode is None, await process.stderr.read()  # type: ignore[union-attr]
    return process


async def test_killed_mid_round_nothing_is_lost_or_doubled(dc: FakeDiscord,
                                                           guild: dict[str, Any],
                                                           tmp_path: Path) -> None:
    database = tmp_path / "killed.db"
    process = await spawn(dc, database)
    mentor = person(dc, 3200, "Morgan Mentor", (MENTORS,))
    members = [person(dc, 3201 + n, name) for n, name in enumerate(ANSWERS)]
    words = {m.user.id: ANSWERS[m.user.global_name or ""][1] for m in members}
    running: RunningBot | None = None
    try:
        await round_command(mentor, action="start", situation="laid_off", window="10m",
                            followups=False)
        post = await round_post(dc)
        await asyncio.gather(*(join(m, post) for m in members))
        await asyncio.gather(*(answer(m, words[m.user.id]) for m in members[:2]))
        await share(members[0])
        first = await shared_post(dc, 1)

        process.kill()  # kill -9: no goodbye, nothing flushed
        await process.wait()
        before = {m.user.id: len(m.messages()) for m in members}
        # Written while the bot is down: Discord will not replay it to the next session.
        await dc.message_create(members[2].channel or 0, members[2].user,
                                words[members[2].user.id])
        # Two ratings the dead process had acknowledged and stored, but not handled; the
        # second one's interaction token has expired by the time the bot is back.
        fresh = await pressed_before_the_crash(dc, database, members[1], first, "positive")
        stale = await pressed_before_the_crash(dc, database, members[3], first, "specific")
        dc.expire(stale)

        running = RunningBot(dc, database, discord_mentor_role_id=MENTORS)
        await running.start()
        await feedback_after(members[2], before[members[2].user.id])  # read back
        assert "Counted" in plain((await private_reply(dc, fresh)).content)
        await dc.wait_for(lambda: any(e["code"] == 10015 for e in dc.errors), 10,
                          "the expired token's follow-up to be refused")
        await asyncio.gather(*(answer(m, words[m.user.id]) for m in members[3:]))

        # The deadline: the core's timer, at a time just past it.
        core = running.adapters[0].core
        record = await core.store.open_round(f"discord:{GENERAL}:")
        assert record is not None and record.deadline is not None
        assert await core.fire_due(now=record.deadline + 1) >= 1
        summary = await dc.wait_for(lambda: next((m for m in dc.public_messages(GENERAL)
                                                  if "Practice round results" in m.content),
                                                 None), 10, "the summary")
        files = await dc.wait_for(lambda: (f := report_files(dc, mentor.user)) and len(f) == 3
                                  and f, 15, "the report's files")
        assert "5 of 5 members answered" in summary.content
        assert "mentor closed" not in summary.content  # closed by its deadline
        rows = csv_rows(files)
        assert sorted(r["name"] for r in rows) == sorted(ANSWERS)
        assert all(r["status"] == "answered" for r in rows)
        assert sorted(r["answer"] for r in rows) == sorted(words.values())
        # Both replayed ratings counted, once; only the stale one's "counted" was lost.
        shared = next(r for r in rows if r["shared"] == "yes")
        assert (shared["peer_positive"], shared["peer_specific"]) == ("1", "1")
        peer = [m for m in members[0].messages() if "Peer feedback" in m.content]
        assert len(peer) == 2
        assert [e["code"] for e in dc.errors] == [10015]
        assert len(dc.requests_to("POST", rf"/webhooks/\d+/{stale.token}")) == 1  # not retried

        # Each member: one question, one feedback, one "counts for the round" — once.
        for m in members:
            contents = [x.content for x in m.messages()]
            assert sum("/100" in c for c in contents) == 1, (m.user.name, contents)
            assert sum("counts for the round" in c for c in contents) == 1
            assert sum("why did you leave" in c.lower() for c in contents) == 1
        assert len([m for m in dc.public_messages(GENERAL) if "Practice round" in m.content
                    and "results" in m.content]) == 1
        reports = [m for m in dc.sent_messages(dc.dm_channel(mentor.user))
                   if "Round report" in m.content]
        assert len(reports) == 1
        with sqlite3.connect(database) as conn:
            for text in words.values():
                (count,) = conn.execute("SELECT COUNT(*) FROM turns WHERE text = ?",
                                        (text,)).fetchone()
                assert count == 1, text
        # A second close at a later time changes nothing.
        await core.fire_due(now=record.deadline + 60)
        await asyncio.sleep(0.2)
        assert len([m for m in dc.sent_messages(dc.dm_channel(mentor.user))
                    if "Round report" in m.content]) == 1
        nothing_pings(dc)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        if running is not None:
            await running.stop()
