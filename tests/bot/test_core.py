"""The async core over real stores: order, idempotency, outbox, deadlines, forget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from leavewell.bot.core import ACTIVE_EVENTS, Core
from leavewell.bot.incoming import Actor, ConversationRef, Incoming
from leavewell.dialogs.engine import DialogSettings, Interviewer
from leavewell.dialogs.events import ChoicePressed, Command, Start, TextAnswer
from leavewell.dialogs.outgoing import Outgoing
from leavewell.dialogs.rounds.commands import join_choice
from leavewell.storage import open_store
from leavewell.storage.base import OutboxItem, Store

ANSWER = (
    "Our department was cut when the company lost its largest client. Before that I led "
    "the move of our reports to Python and saved the team 10 hours a week. My manager is "
    "one of my references, and I want to grow into data engineering in this role."
)


class Recorder:
    """A platform sender that records what it was asked to send."""

    def __init__(self, fail_times: int = 0, delay: float = 0.0) -> None:
        self.sent: list[OutboxItem] = []
        self.fail_times = fail_times
        self.delay = delay

    async def send(self, item: OutboxItem) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("platform unavailable")
        self.sent.append(item)

    def templates(self, conversation_key: str | None = None) -> list[str]:
        return [i.payload["template"] for i in self.sent
                if conversation_key is None or i.conversation_key == conversation_key]


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'lw.db'}"
    opened = await open_store(url)
    yield opened
    await opened.close()


def make_core(store: Store, recorder: Recorder, **kwargs) -> Core:
    core = Core(store, Interviewer(settings=DialogSettings(idle_timeout=600)), **kwargs)
    core.register_sender("test", recorder)
    return core


def ref(n: int = 1) -> ConversationRef:
    return ConversationRef("test", f"chat{n}", f"user{n}")


async def play_until_answer(core: Core, r: ConversationRef, t0: float = 1000.0) -> None:
    await core.handle(Incoming(r, Start(at=t0, lang_hint="en"), f"{r.key}:1"))
    await core.handle(Incoming(r, TextAnswer(at=t0 + 1, text="skip"), f"{r.key}:2"))
    await core.handle(Incoming(r, TextAnswer(at=t0 + 2, text="Acme"), f"{r.key}:3"))
    await core.handle(Incoming(r, TextAnswer(at=t0 + 3, text="2"), f"{r.key}:4"))


async def test_a_whole_interview_is_delivered_and_stored(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    r = ref()
    await play_until_answer(core, r)
    await core.handle(Incoming(r, TextAnswer(at=1010, text=ANSWER), "u5"))
    n = 6
    while True:
        _, conv = await store.load(r.key, r.user_key)
        assert conv is not None
        if conv.state["stage"] != "answer_followup":
            break
        await core.handle(Incoming(r, TextAnswer(at=1010 + n, text="I stayed in touch."),
                                   f"u{n}"))
        n += 1
    assert "feedback" in recorder.templates()
    assert await store.pending_outbox() == []
    turns = await store.turns(r.key)
    assert [t.kind for t in turns][:2] == ["start", "text"]
    answered = [t for t in turns if t.analysis]
    assert answered[0].text == ANSWER and answered[0].analysis["score"] >= 0


async def test_redelivered_event_changes_nothing_twice(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    r = ref()
    await play_until_answer(core, r)
    event = Incoming(r, TextAnswer(at=1010, text=ANSWER), "same-update")
    first = await core.handle(event)
    sent_before = len(recorder.sent)
    again = await core.handle(event)
    assert first and again is None
    assert len(recorder.sent) == sent_before
    assert sum(1 for t in await store.turns(r.key) if t.text == ANSWER) == 1


async def test_events_of_one_conversation_keep_their_order(store: Store) -> None:
    recorder = Recorder(delay=0.001)
    core = make_core(store, recorder)
    r = ref()
    await play_until_answer(core, r)
    texts = [f"/help {i}" for i in range(30)]
    await asyncio.gather(*(
        core.handle(Incoming(r, Command(at=2000 + i, name="help", args=str(i)), f"h{i}"))
        for i in range(len(texts))
    ))
    commands = [t.text for t in await store.turns(r.key) if t.kind == "command"]
    assert commands == texts


async def test_a_slow_conversation_does_not_block_others(store: Store) -> None:
    class Selective(Recorder):
        async def send(self, item: OutboxItem) -> None:
            if item.conversation_key == ref(1).key:
                await asyncio.sleep(0.5)
            await super().send(item)

    recorder = Selective()
    core = make_core(store, recorder)
    slow = asyncio.create_task(core.handle(Incoming(ref(1), Start(at=1, lang_hint="en"))))
    await asyncio.sleep(0.01)
    await asyncio.wait_for(core.handle(Incoming(ref(2), Start(at=1, lang_hint="en"))), 0.3)
    assert recorder.templates(ref(2).key)
    await slow


async def test_unsent_replies_are_finished_after_a_crash(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = await open_store(url)
    failing = Recorder(fail_times=100)
    core = make_core(store, failing)
    r = ref()
    await core.handle(Incoming(r, Start(at=1, lang_hint="en"), "e1"))
    pending = await store.pending_outbox()
    assert [i.payload["template"] for i in pending] == ["welcome", "ask_role"]
    await store.close()

    store = await open_store(url)  # the "restarted process"
    recorder = Recorder()
    core = make_core(store, recorder)
    await core.recover()
    assert await core.sweep() == 1  # one conversation had replies left unsent
    assert recorder.templates() == ["welcome", "ask_role"]
    assert await store.pending_outbox() == []
    # the re-delivered update after restart is recognised
    assert await core.handle(Incoming(r, Start(at=1, lang_hint="en"), "e1")) is None
    await store.close()


async def test_deadline_survives_restart_and_fires_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'timer.db'}"
    store = await open_store(url)
    core = make_core(store, Recorder())
    r = ref()
    await play_until_answer(core, r)
    deadline = await store.next_deadline()
    assert deadline == 1003 + 600
    await store.close()

    store = await open_store(url)
    recorder = Recorder()
    core = make_core(store, recorder)
    assert await core.fire_due(now=deadline - 1) == 0
    assert await core.fire_due(now=deadline + 1) == 1
    assert recorder.templates() == ["timeout"]
    assert await core.fire_due(now=deadline + 2) == 0
    assert await store.next_deadline() is None
    await store.close()


async def test_run_timers_fires_by_itself() -> None:
    store = await open_store("memory://")
    now = [1000.0]
    recorder = Recorder()
    core = Core(store, Interviewer(settings=DialogSettings(idle_timeout=0.2)),
                clock=lambda: now[0])
    core.register_sender("test", recorder)
    stop = asyncio.Event()
    timers = asyncio.create_task(core.run_timers(stop, poll=0.05))
    await play_until_answer(core, ref(), t0=1000.0)
    now[0] = 1010.0
    for _ in range(100):
        if "timeout" in recorder.templates():
            break
        await asyncio.sleep(0.02)
    stop.set()
    await timers
    assert "timeout" in recorder.templates()
    await store.close()


async def test_forget_deletes_the_user_and_replies(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    r, other = ref(1), ref(2)
    await play_until_answer(core, r)
    await play_until_answer(core, other)
    await core.handle(Incoming(r, Command(at=2000, name="forget"), "f1"))
    await core.handle(Incoming(r, ChoicePressed(at=2001, choice="forget.yes"), "f2"))
    assert recorder.templates(r.key)[-1] == "forgotten"
    exported = await store.export_user(r.user_key)
    assert not exported.get("turns") and not exported.get("conversations")
    user, conv = await store.load(r.key, r.user_key)
    assert user is None and conv is None
    assert (await store.export_user(other.user_key))["turns"]
    # the next message starts afresh
    await core.handle(Incoming(r, Start(at=2002), "f3"))
    assert recorder.templates(r.key)[-1] == "ask_lang"


async def test_memory_stays_bounded_with_many_conversations(store: Store) -> None:
    core = make_core(store, Recorder(), cache_size=10)
    await asyncio.gather(*(
        core.handle(Incoming(ref(n), Start(at=1, lang_hint="en"), f"s{n}")) for n in range(60)
    ))
    assert len(core._states) <= 10 and len(core._profiles) <= 10
    assert len(store._locks) == 0  # type: ignore[attr-defined]  # none left behind
    # evicted conversations load from storage and carry on
    await core.handle(Incoming(ref(0), TextAnswer(at=2, text="skip"), "s0b"))
    _, conv = await store.load(ref(0).key, ref(0).user_key)
    assert conv is not None and conv.state["stage"] == "ask_company"


async def test_export_contains_the_answers(store: Store) -> None:
    core = make_core(store, Recorder())
    r = ref()
    await play_until_answer(core, r)
    await core.handle(Incoming(r, TextAnswer(at=1010, text=ANSWER), "x"))
    exported = await store.export_user(r.user_key)
    assert exported["user"]["lang"] == "en" or exported["user"].get("profile", {}).get("lang")
    assert any(t["text"] == ANSWER for t in exported["turns"])


def test_outgoing_round_trips_through_the_outbox_payload() -> None:
    o = Outgoing("feedback", "zh", {"score": 5, "nested": [{"a": "<b>"}]})
    assert Outgoing.from_dict(o.to_dict()) == o


async def test_a_failed_reply_is_sent_before_the_next_events_replies(store: Store) -> None:
    """Regression: a reply that failed once must not be overtaken by later replies."""
    recorder = Recorder()
    core = make_core(store, recorder)
    r = ref()
    await core.handle(Incoming(r, Start(at=1, lang_hint="en"), "o1"))
    recorder.fail_times = 1
    await core.handle(Incoming(r, Command(at=2, name="help"), "o2"))  # help: not sent
    await core.handle(Incoming(r, Command(at=3, name="history"), "o3"))
    assert recorder.templates(r.key)[-2:] == ["help", "history"]
    assert await store.pending_outbox() == []


async def test_the_sweep_never_sends_a_reply_twice(store: Store) -> None:
    recorder = Recorder(delay=0.002)
    core = make_core(store, recorder)
    stuck = ref(1)
    recorder.fail_times = 1
    await core.handle(Incoming(stuck, Start(at=1, lang_hint="en"), "s1"))
    busy = [core.handle(Incoming(ref(n), Start(at=1, lang_hint="en"), f"b{n}"))
            for n in range(2, 12)]
    await asyncio.gather(core.sweep(), *busy, core.sweep())
    ids = [i.id for i in recorder.sent]
    assert len(ids) == len(set(ids))
    assert recorder.templates(stuck.key) == ["welcome", "ask_role"]


async def test_one_broken_conversation_does_not_stop_other_timeouts(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    good, bad = ref(1), ref(2)
    await play_until_answer(core, good)
    await play_until_answer(core, bad)
    original = core.interviewer.step

    def step(profile, state, event):  # type: ignore[no-untyped-def]
        if state and state.get("stage") and profile is core._profiles.get(bad.user_key):
            raise RuntimeError("corrupt state")
        return original(profile, state, event)

    core.interviewer.step = step  # type: ignore[method-assign]
    assert await core.fire_due(now=10**6) == 1
    assert "timeout" in recorder.templates(good.key)


# -- mentor rounds: regressions ----------------------------------------------------------


def in_group(user: int, event: Command | ChoicePressed, event_id: str, *,
             admin: bool = False) -> Incoming:
    r = ConversationRef("test", "group1", f"user{user}")
    actor = Actor(name=f"User {user}", privileged=admin, in_group=True,
                  reach={"platform": "test", "chat_id": f"dm{user}", "user_id": f"user{user}",
                         "thread_id": ""})
    return Incoming(r, event, event_id, actor=actor)


async def test_round_command_without_a_round_is_answered_not_crashed(store: Store) -> None:
    """/round end (or status, comment) with no round in the group used to store a round
    with an empty id, which SQLite refused: the update failed and got no answer."""
    recorder = Recorder()
    core = make_core(store, recorder)
    for n, args in enumerate(("end", "status", "comment 1 nice")):
        items = await core.handle(in_group(2, Command(at=1000 + n, name="round", args=args),
                                           f"g{n}"))
        assert [i.payload["template"] for i in items or ()] == ["round_none"]
    refused = await core.handle(in_group(2, Command(at=1010, name="round", args="start 1h"),
                                         "g9"))
    assert [i.payload["template"] for i in refused or ()] == ["round_not_allowed"]
    assert await store.open_round("test:group1:") is None


async def test_a_second_round_start_reaches_the_running_round(store: Store) -> None:
    """Each /round start used to open a new round, so a second one in the same group left
    the first unreachable (no /round end, no status) until its deadline."""
    recorder = Recorder()
    core = make_core(store, recorder)
    await core.handle(in_group(1, Command(at=1000, name="round", args="start 1h"), "s1",
                               admin=True))
    first = await store.open_round("test:group1:")
    assert first is not None
    items = await core.handle(in_group(1, Command(at=1010, name="round", args="start 2h"),
                                       "s2", admin=True))
    assert [i.payload["template"] for i in items or ()] == ["round_already_running"]
    assert (await store.open_round("test:group1:")).round_id == first.round_id  # type: ignore
    # once its deadline has passed (the timer not yet run), a start opens a new round
    items = await core.handle(in_group(1, Command(at=1000 + 3601, name="round",
                                                  args="start 1h"), "s3", admin=True))
    assert "round_opened" in [i.payload["template"] for i in items or ()]
    second = await store.open_round("test:group1:")
    assert second is not None and second.round_id != first.round_id


async def test_a_link_to_an_unknown_round_gets_an_answer(store: Store) -> None:
    """A stale or mistyped join link used to be recorded without any reply."""
    recorder = Recorder()
    core = make_core(store, recorder)
    r = ref(5)
    items = await core.handle(Incoming(r, ChoicePressed(
        at=1000, choice=join_choice("0123456789ab")), "j1"))
    assert [i.payload["template"] for i in items or ()] == ["round_none"]
    assert recorder.templates(r.key) == ["round_none"]


async def test_catch_up_runs_conversations_in_parallel_within_a_bound(store: Store) -> None:
    class Counting(Recorder):
        def __init__(self) -> None:
            super().__init__(fail_times=0)
            self.in_flight = self.most = 0

        async def send(self, item: OutboxItem) -> None:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            try:
                await asyncio.sleep(0.01)
                await super().send(item)
            finally:
                self.in_flight -= 1

    failing = Recorder(fail_times=10_000)
    core = make_core(store, failing)
    conversations = ACTIVE_EVENTS + 8
    for n in range(conversations):  # every reply left unsent, as after a crash
        await core.handle(Incoming(ref(n), Start(at=1, lang_hint="en"), f"c{n}"))
    counting = Counting()
    core.register_sender("test", counting)
    assert await core.sweep() == conversations
    assert 1 < counting.most <= ACTIVE_EVENTS
    for n in range(conversations):  # each conversation's replies still in order
        assert counting.templates(ref(n).key) == ["welcome", "ask_role"]
    assert await store.pending_outbox() == []


class LockLog:
    """A store whose locks are recorded as they are taken (everything else passes on)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.taken: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def lock(self, key: str, *more: str):  # type: ignore[no-untyped-def]
        self.taken += [key, *more]
        return self._store.lock(key, *more)


