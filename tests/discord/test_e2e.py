"""End to end: the real discord.py client, our core and SQLite, driven through a fake
Discord (gateway + REST) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest

from tests.discord.conftest import (
    GENERAL,
    GUILD,
    MANAGE_GUILD,
    QUIET,
    Driver,
    RunningBot,
    button,
    member,
)
from tests.support.fake_discord import FakeDiscord, FakeUser

ANSWER_EN = (
    "Our whole analytics team was cut when the company lost its largest client. Before "
    "that I led the move of our reporting to Python and saved the team 10 hours a week. "
    "My manager is one of my references, and I want to grow into data engineering here."
)
ANSWER_ZH = (
    "公司失去了最大的客户，整个分析团队被裁。在那之前，我负责把报表迁移到 Python，"
    "每周为团队节省了10个小时。我的前主管愿意做我的推荐人，我希望在贵公司继续成长。"
)
FOLLOW_EN = "I stayed in touch with my manager and kept learning."
FOLLOW_ZH = "我和前主管一直保持联系，也一直在学习。"
HOSTILE = "**bold** @everyone <@123> https://x.y and I hated my boss"


def all_acked_in_time(dc: FakeDiscord) -> None:
    for ix in dc.interactions.values():
        assert ix.acked and not ix.late, ix.payload["data"]
        assert ix.ack_latency is not None and ix.ack_latency < 3.0


def nothing_pings(dc: FakeDiscord) -> None:
    sent = dc.sent_messages()
    assert sent
    for message in sent:
        assert not dc.could_ping(message), message.content[:100]
    for request in dc.requests_to("POST", r"/channels/\d+/messages"):
        assert request.json["allowed_mentions"]["parse"] == [], request.json


def no_errors(dc: FakeDiscord) -> None:
    assert dc.errors == [], dc.errors


async def interview(driver: Driver, answer: str, *, situation: str = "laid off",
                    follow: str = FOLLOW_EN, in_dm: bool = False) -> str:
    """A whole round with buttons; returns the feedback's text."""
    if in_dm:
        driver.channel = driver.dc.dm_channel(driver.user)
        await driver.command("start")
    else:
        await driver.practice_on_server()
    await driver.press("")  # role: Skip
    await driver.press("")  # company: Skip
    await driver.press(situation)
    await driver.say(answer)
    for _ in range(4):
        replies = await driver.say(follow)
        feedback = next((m for m in replies if "/100" in m.content), None)
        if feedback is not None:
            return feedback.content
    raise AssertionError([m.content[:80] for m in driver.messages()])


async def test_guild_users_interview_in_private_threads(dc: FakeDiscord,
                                                       bot: RunningBot) -> None:
    users = [Driver(dc, member(dc, 100 + n, f"user{n}", "zh-CN" if n % 2 else "en-US"))
             for n in range(4)]
    results = await asyncio.gather(*(
        interview(d, ANSWER_ZH if n % 2 else ANSWER_EN, situation="裁员" if n % 2
                  else "laid off", follow=FOLLOW_ZH if n % 2 else FOLLOW_EN)
        for n, d in enumerate(users)))
    assert all("/100" in r for r in results)
    assert "What the interviewer hears" in results[0]
    assert "面试官听到了什么" in results[1]
    # every interview ran in its own private thread with just the user (and the bot)
    threads = {d.channel for d in users}
    assert len(threads) == 4
    for d in users:
        channel = dc.channels[d.channel or 0]
        assert channel["type"] == 12 and channel["thread_metadata"]["invitable"] is False
        assert dc.thread_members[d.channel or 0] == {dc.application_id, d.user.id}
    # nothing was said in the open channel, except ephemeral pointers to the threads
    public = dc.sent_messages(GENERAL)
    assert public and all(m.ephemeral for m in public)
    assert any(f"<#{users[0].channel}>" in m.content for m in public)
    assert any("私密子区" in m.content for m in public)
    # pressed buttons show the choice and are gone
    pressed = [m for m in dc.sent_messages(users[0].channel) if "You chose" in m.content]
    assert len(pressed) == 3 and all(not m.custom_ids for m in pressed)
    all_acked_in_time(dc)
    nothing_pings(dc)
    no_errors(dc)


