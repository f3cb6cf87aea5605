"""End to end: a mentor's practice round in a Telegram group, through the real
python-telegram-bot Application, our core and SQLite, against the fake Bot API server.

The group sees the round's post (its Join button is a deep link to a private chat),
the answers that their authors chose to share, and a summary without names; each
member answers and gets feedback in private; the mentor gets the per-member report and
its files in private. Presses in the group are answered with toasts.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from leavewell.bot.telegram.inbound import PLATFORM
from leavewell.storage.base import RoundRecord, StepRecord, Store
from tests.support.fake_telegram import FakeGroup, FakeTelegram, FakeUser, SentMessage
from tests.telegram.conftest import TOKEN, RunningBot, exchange, settle, spawn

GROUP_ID = -100_700


@dataclass
class Member:
    user: FakeUser
    answer: str
    feedback: SentMessage | None = None

    @property
    def name(self) -> str:
        return f"{self.user.first_name} {self.user.last_name}"


# Realistic answers to "Why did you leave your last job?" (laid off), some with red flags.
ANSWERS = {
    "Ann Okafor": (
        "Our whole analytics team was cut when the company lost its largest client. Before "
        "that I led the move of our reporting to Python and saved the team ten hours a week. "
        "My manager is one of my references, and I want to grow into data engineering."
    ),
    "Bao Tran": (
        "Honestly my manager was a clueless micromanager and that company was a total mess. "
        "They laid off half of us and I was glad to get out of such a toxic place."
    ),
    "Carla Reyes": (
        "After the merger the company closed the Lisbon support office, and my role went "
        "with twelve others. In three years I cut the ticket backlog by 40 percent and "
        "trained six new hires. My team lead is happy to be a reference, and I am looking "
        "for a role where I can grow into customer success operations."
    ),
    "Dev Patel": (
        "I guess it was kind of time to move on anyway. The pay was not great and there "
        "was a lot of unpaid overtime, so when the layoffs came I did not really mind."
    ),
    "Eitan Levi": (
        "It was not my fault at all. Leadership made terrible decisions, blamed the "
        "engineers for every missed deadline, and then cut our whole department to save money."
    ),
}


def no_errors(tg: FakeTelegram) -> None:
    assert tg.errors == [], [(e.method, e.status, e.description) for e in tg.errors]


def make_members(tg: FakeTelegram, group: FakeGroup, first_id: int) -> list[Member]:
    members = []
    for n, (name, answer) in enumerate(ANSWERS.items()):
        first, last = name.split()
        user = tg.user(first_id + n, first, last_name=last, language_code="en")
        group.set_status(user, "member")
        members.append(Member(user, answer))
    return members


def make_mentor(tg: FakeTelegram, group: FakeGroup, user_id: int) -> FakeUser:
    mentor = tg.user(user_id, "Maya", last_name="Mentor", language_code="en")
    group.set_status(mentor, "creator")
    return mentor


async def in_group(tg: FakeTelegram, group: FakeGroup, user: FakeUser, command: str,
                   args: str = "") -> list[SentMessage]:
    """A command in the group; returns the bot's new messages in the group."""
    before = len(tg.messages(group))
    user.send_command(command, args, chat=group)
    await settle(tg)
    return tg.messages(group)[before:]


async def start_round(tg: FakeTelegram, group: FakeGroup, mentor: FakeUser,
                      args: str = "laid_off 30m nofollowups") -> tuple[SentMessage, str]:
    """/round start in the group; returns the round's post and its deep link."""
    replies = await in_group(tg, group, mentor, "/round", f"start {args}")
    (post,) = [m for m in replies if m.url_buttons]
    ((_label, link),) = post.url_buttons
    assert not post.buttons  # joining is never a callback press in the group
    return post, link


async def join(tg: FakeTelegram, member: Member, link: str) -> None:
    """Follow the post's deep link: the round's question arrives in private."""
    replies = await exchange(tg, member.user, lambda: member.user.open_link(link))
    assert any("You're in the round" in m.plain for m in replies), [m.plain for m in replies]
    assert "Interviewer:" in replies[-1].plain, replies[-1].plain  # the question comes last