async def test_the_core_takes_its_locks_from_the_store(store: Store) -> None:
    logged = LockLog(store)
    core = make_core(logged, Recorder())  # type: ignore[arg-type]
    r = ref()
    await core.handle(Incoming(r, Start(at=1, lang_hint="en"), "l1"))
    assert logged.taken[:2] == [r.key, f"user:{r.user_key}"]
    await core.update_scope_settings("test:guild", lambda s: {**s, "x": 1})
    assert logged.taken[-1] == "settings:test:guild"


async def test_a_conversation_held_through_the_store_waits_for_its_holder(store: Store) -> None:
    recorder = Recorder()
    core = make_core(store, recorder)
    r = ref()
    async with store.lock(r.key):  # e.g. another replica, on a shared database
        handling = asyncio.create_task(core.handle(Incoming(r, Start(at=1, lang_hint="en"), "w1")))
        await asyncio.sleep(0.1)
        assert not handling.done() and recorder.sent == []
    await asyncio.wait_for(handling, 10)
    assert recorder.templates(r.key)


async def test_open_conversations_are_read_back_from_the_store(store: Store) -> None:
    core = make_core(store, Recorder())
    r = ref()
    await core.handle(Incoming(r, Start(at=5, lang_hint="en"), "o1"))
    opened = await core.open_conversations(r.platform)
    assert opened == [(r, 5.0)]  # with the time of its last event
    assert await core.open_conversations("elsewhere") == []