async def test_interview_in_dms_in_chinese(dc: FakeDiscord, bot: RunningBot) -> None:
    li = Driver(dc, dc.user(201, "li", "zh-CN"))
    feedback = await interview(li, ANSWER_ZH, situation="裁员", follow=FOLLOW_ZH, in_dm=True)
    assert "面试官听到了什么" in feedback
    history = await li.command("history")
    assert history and all(not m.ephemeral for m in history)
    all_acked_in_time(dc)
    nothing_pings(dc)
    no_errors(dc)
    # the slash commands' own "thinking" replies were removed: only the bot's messages stay
    assert not [m for m in dc.sent_messages(li.channel) if m.ephemeral]


async def test_markdown_and_mentions_from_answers_are_inert(dc: FakeDiscord,
                                                            bot: RunningBot) -> None:
    eve = Driver(dc, member(dc, 301, "eve"))
    await eve.practice_on_server()
    await eve.say(HOSTILE)  # the role, echoed back and used in the model answer
    await eve.say("Acme")
    await eve.press("laid off")
    await eve.say(HOSTILE + " " + ANSWER_EN)
    feedback = ""
    for _ in range(4):
        replies = await eve.say(FOLLOW_EN)
        feedback = next((m.content for m in replies if "/100" in m.content), "")
        if feedback:
            break
    assert "\\*\\*bold\\*\\*" in feedback  # shown as typed, not as bold
    everything = "\n".join(m.content for m in eve.messages())
    assert "\\*\\*bold\\*\\*" in everything
    assert "@everyone" not in everything  # defused with a zero-width space
    assert "<@123>" not in everything and "https://x.y" not in everything
    nothing_pings(dc)
    no_errors(dc)


async def test_button_pressed_after_a_restart_still_works(dc: FakeDiscord,
                                                          bot: RunningBot) -> None:
    ann = Driver(dc, member(dc, 401, "ann"))
    await ann.practice_on_server()
    await ann.press("")
    await ann.press("")
    prompt = ann.last_with_buttons()  # the situation question
    await bot.restart()
    replies = await ann.press("laid off", prompt)
    assert any("Interviewer" in m.content for m in replies)
    # an answer typed in the thread after the restart is still part of the interview
    replies = await ann.say(ANSWER_EN)
    assert replies
    all_acked_in_time(dc)
    no_errors(dc)


async def test_rate_limit_and_server_error_are_survived(dc: FakeDiscord,
                                                        bot: RunningBot) -> None:
    bo = Driver(dc, member(dc, 501, "bo"))
    await bo.practice_on_server()
    thread = bo.channel
    dc.fail_next("POST", rf"/channels/{thread}/messages", 429, retry_after=0.2)
    dc.fail_next("POST", rf"/channels/{thread}/messages", 500)
    replies = await bo.press("")
    assert any("company" in m.content for m in replies)
    statuses = [r.status for r in dc.requests_to("POST", rf"/channels/{thread}/messages")]
    assert 429 in statuses and 500 in statuses
    assert len([m for m in bo.messages() if "company" in m.content]) == 1
    no_errors(dc)


async def test_a_resent_gateway_event_changes_nothing_twice(dc: FakeDiscord,
                                                           bot: RunningBot) -> None:
    cy = Driver(dc, member(dc, 601, "cy"))
    await cy.practice_on_server()
    await cy.say("Data analyst")  # the role, typed
    user_frame = next(f for f in reversed(dc.dispatched) if f["t"] == "MESSAGE_CREATE"
                      and f["d"]["author"]["id"] == str(cy.user.id))
    before = len(cy.messages())
    await dc.redispatch_last("MESSAGE_CREATE")
    await dc.dispatch_raw("MESSAGE_CREATE", user_frame["d"])
    threads = sum(1 for c in dc.channels.values() if c["type"] == 12)
    await dc.redispatch_last("INTERACTION_CREATE")  # the /practice again
    await asyncio.sleep(0.3)
    assert len(cy.messages()) == before
    assert sum(1 for c in dc.channels.values() if c["type"] == 12) == threads
    assert [e["code"] for e in dc.errors] in ([], [40060])  # the duplicate ack, refused