async def answer(tg: FakeTelegram, member: Member) -> None:
    """Answer the round's question (no follow-ups); keep the feedback."""
    replies = await exchange(tg, member.user, lambda: member.user.send_text(member.answer))
    (feedback,) = [m for m in replies if "/100" in m.plain]
    member.feedback = feedback
    assert any("counts for the round" in m.plain for m in replies)
    assert any(b[1].endswith(".share") for m in replies for b in m.buttons)


async def share(tg: FakeTelegram, group: FakeGroup, member: Member) -> SentMessage:
    """Press "Share" under the feedback; returns the answer's post in the group."""
    offer = next(m for m in reversed(tg.messages(member.user))
                 if any(d.endswith(".share") for _, d in m.buttons))
    before = len(tg.messages(group))
    replies = await exchange(tg, member.user, lambda: member.user.press(
        offer, next(d for _, d in offer.buttons if d.endswith(".share"))))
    assert any("Shared in the group as answer #" in m.plain for m in replies)
    (post,) = tg.messages(group)[before:]
    return post


async def rate(tg: FakeTelegram, group: FakeGroup, rater: FakeUser, post: SentMessage,
               point: str) -> str:
    """Press a point's button under a shared answer in the group; returns the toast."""
    before = len(tg.messages(group))
    data = next(d for label, d in post.buttons if label == point)
    update = rater.press(post, data)
    await settle(tg)
    assert len(tg.messages(group)) == before  # answered with a toast, never in the group
    toast = tg.callback_answer(update)
    assert toast is not None, f"the press of {rater.first_name} was not answered"
    return str(toast["text"])


def shingles(text: str, size: int = 4) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i:i + size]) for i in range(len(words) - size + 1)}


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def assert_private(group_text: str, members: list[Member], allowed: Member | None = None,
                   ) -> None:
    """No one's name or words in a group message (but the sharer's own, in their post)."""
    flat = words_of(group_text)
    for member in members:
        if member is allowed:
            continue
        for part in member.name.split():
            assert not re.search(rf"\b{part.lower()}\b", flat), (member.name, group_text)
        leaked = [s for s in shingles(member.answer) if s in flat]
        assert not leaked, (member.name, leaked, group_text)


