"""Mentor rounds through the core over real stores: routing, one transaction per event,
deadlines after a restart, and nobody else's replies in the wrong chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leavewell.bot.core import Core
from leavewell.bot.incoming import Actor, ConversationRef, Incoming
from leavewell.dialogs.engine import DialogSettings, Interviewer
from leavewell.dialogs.events import ChoicePressed, Command, TextAnswer
from leavewell.dialogs.rounds.commands import join_choice
from leavewell.storage import open_store
from leavewell.storage.base import Store
from tests.bot.test_core import Recorder

T0 = 1_800_000_000.0
ANSWERS = [
    "The company closed our office after losing its main client, so my whole team was let "
    "go. I led the migration of our reports to Python and cut the monthly close by 3 days. "
    "My manager is a reference, and I want to grow into data engineering here.",
    "My boss was terrible and the company was a mess. They cut us all without warning.",
    "I was laid off in a restructuring. I built dashboards used by 40 people, and I want "
    "to keep growing as an analyst in a team like yours.",
]
GROUP = "-100500"


def group_ref(user: int) -> ConversationRef:
    return ConversationRef("test", GROUP, str(user))


def private_ref(user: int) -> ConversationRef:
    return ConversationRef("test", str(user), str(user))


def in_group(user: int, *, admin: bool = False, name: str = "") -> Actor:
    return Actor(name=name or f"Member{user}", privileged=admin, in_group=True,
                 reach=private_ref(user).address())


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'lw.db'}"
    opened = await open_store(url)
    yield opened
    await opened.close()


def make_core(store: Store, recorder: Recorder) -> Core:
    core = Core(store, Interviewer(settings=DialogSettings(idle_timeout=3600)))
    core.register_sender("test", recorder)
    return core


class Round:
    """Drives one group's round through a core; event ids are unique per action."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.n = 0

    def next_id(self) -> str:
        self.n += 1
        return f"ev{self.n}"

    async def group_command(self, user: int, args: str, *, admin: bool = False) -> None:
        await self.core.handle(Incoming(
            group_ref(user), Command(at=T0 + self.n, name="round", args=args),
            self.next_id(), actor=in_group(user, admin=admin)))

    async def private(self, user: int, event: Command | TextAnswer | ChoicePressed) -> None:
        await self.core.handle(Incoming(private_ref(user), event, self.next_id(),
                                        actor=Actor(name=f"Member{user}")))


def round_id_from(recorder: Recorder) -> str:
    post = next(i for i in recorder.sent if i.payload["template"] == "round_opened")
    join = next(c["id"] for c in post.payload["choices"] if c["id"].endswith(".join"))
    return join.split(".")[1]