async def test_admins_restrict_practice_to_chosen_channels(dc: FakeDiscord, bot: RunningBot,
                                                           admin: FakeUser) -> None:
    command = dc.commands[None]["channels"]
    assert int(command["default_member_permissions"]) == MANAGE_GUILD
    dee = Driver(dc, member(dc, 701, "dee"))
    # a member without Manage Server cannot change anything
    ix = await dee.slash("channels", {"action": "add", "channel": str(QUIET)},
                         channel_id=GENERAL)
    await dc.wait_for(lambda: len(ix.responses) > 1)
    assert "Manage Server" in dc.messages[ix.original_id or 0].content
    # an admin allows only #quiet
    boss = Driver(dc, admin)
    ix = await boss.slash("channels", {"action": "add", "channel": str(QUIET)},
                          channel_id=GENERAL)
    await dc.wait_for(lambda: len(ix.responses) > 1)
    reply = dc.messages[ix.original_id or 0]
    assert reply.ephemeral and f"<#{QUIET}>" in reply.content
    # /practice in #general is refused, privately; nothing is opened
    ix = await dee.slash("practice", channel_id=GENERAL)
    await dc.wait_for(lambda: len(ix.responses) > 1)
    refusal = dc.messages[ix.original_id or 0]
    assert refusal.ephemeral and "isn't enabled" in refusal.content
    assert not any(c["type"] == 12 for c in dc.channels.values())
    # ... and works in #quiet
    replies = await dee.practice_on_server(channel_id=QUIET)
    assert dc.channels[dee.channel or 0]["parent_id"] == str(QUIET) and replies
    # the setting is durable; DISCORD_GUILD_ID syncs the commands to that server only
    bot.overrides["discord_guild_id"] = GUILD
    await bot.restart()
    assert "practice" in dc.commands[GUILD]
    ix = await boss.slash("channels", {"action": "list"}, channel_id=GENERAL)
    await dc.wait_for(lambda: len(ix.responses) > 1)
    assert f"<#{QUIET}>" in dc.messages[ix.original_id or 0].content
    all_acked_in_time(dc)
    no_errors(dc)


async def test_dm_fallback_when_threads_are_not_allowed(dc: FakeDiscord,
                                                        bot: RunningBot) -> None:
    for role in dc.guilds[GUILD]["roles"][:2]:  # @everyone and the bot: no private threads
        role["permissions"] = str(1 << 10 | 1 << 11 | 1 << 31)
    fay = Driver(dc, member(dc, 801, "fay"))
    replies = await fay.practice_on_server()
    assert fay.channel == dc.dm_channel(fay.user) and replies
    public = dc.sent_messages(GENERAL)
    assert public and all(m.ephemeral for m in public)
    no_errors(dc)


async def test_voice_media_export_and_forgotten_buttons(dc: FakeDiscord,
                                                        bot: RunningBot) -> None:
    gus = Driver(dc, dc.user(901, "gus"))
    gus.channel = dc.dm_channel(gus.user)
    await gus.command("practice", {"situation": "employed"})
    replies = await gus.say("", attachments=[{"filename": "voice-message.ogg",
                                              "content_type": "audio/ogg", "data": b"x",
                                              "duration_secs": 48.0}])
    # the real length is used for pacing, and the gist is asked for in text
    assert any("48" in m.content for m in replies), [m.content for m in replies]
    replies = await gus.say("look", attachments=[{"filename": "cv.png",
                                                  "content_type": "image/png"}])
    assert any("only read" in m.content for m in replies)
    replies = await gus.command("export")
    files = [a for m in replies for a in m.data["attachments"]]
    assert files and files[0]["filename"] == "leavewell-export.json"
    stored = next(m for m in replies if m.data["attachments"])
    exported: dict[str, Any] = json.loads(stored.files[int(files[0]["id"])])
    assert exported["user_key"] == f"discord:{gus.user.id}"
    await gus.command("lang")  # a prompt with buttons, to press after /forget
    old_prompt = gus.last_with_buttons()
    await gus.command("forget")
    await gus.press("yes")
    ix = await dc.click(gus.user, old_prompt, old_prompt.custom_ids[0])
    await dc.wait_acked(ix)
    await dc.wait_for(lambda: any(r["kind"] == "followup" for r in ix.responses))
    notice = dc.messages[ix.followup_ids[0]]
    assert notice.ephemeral and "no longer exists" in notice.content
    all_acked_in_time(dc)
    nothing_pings(dc)
    no_errors(dc)


async def test_a_message_written_while_the_bot_was_down_is_answered(dc: FakeDiscord,
                                                                    bot: RunningBot) -> None:
    """Discord does not replay gateway events to a new session: the bot reads the
    history of its open interviews when it comes back."""
    cy = Driver(dc, dc.user(951, "cy"))
    cy.channel = dc.dm_channel(cy.user)
    await cy.command("practice", {"situation": "laid_off"})
    asked = len(cy.messages())
    await bot.stop()
    with contextlib.suppress(Exception):  # nobody is connected to receive the event
        await dc.message_create(cy.channel, cy.user, ANSWER_EN)
    await bot.start()
    await dc.wait_for(lambda: len(cy.messages()) > asked, 10, "the answer to be read back")
    await asyncio.sleep(0.2)
    assert any("Interviewer" in m.content for m in cy.messages()[asked:])
    # and it is not answered twice when the bot restarts again
    count = len(cy.messages())
    await bot.restart()
    await asyncio.sleep(0.3)
    assert len(cy.messages()) == count