async def test_a_mentor_runs_a_whole_round_in_a_group(tg: FakeTelegram,
                                                      bot: RunningBot) -> None:
    group = tg.group(GROUP_ID, "Interview practice", supergroup=True)
    mentor = make_mentor(tg, group, 700)
    members = make_members(tg, group, 701)
    ann, bao, carla, dev, eitan = members
    await exchange(tg, mentor, lambda: mentor.send_command("/start"))  # reachable in private

    post, link = await start_round(tg, group, mentor)
    round_id = link.rsplit("round_", 1)[1]
    assert link == f"https://t.me/{tg.bot_username}?start=round_{round_id}"
    assert "Mentor: Maya Mentor" in post.plain and "30 minutes" in post.plain
    # who may start it was asked of Telegram, in this group
    assert {(c["chat_id"], c["user_id"]) for c in tg.calls("getChatMember")} == {
        (GROUP_ID, mentor.id)}

    # all at once: five members' joins, then answers, race for the same round
    await asyncio.gather(*(join(tg, member, link) for member in members))
    await asyncio.gather(*(answer(tg, member) for member in members))
    scores = {m.name: int(re.search(r"(\d+)/100", m.feedback.plain).group(1))  # type: ignore
              for m in members}
    assert scores["Ann Okafor"] > scores["Bao Tran"]  # trash talk costs
    assert "red flag" in bao.feedback.plain.lower()  # type: ignore[union-attr]
    # each one's feedback went to their own private chat only
    for member in members:
        others = [m.feedback for m in members if m is not member]
        assert all(f not in tg.messages(member.user) for f in others)

    first = await share(tg, group, ann)
    second = await share(tg, group, carla)
    assert first.plain.startswith("Answer #1, shared by Ann Okafor")
    assert second.plain.startswith("Answer #2, shared by Carla Reyes")
    assert [label for label, _ in first.buttons] == [
        "Positive", "Specific", "Owns the story", "Looks forward", "Concise"]

    assert (await rate(tg, group, bao.user, first, "Positive")).startswith("Counted: Positive")
    assert (await rate(tg, group, dev.user, first, "Specific")).startswith("Counted: Specific")
    assert (await rate(tg, group, eitan.user, second, "Concise")).startswith("Counted: Concise")
    assert (await rate(tg, group, ann.user, second, "Owns the story")).startswith("Counted")
    assert "your own answer" in await rate(tg, group, ann.user, first, "Positive")
    assert "already given answer #1" in await rate(tg, group, bao.user, first, "Positive")
    assert all(len(t) <= 200 for m in members for t in tg.toasts(m.user))
    # the keyboards stay for everyone else: nothing in the group was edited
    assert not first.history and len(first.buttons) == 5 and len(second.buttons) == 5
    # each press was answered exactly once, by its toast (no early empty answer)
    group_queries = [c for c in tg.calls("answerCallbackQuery") if c.get("text")]
    assert len(group_queries) == 6
    assert len({c["callback_query_id"] for c in group_queries}) == 6

    comment = "Clear business reason, and the numbers make it credible."
    replies = await in_group(tg, group, eitan.user, "/round", f"comment 1 {comment}")
    assert [m.plain for m in replies] == [
        "Your comment on answer #1 is passed on to its author, without your name."]
    # the author hears the totals and the comment, in private, without who gave them
    peer = [m.plain for m in tg.messages(ann.user) if "Peer feedback" in m.plain]
    assert len(peer) == 3 and comment in peer[-1] and "Eitan" not in peer[-1]
    assert "Positive: 1" in peer[-1] and "Specific: 1" in peer[-1]
    assert any("Peer feedback on your shared answer #2" in m.plain
               for m in tg.messages(carla.user))

    status = await in_group(tg, group, bao.user, "/round", "status")
    assert "5 joined, 5 answered, 2 shared" in status[-1].plain

    mentor_before = len(tg.messages(mentor))
    closing = await in_group(tg, group, mentor, "/round", "end")
    assert closing[0].plain.startswith("The round is closed.")
    (summary,) = [m for m in closing if m.plain.startswith("Practice round results")]
    assert "5 of 5 members answered (the mentor closed the round)" in summary.plain
    assert "2 shared their answer" in summary.plain
    assert "Red flags that came up most" in summary.plain
    await tg.wait_for(lambda t: len(t.messages(mentor)) >= mentor_before + 4)

    # -- the mentor's report, in private: text, CSV, Markdown and the chart
    report = tg.messages(mentor)[mentor_before:]
    texts = [m for m in report if m.kind == "text"]
    files = {m.file.filename: m for m in report if m.file is not None}
    assert set(files) == {f"round-{round_id}.{ext}" for ext in ("csv", "md", "png")}
    assert files[f"round-{round_id}.png"].kind == "photo"
    assert files[f"round-{round_id}.png"].file.data.startswith(b"\x89PNG")  # type: ignore
    report_text = "\n".join(m.plain for m in texts)
    assert "Round report" in report_text
    assert "5 joined · 5 answered" in report_text
    rows = list(csv.DictReader(io.StringIO(
        files[f"round-{round_id}.csv"].file.data.decode())))  # type: ignore[union-attr]
    by_name = {r["name"]: r for r in rows}  # numbered in the order they joined
    assert len(rows) == 5 and set(by_name) == {m.name for m in members}
    assert [r["no"] for r in rows] == ["1", "2", "3", "4", "5"]
    for member in members:
        row = by_name[member.name]
        assert f"{row['no']}. {member.name}: {scores[member.name]}/100" in report_text
        assert row["user_key"] == f"{PLATFORM}:{member.user.id}"
        assert (row["status"], row["answer"]) == ("answered", member.answer)
        assert int(row["score"]) == scores[member.name]
    assert {n for n, r in by_name.items() if r["shared"] == "yes"} == {ann.name, carla.name}
    ann_row = by_name[ann.name]
    assert (ann_row["peer_positive"], ann_row["peer_specific"], ann_row["comments"]) == (
        "1", "1", "1")
    markdown = files[f"round-{round_id}.md"].file.data.decode()  # type: ignore[union-attr]
    for member in members:
        assert member.name in markdown
        assert words_of(member.answer) in words_of(markdown)

    # -- the group never learnt who answered what, nor anyone's score
    average = round(sum(scores.values()) / len(scores))
    assert f"Average score: {average}/100" in summary.plain
    group_messages = tg.messages(group)
    for message in group_messages:
        sharer = {first.message_id: ann, second.message_id: carla}.get(message.message_id)
        assert_private(message.plain, members, allowed=sharer)
    all_scores = [s for m in group_messages for s in re.findall(r"\d+/100", m.plain)]
    assert all_scores == [f"{average}/100"]
    for toast in (t for m in members for t in tg.toasts(m.user)):
        assert_private(toast, members)
    no_errors(tg)


