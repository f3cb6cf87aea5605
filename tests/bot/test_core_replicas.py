"""Two cores (two replicas) on one PostgreSQL database: claimed replies, timeouts and
rounds are acted on once, a dead claimer's rows wait for its lease and then go in order,
and no replica steps from a stale in-process copy of a conversation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from leavewell.bot.core import Core
from leavewell.bot.incoming import Incoming
from leavewell.bot.settings import SettingsError, load_settings
from leavewell.dialogs.engine import DialogSettings, Interviewer
from leavewell.dialogs.events import Start, TextAnswer
from leavewell.storage import open_store
from leavewell.storage.base import Store
from leavewell.storage.postgres import PostgresStore
from tests.bot.test_core import ANSWER, Recorder, play_until_answer, ref
from tests.support.postgres import fresh_database, two_replicas

pytest.importorskip("asyncpg", reason="asyncpg is not installed (leavewell[postgres])")

LEASE = 0.5


@pytest.fixture
async def stores() -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    async with fresh_database() as url, two_replicas(url) as both:
        yield both


def core_on(store: Store, recorder: Recorder) -> Core:
    core = Core(store, Interviewer(settings=DialogSettings(idle_timeout=600)),
                claim_lease=LEASE)
    core.register_sender("test", recorder)
    return core


async def test_only_a_shared_store_makes_the_core_claim_and_cache_nothing(
        stores: tuple[PostgresStore, PostgresStore], tmp_path: Path) -> None:
    shared = core_on(stores[0], Recorder())
    assert shared.claims is stores[0] and shared._states.capacity == 0
    sqlite = await open_store(f"sqlite:///{tmp_path / 'one.db'}")
    alone = core_on(sqlite, Recorder())
    assert alone.claims is None and alone._states.capacity > 0
    await sqlite.close()


async def test_replicas_taking_turns_on_one_conversation_step_from_what_is_stored(
        stores: tuple[PostgresStore, PostgresStore]) -> None:
    """Each update of the interview reaches the other replica: the replies are exactly
    those of one process playing it alone."""
    alone_store = await open_store("memory://")
    alone = Recorder()
    await play_whole(lambda n: core_on(alone_store, alone), alone)
    await alone_store.close()

    shared = Recorder()
    cores = [core_on(store, shared) for store in stores]
    await play_whole(lambda n: cores[n % 2], shared)
    assert shared.templates() == alone.templates()
    assert len({i.id for i in shared.sent}) == len(shared.sent)


class Alternating:
    """Hands each update to the next core in turn (as a proxy may)."""

    def __init__(self, core_for: Callable[[int], Core]) -> None:
        self.core_for, self.step = core_for, 0

    async def handle(self, incoming: Incoming) -> object:
        self.step += 1
        return await self.core_for(self.step).handle(incoming)


async def play_whole(core_for: Callable[[int], Core], recorder: Recorder) -> None:
    r, cores = ref(), Alternating(core_for)
    await play_until_answer(cores, r)  # type: ignore[arg-type]
    for n, text in enumerate([ANSWER, "I learned to raise risks early.",
                              "Because the work fits my goals."]):
        await cores.handle(Incoming(r, TextAnswer(at=1010 + n, text=text), f"a{n}"))
    assert recorder.sent


async def test_a_reply_a_dead_replica_claimed_waits_for_its_lease_and_goes_first(
        stores: tuple[PostgresStore, PostgresStore]) -> None:
    failing, working = Recorder(fail_times=1), Recorder()
    dead, alive = core_on(stores[0], failing), core_on(stores[1], working)
    r = ref()
    await play_until_answer(alive, r)
    sent_before = len(working.sent)
    # the dead replica committed and claimed this reply, and never sent it
    await dead.handle(Incoming(r, TextAnswer(at=1010, text=ANSWER), "answer"))
    assert failing.sent == []
    held = await stores[0].pending_outbox(100, conversation_key=r.key)
    assert held
    assert await alive.sweep() == 1 and len(working.sent) == sent_before  # leased
    # a newer reply on the live replica must not overtake it
    await alive.handle(Incoming(r, TextAnswer(at=1011, text="More about it."), "more"))
    assert len(working.sent) == sent_before
    await asyncio.sleep(LEASE * 2 + 0.2)  # both leases (the dead one's, the held newer one)
    await alive.sweep()
    new = [i.id for i in working.sent[sent_before:]]
    assert new[:len(held)] == [i.id for i in held]  # the old reply first
    assert new == sorted(new) and len(set(new)) == len(new)
    assert await stores[0].pending_outbox(100) == []
    assert await alive.sweep() == 0 and await dead.sweep() == 0


async def test_two_replicas_firing_timeouts_at_once_fire_each_once(
        stores: tuple[PostgresStore, PostgresStore]) -> None:
    recorder = Recorder()
    first, second = (core_on(store, recorder) for store in stores)
    for n in range(6):
        await play_until_answer(first, ref(n))
    deadline = await stores[0].next_deadline()
    assert deadline is not None
    recorder.sent.clear()
    fired = await asyncio.gather(first.fire_due(now=deadline + 1),
                                 second.fire_due(now=deadline + 1))
    assert sum(fired) == 6
    assert sorted(i.conversation_key for i in recorder.sent
                  if i.payload["template"] == "timeout") == sorted(ref(n).key for n in range(6))
    assert await first.fire_due(now=deadline + 2) == 0
    assert await second.fire_due(now=deadline + 2) == 0


def test_the_lease_is_a_setting() -> None:
    assert load_settings({}).claim_lease_seconds == 30.0
    assert load_settings({"LEAVEWELL_CLAIM_LEASE_SECONDS": "2.5"}).claim_lease_seconds == 2.5
    with pytest.raises(SettingsError):
        load_settings({"LEAVEWELL_CLAIM_LEASE_SECONDS": "0"})


async def test_a_failed_send_is_retried_by_the_timer_loop_once_its_lease_runs_out(
        stores: tuple[PostgresStore, PostgresStore]) -> None:
    """Its rows stay claimed by the replica that failed: the loop wakes for the lease
    (not the 30 s poll), and the other replica's loop does not send them first."""
    flaky, other = Recorder(fail_times=1), Recorder()
    first, second = core_on(stores[0], flaky), core_on(stores[1], other)
    stop = asyncio.Event()
    loops = [asyncio.create_task(core.run_timers(stop)) for core in (first, second)]
    try:
        await asyncio.sleep(0.2)  # both loops asleep until their 30 s poll
        r = ref()
        items = await first.handle(Incoming(r, Start(at=time.time(), lang_hint="en"), "s"))
        assert items and flaky.sent == [] and await stores[0].pending_outbox(10)
        for _ in range(100):
            if len(flaky.sent + other.sent) >= len(items):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        assert other.sent == []  # the other loop sleeps on: its poll is 30 s
        assert [i.id for i in flaky.sent] == [i.id for i in items]  # in order, once
        assert await stores[0].pending_outbox(10) == []
    finally:
        stop.set()
        await asyncio.gather(*loops)


async def test_a_step_with_nothing_older_unsent_sends_with_no_claim_or_read(
        stores: tuple[PostgresStore, PostgresStore]) -> None:
    """load, the step's commit (its replies inserted held), the mark: three database calls."""
    recorder = Recorder()
    core, r = core_on(stores[0], recorder), ref()
    await play_until_answer(core, r)
    calls, sent = stores[0].stats.calls, len(recorder.sent)
    await core.handle(Incoming(r, TextAnswer(at=1010, text=ANSWER), "answer"))
    assert len(recorder.sent) > sent
    assert stores[0].stats.calls - calls == 3
    assert await stores[0].pending_outbox(100) == []