async def test_a_press_acknowledged_just_before_a_crash_is_handled_after_restart(
        dc: FakeDiscord, bot: RunningBot) -> None:
    """Discord never re-sends an interaction: the press is kept in the inbox from the
    moment it is acknowledged until its effects are committed."""
    from leavewell.bot.discord.inbound import ref_of
    from leavewell.storage import open_store

    di = Driver(dc, dc.user(961, "di"))
    di.channel = dc.dm_channel(di.user)
    await di.command("practice")
    await di.press("")  # role: skip
    await di.press("")  # company: skip
    prompt = di.last_with_buttons()  # the situation buttons
    choice = button(prompt, "laid off").removeprefix("lw:")
    await bot.stop()
    store = await open_store(f"sqlite:///{bot.database}")  # what the crash left behind
    ref = ref_of(di.channel, di.user.id)
    await store.inbox_put([("discord:ix:424242", {
        "address": ref.address(), "choice": choice, "at": 1_800_000_000.0})])
    await store.close()
    before = len(di.messages())
    await bot.start()
    await dc.wait_for(lambda: any("Interviewer" in m.content
                                  for m in di.messages()[before:]), 10, "the replayed press")


async def test_a_press_kept_before_a_crash_goes_before_what_comes_after_the_restart(
        dc: FakeDiscord, guild: dict[str, Any], bot: RunningBot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A press taken into the inbox just before a crash (never acknowledged) is handled
    before the user's next command, even when that command arrives the moment the bot is
    back, well before its gateway is ready (its server's data slow to come)."""
    from leavewell.bot.discord.inbound import ref_of
    from leavewell.storage import open_store

    di = Driver(dc, dc.user(962, "di2"))
    di.channel = dc.dm_channel(di.user)
    await di.command("practice")
    await di.press("")  # role: skip
    choice = button(di.last_with_buttons(), "").removeprefix("lw:")  # company: skip
    await bot.stop()
    store = await open_store(f"sqlite:///{bot.database}")  # what the crash left behind
    await store.inbox_put([("discord:ix:434343", {
        "address": ref_of(di.channel, di.user.id).address(), "choice": choice,
        "at": 1_800_000_000.0})])
    await store.close()
    dispatch_to = dc._dispatch_to

    async def slow_servers(s: Any, t: str, d: dict[str, Any]) -> dict[str, Any] | None:
        return None if t == "GUILD_CREATE" else await dispatch_to(s, t, d)

    monkeypatch.setattr(dc, "_dispatch_to", slow_servers)  # on_ready waits for them
    before = len(di.messages())
    await bot.start()
    await di.slash("stop", channel_id=di.channel)
    await dc.wait_for(lambda: any("Stopped" in m.content for m in di.messages()), 10)
    after = [m.content for m in di.messages()[before:]]
    assert [t.split()[0] for t in after] == ["No", "Which", "Stopped."], after


async def test_history_after_two_attempts_comes_with_a_progress_chart(
        dc: FakeDiscord, bot: RunningBot) -> None:
    eve = Driver(dc, dc.user(1201, "eve"))
    await interview(eve, "My old boss was a jerk and it was all his fault.", in_dm=True)
    await eve.press("same")
    replies = await eve.say(ANSWER_EN)
    for _ in range(4):  # follow-ups, until the second feedback
        if any("/100" in m.content for m in replies):
            break
        replies = await eve.say(FOLLOW_EN)
    before = len(eve.messages())
    await eve.command("history")
    await dc.wait_for(lambda: any(m.data["attachments"] for m in eve.messages()[before:]), 10,
                      "the progress chart")
    replies = eve.messages()[before:]
    text = next(m for m in replies if "since your first try" in m.content)
    chart = next(m for m in replies if m.data["attachments"])
    assert replies.index(text) < replies.index(chart)  # the explanation, then the picture
    (attachment,) = chart.data["attachments"]
    assert attachment["filename"] == "leavewell-progress.png"
    assert chart.files[int(attachment["id"])].startswith(b"\x89PNG\r\n\x1a\n")
    all_acked_in_time(dc)
    nothing_pings(dc)
    no_errors(dc)