async def open_round_of(bot: RunningBot, group: FakeGroup) -> RoundRecord | None:
    store: Store = bot.adapters[0].core.store
    return await store.open_round(f"{PLATFORM}:{group.id}:")


async def test_only_group_admins_start_and_end_rounds(tg: FakeTelegram,
                                                      bot: RunningBot) -> None:
    group = tg.group(GROUP_ID - 1, "Peers")
    mentor = make_mentor(tg, group, 800)
    admin = tg.user(801, "Ada", last_name="Admin")
    group.set_status(admin, "administrator")
    bao = tg.user(802, "Bao", last_name="Tran")
    group.set_status(bao, "member")
    await exchange(tg, mentor, lambda: mentor.send_command("/start"))

    replies = await in_group(tg, group, bao, "/round", "start 1h laid_off")
    assert [m.plain for m in replies] == [
        "Only the group's admins (or, on a server, members with the mentor role or Manage "
        "Server) can start or end a practice round. Ask one of them to run it."]
    assert not any(m.url_buttons for m in tg.messages(group))
    assert await open_round_of(bot, group) is None
    replies = await in_group(tg, group, bao, "/round", "end")
    assert replies[-1].plain.startswith("No practice round is running here.")

    await start_round(tg, group, mentor, "1h each")
    opened = await open_round_of(bot, group)
    assert opened is not None and opened.is_open

    replies = await in_group(tg, group, bao, "/round", "end")
    assert [m.plain for m in replies] == [
        "Only the mentor who started this round or a group admin can end it early. It "
        "closes on its own at the deadline."]
    still = await open_round_of(bot, group)
    assert still is not None and still.round_id == opened.round_id
    assert not any("results" in m.plain for m in tg.messages(group))
    # one round at a time in a group, whoever asks
    for who in (bao, mentor):
        replies = await in_group(tg, group, who, "/round", "start 2h")
        assert [m.plain[:41] for m in replies] == ["A practice round is already running here."]
    assert (await open_round_of(bot, group)).round_id == opened.round_id  # type: ignore

    # an administrator who did not start it may end it
    replies = await in_group(tg, group, admin, "/round", "end")
    assert replies[0].plain.startswith("The round is closed.")
    assert any(m.plain.startswith("Practice round results") for m in replies)
    assert await open_round_of(bot, group) is None
    # a link to a round that does not exist gets an answer, in private
    replies = await exchange(tg, bao, lambda: bao.open_link(
        f"https://t.me/{tg.bot_username}?start=round_0123456789ab"))
    assert [m.plain[:34] for m in replies] == ["No practice round is running here."]
    checked = {(c["chat_id"], c["user_id"]) for c in tg.calls("getChatMember")}
    assert checked == {(group.id, u.id) for u in (mentor, admin, bao)}
    no_errors(tg)