async def test_a_round_from_start_to_report(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    rnd = Round(core)
    group_key = f"test:{GROUP}::"

    await rnd.group_command(7, "start laid_off 30m nofollowups")  # not an admin
    assert recorder.templates() == ["round_not_allowed"]
    assert await store.open_round(f"test:{GROUP}:") is None

    await rnd.group_command(1, "start laid_off 30m nofollowups", admin=True)
    round_id = round_id_from(recorder)
    assert recorder.templates(group_key)[-1] == "round_opened"

    for user, answer in zip((11, 12, 13), ANSWERS, strict=True):
        await rnd.private(user, ChoicePressed(at=T0 + 10, choice=join_choice(round_id)))
        asked = recorder.templates(private_ref(user).key)
        assert "round_joined" in asked and asked[-1] == "main_question"
        await rnd.private(user, TextAnswer(at=T0 + 20, text=answer))
        after = recorder.templates(private_ref(user).key)
        assert "feedback" in after and "share_offer" in after  # no follow-ups in this round

    stored = await store.load_round(round_id)
    assert stored is not None and len(stored.state["members"]) == 3
    assert all(m["attempt"] for m in stored.state["members"].values())

    await rnd.private(11, ChoicePressed(at=T0 + 30, choice=f"round.{round_id}.share"))
    shared = [i for i in recorder.sent if i.conversation_key == group_key
              and i.payload["template"] == "round_shared"]
    assert len(shared) == 1
    rate = next(c["id"] for c in shared[0].payload["choices"] if ".rate." in c["id"])
    await core.handle(Incoming(group_ref(12), ChoicePressed(at=T0 + 40, choice=rate),
                               rnd.next_id(), actor=in_group(12), reply_via="callback:q1"))
    acks = [i for i in recorder.sent if i.conversation_key == group_ref(12).key]
    assert [a.payload["template"] for a in acks] == ["round_rating_counted"]
    assert acks[0].address["reply_via"] == "callback:q1"  # answered in place, not posted
    assert "round_peer_feedback" in recorder.templates(private_ref(11).key)

    await rnd.group_command(13, "end")  # a member cannot end it
    assert recorder.templates(group_ref(13).key)[-1] == "round_end_not_allowed"
    await rnd.group_command(1, "end", admin=True)
    assert recorder.templates(group_key)[-1] == "round_summary"
    report = next(i for i in recorder.sent if i.payload["template"] == "round_report")
    assert report.conversation_key == private_ref(1).key
    assert set(report.payload["attachments"]) >= {"round_csv", "round_md", "round_chart"}
    assert await store.open_round(f"test:{GROUP}:") is None
    assert not await store.pending_outbox(100)


async def test_the_deadline_closes_the_round_after_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lw.db'}"
    store = await open_store(url)
    recorder = Recorder()
    core = make_core(store, recorder)
    rnd = Round(core)
    await rnd.group_command(1, "start 10m each", admin=True)
    round_id = round_id_from(recorder)
    await rnd.private(11, ChoicePressed(at=T0 + 5, choice=join_choice(round_id)))
    assert recorder.templates(private_ref(11).key)[-1] == "ask_situation"  # picks their own
    await store.close()

    store = await open_store(url)  # a restart: nothing but the database survives
    recorder = Recorder()
    core = make_core(store, recorder)
    await core.recover()
    assert await store.next_deadline() is not None
    assert await core.fire_due(now=T0 + 5 * 60) == 0  # not yet
    await core.fire_due(now=T0 + 11 * 60)
    assert "round_summary" in recorder.templates(f"test:{GROUP}::")
    assert "round_report" in recorder.templates(private_ref(1).key)
    closed = await store.load_round(round_id)
    assert closed is not None and not closed.is_open and closed.deadline is None
    # a second timer pass finds nothing to do
    await core.fire_due(now=T0 + 12 * 60)
    assert recorder.templates(f"test:{GROUP}::").count("round_summary") == 1
    await store.close()


async def test_round_command_in_private_explains_where_rounds_run(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    await core.handle(Incoming(private_ref(5), Command(at=T0, name="round", args="start"),
                               "e1", actor=Actor(name="Solo")))
    assert recorder.templates() == ["round_in_groups_only"]


async def test_a_replayed_round_event_changes_nothing(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    incoming = Incoming(group_ref(1), Command(at=T0, name="round", args="start 1h"), "same",
                        actor=in_group(1, admin=True))
    assert await core.handle(incoming) is not None
    assert await core.handle(incoming) is None
    assert recorder.templates(f"test:{GROUP}::").count("round_opened") == 1


async def test_forget_removes_a_member_from_the_rounds_they_joined(store: Store) -> None:
    import json

    recorder = Recorder()
    core = make_core(store, recorder)
    rnd = Round(core)
    await rnd.group_command(1, "start laid_off 1h nofollowups", admin=True)
    round_id = round_id_from(recorder)
    for user, answer in ((11, ANSWERS[0]), (12, ANSWERS[1])):
        await rnd.private(user, ChoicePressed(at=T0 + 10, choice=join_choice(round_id)))
        await rnd.private(user, TextAnswer(at=T0 + 20, text=answer))
    await rnd.private(11, ChoicePressed(at=T0 + 30, choice=f"round.{round_id}.share"))
    rate = f"round.{round_id}.rate.1.specific"
    await core.handle(Incoming(group_ref(12), ChoicePressed(at=T0 + 40, choice=rate),
                               rnd.next_id(), actor=in_group(12)))

    await rnd.private(11, Command(at=T0 + 50, name="forget"))
    await rnd.private(11, ChoicePressed(at=T0 + 51, choice="forget.yes"))
    stored = await store.load_round(round_id)
    assert stored is not None
    dumped = json.dumps(stored.state, ensure_ascii=False)
    assert "test:11" not in dumped and "Member11" not in dumped
    assert ANSWERS[0][:40] not in dumped
    assert stored.state["shared"][0]["withdrawn"] is True  # number 1 stays taken

    await core.handle(Incoming(group_ref(13), ChoicePressed(at=T0 + 60, choice=rate),
                               rnd.next_id(), actor=in_group(13)))
    assert recorder.templates(group_ref(13).key)[-1] == "round_no_such_answer"
    await rnd.group_command(1, "end", admin=True)
    report = next(i for i in recorder.sent if i.payload["template"] == "round_report")
    assert "Member11" not in json.dumps(report.payload, ensure_ascii=False)
    assert "Member12" in json.dumps(report.payload, ensure_ascii=False)


async def test_a_private_practice_after_stop_does_not_count_for_the_round(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    rnd = Round(core)
    await rnd.group_command(1, "start laid_off 1h nofollowups", admin=True)
    round_id = round_id_from(recorder)
    await rnd.private(11, ChoicePressed(at=T0 + 10, choice=join_choice(round_id)))
    await rnd.private(11, Command(at=T0 + 11, name="stop"))
    await rnd.private(11, Command(at=T0 + 12, name="practice", args="quit"))
    await rnd.private(11, TextAnswer(at=T0 + 13, text=ANSWERS[1]))
    stored = await store.load_round(round_id)
    assert stored is not None and stored.state["members"]["test:11"]["attempt"] is None
    # Join again: the round's question, and this answer counts
    await rnd.private(11, ChoicePressed(at=T0 + 20, choice=join_choice(round_id)))
    assert recorder.templates(private_ref(11).key)[-1] == "main_question"
    await rnd.private(11, TextAnswer(at=T0 + 21, text=ANSWERS[0]))
    stored = await store.load_round(round_id)
    assert stored is not None
    assert stored.state["members"]["test:11"]["attempt"]["situation"] == "laid_off"


async def test_a_mentor_who_forgets_leaves_no_trace_and_gets_no_report(store: Store) -> None:
    import json

    recorder = Recorder()
    core = make_core(store, recorder)
    rnd = Round(core)
    await core.handle(Incoming(group_ref(1), Command(at=T0, name="round",
                                                     args="start laid_off 1h"),
                               rnd.next_id(), actor=in_group(1, admin=True, name="Mia Mentor")))
    round_id = round_id_from(recorder)
    await rnd.private(1, Command(at=T0 + 5, name="forget"))
    await rnd.private(1, ChoicePressed(at=T0 + 6, choice="forget.yes"))
    stored = await store.load_round(round_id)
    assert stored is not None and "Mia Mentor" not in json.dumps(stored.state)
    await rnd.group_command(2, "end", admin=True)  # another admin closes it
    assert "round_summary" in recorder.templates(f"test:{GROUP}::")
    assert "round_report" not in recorder.templates()


async def test_a_mentor_sets_the_skeptic_and_the_round_gets_whole_exchange_scores(
        store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    rnd = Round(core)
    await rnd.group_command(1, "start laid_off 30m skeptical", admin=True)
    round_id = round_id_from(recorder)
    post = next(i for i in recorder.sent if i.payload["template"] == "round_opened")
    assert post.payload["params"]["mode"] == "skeptical"
    await rnd.private(11, ChoicePressed(at=T0 + 10, choice=join_choice(round_id)))
    await rnd.private(11, TextAnswer(at=T0 + 20, text=ANSWERS[0]))
    followups = 0
    while "feedback" not in recorder.templates(private_ref(11).key):
        followups += 1
        await rnd.private(11, TextAnswer(at=T0 + 20 + followups,
                                         text="Honestly my old boss was an idiot."))
    assert followups == 3  # the skeptic asks up to three
    feedback = next(i for i in recorder.sent if i.payload["template"] == "feedback")
    assert feedback.payload["params"]["mode"] == "skeptical"
    stored = await store.load_round(round_id)
    assert stored is not None
    attempt = stored.state["members"]["test:11"]["attempt"]
    assert attempt["score"] == feedback.payload["params"]["score"]  # the whole exchange
    assert attempt["verdict"] == "red_flag" and "trash_talk" in attempt["red_flags"]