async def test_a_mentor_who_never_started_the_bot_is_warned(tg: FakeTelegram,
                                                            bot: RunningBot) -> None:
    group = tg.group(GROUP_ID - 4, "Newcomers")
    mentor = make_mentor(tg, group, 1100)
    ann = make_members(tg, group, 1101)[0]
    unreachable = "I can't message you privately yet, so your report at the end would"

    async def run_round() -> None:
        replies = await in_group(tg, group, mentor, "/round", "start 1h laid_off nofollowups")
        (post,) = [m for m in replies if m.url_buttons]
        (warning,) = [m for m in replies if m is not post]
        assert warning.plain.startswith(unreachable)  # in the group: nowhere else yet
        await join(tg, ann, post.url_buttons[0][1])
        await answer(tg, ann)

    # never started: the report is refused by Telegram (403) and dropped, not retried
    await run_round()
    closing = await in_group(tg, group, mentor, "/round", "end")
    assert any(m.plain.startswith("Practice round results") for m in closing)
    refused = [e for e in tg.errors if e.params.get("chat_id") == mentor.id]
    assert refused and {e.status for e in refused} == {403}
    assert tg.errors == refused
    assert await bot.adapters[0].core.store.pending_outbox() == []
    assert tg.messages(mentor) == []

    # warned again; this time the mentor starts the bot before the end: the report arrives
    await run_round()
    await exchange(tg, mentor, lambda: mentor.send_command("/start"))
    await in_group(tg, group, mentor, "/round", "end")
    report = await tg.wait_for(lambda t: [m for m in t.messages(mentor)
                                          if m.file or "Round report" in m.plain], 5)
    await tg.wait_for(lambda t: len([m for m in t.messages(mentor) if m.file]) == 3, 5)
    assert ann.name in report[0].plain
    assert tg.errors == refused

    # once a private chat exists, a new round opens without the warning
    replies = await in_group(tg, group, mentor, "/round", "start 1h")
    assert len(replies) == 1 and replies[0].url_buttons


async def move_deadline(store: Store, round_id: str, closes_at: float) -> None:
    """Bring a round's deadline closer, as if its window had been that short: the state's
    closes_at and the row's deadline, which the core's timer reads."""
    record = await store.load_round(round_id)
    assert record is not None and record.is_open
    state = {**record.state, "closes_at": closes_at}
    await store.commit(StepRecord(
        event_id=None, at=time.time(), conversation=None, user=None,
        rounds=(replace(record, state=state, deadline=closes_at),)))


async def test_the_deadline_closes_the_round_by_itself(tg: FakeTelegram,
                                                       bot: RunningBot) -> None:
    group = tg.group(GROUP_ID - 2, "Evening practice")
    mentor = make_mentor(tg, group, 900)
    members = make_members(tg, group, 901)[:4]
    await exchange(tg, mentor, lambda: mentor.send_command("/start"))
    _post, link = await start_round(tg, group, mentor, "10m laid_off nofollowups")
    round_id = link.rsplit("round_", 1)[1]
    for member in members:
        await join(tg, member, link)
    for member in members[:3]:
        await answer(tg, member)
    late = members[3]

    # The shortest window is 10 minutes: rather than wait, the stored deadline is moved
    # to a second from now. A round event (here /round status) tells the timer, which
    # then wakes at the new deadline on its own.
    core = bot.adapters[0].core
    await move_deadline(core.store, round_id, time.time() + 1.0)
    mentor_before = len(tg.messages(mentor))
    status = await in_group(tg, group, mentor, "/round", "status")
    assert "4 joined, 3 answered, 0 shared" in status[-1].plain
    summary = await tg.wait_for(lambda t: next(
        (m for m in t.messages(group) if m.plain.startswith("Practice round results")), None), 5)
    assert "3 of 4 members answered." in summary.plain
    assert "the mentor closed" not in summary.plain
    await tg.wait_for(lambda t: len(t.messages(mentor)) >= mentor_before + 4, 5)
    report = tg.messages(mentor)[mentor_before:]
    report_text = "\n".join(m.plain for m in report if m.kind == "text")
    assert f"4. {late.name}: joined, no answer" in report_text
    assert "(ended early)" not in report_text
    assert {m.file.filename for m in report if m.file} == {
        f"round-{round_id}.{ext}" for ext in ("csv", "md", "png")}
    assert await open_round_of(bot, group) is None
    for message in tg.messages(group):
        assert_private(message.plain, members)

    # an answer after the close still gets its feedback, marked late for the mentor
    replies = await exchange(tg, late.user, lambda: late.user.send_text(late.answer))
    assert any("/100" in m.plain for m in replies)
    assert any("closed before your answer came in" in m.plain for m in replies)
    note = await tg.wait_for(lambda t: next(
        (m for m in t.messages(mentor) if "late answer arrived" in m.plain), None), 5)
    assert late.name in note.plain
    assert len([m for m in tg.messages(group) if "results" in m.plain]) == 1
    no_errors(tg)


# -- a real process, killed mid-round ----------------------------------------------------


async def until(tg: FakeTelegram, chat: FakeUser | FakeGroup,
                done: Callable[[list[SentMessage]], object], since: int = 0) -> None:
    await tg.wait_for(lambda t: done(t.messages(chat)[since:]), 15)


def asked(messages: list[SentMessage]) -> bool:
    return bool(messages) and "Interviewer:" in messages[-1].plain


def finished(messages: list[SentMessage]) -> bool:
    """Feedback with the "what next" buttons, then the round's note that the answer counts."""
    return len(messages) > 1 and messages[-2].plain.endswith("What next?") and (
        "counts for the round" in messages[-1].plain or "round closed" in messages[-1].plain)


def texts(tg: FakeTelegram, chat: FakeUser | FakeGroup) -> list[str]:
    return [m.plain for m in tg.messages(chat)]


async def test_kill_9_mid_round_loses_and_doubles_nothing(tmp_path: Path) -> None:
    database = tmp_path / "round.db"
    async with FakeTelegram(token=TOKEN) as tg:
        group = tg.group(GROUP_ID - 3, "Night shift")
        mentor = make_mentor(tg, group, 1000)
        members = make_members(tg, group, 1001)
        process = await spawn(tg, database)
        try:
            mentor.send_command("/start")
            await until(tg, mentor, bool)
            mentor.send_command("/round", "start laid_off 2h nofollowups", chat=group)
            await until(tg, group, lambda ms: any(m.url_buttons for m in ms))
            link = tg.messages(group)[0].url_buttons[0][1]
            for member in members[:4]:
                member.user.open_link(link)
                await until(tg, member.user, asked)
            for member in members[:2]:
                member.user.send_text(member.answer)
                await until(tg, member.user, finished)

            # Carla's answer is committed, and the first of its replies is on its way
            # when the process dies: none of them has reached Telegram.
            carla = members[2]
            tg.delay_next("sendMessage", 30)
            sent = len(tg.requests)
            carla.user.send_text(carla.answer)
            in_flight = await tg.wait_for(lambda t: next((
                r for r in t.requests[sent:]
                if r.method == "sendMessage" and r.params.get("chat_id") == carla.user.id
            ), None), 10)
            process.kill()
            await process.wait()
            await tg.wait_for(lambda t: in_flight.status == 499, 5)  # it never arrived
            assert not any("/100" in text for text in texts(tg, carla.user))

            process = await spawn(tg, database)
            await until(tg, carla.user, finished)
            for member in members[3:]:  # Dev joined before the kill; Eitan joins now
                if member.name == "Eitan Levi":
                    member.user.open_link(link)
                    await until(tg, member.user, asked)
                member.user.send_text(member.answer)
                await until(tg, member.user, finished)
            before = len(tg.messages(mentor))
            mentor.send_command("/round", "end", chat=group)
            await until(tg, mentor, lambda ms: len(ms) >= 4, since=before)
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.communicate(), 20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

        for member in members:  # each one asked once, answered once, told once
            mine = texts(tg, member.user)
            assert sum("Interviewer:" in t for t in mine) == 1, mine
            assert sum("/100" in t for t in mine) == 1, mine
            assert sum("counts for the round" in t for t in mine) == 1, mine
        in_the_group = texts(tg, group)
        assert sum(t.startswith("Practice round: why") for t in in_the_group) == 1
        (summary,) = [t for t in in_the_group if t.startswith("Practice round results")]
        assert "5 of 5 members answered" in summary
        report = tg.messages(mentor)[before:]
        assert len([m for m in report if m.file]) == 3
        csv_file = next(m.file for m in report if m.file and m.file.filename.endswith(".csv"))
        rows = list(csv.DictReader(io.StringIO(csv_file.data.decode())))
        assert [r["name"] for r in rows] == [m.name for m in members]
        assert [r["status"] for r in rows] == ["answered"] * 5
        assert [r["answer"] for r in rows] == [m.answer for m in members]
    with sqlite3.connect(database) as conn:
        stored = [text for (text,) in conn.execute("SELECT text FROM turns")]
    assert all(stored.count(m.answer) == 1 for m in members)
