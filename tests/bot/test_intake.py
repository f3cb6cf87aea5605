"""The core's one intake (bot/intake.py), driven with a scripted interpreter over a real
SQLite store: order per conversation, durability before `receive` returns, retry, drop
as final, keep on storage trouble, replay, dedupe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from leavewell.bot.core import Core
from leavewell.bot.incoming import ConversationRef, Incoming, from_payload, to_payload
from leavewell.bot.intake import Intake, Outcome, Received
from leavewell.dialogs.engine import Interviewer
from leavewell.dialogs.events import Start, TextAnswer
from leavewell.storage.errors import StoreClosedError
from leavewell.storage.factory import open_store


class Script:
    """An Interpreter whose payloads are `to_payload` events (None: ignore it)."""

    platform = "loop"

    def __init__(self) -> None:
        self.interpreted: list[str] = []
        self.settled_with: dict[str, Outcome] = {}
        self.slow: dict[str, asyncio.Event] = {}

    def order_key(self, payload: dict[str, Any]) -> str | None:
        return ConversationRef.from_address(payload["address"]).key if payload else None

    async def interpret(self, received: Received) -> Incoming | None:
        self.interpreted.append(received.event_id)
        gate = self.slow.get(received.event_id)
        if gate is not None:
            await gate.wait()
        return from_payload(received.event_id, received.payload) if received.payload else None

    async def settled(self, received: Received, outcome: Outcome) -> None:
        self.settled_with[received.event_id] = outcome


def item(event_id: str, user: str = "1", text: str | None = None) -> Received:
    ref = ConversationRef("loop", user, user)
    event = Start(at=1.0) if text is None else TextAnswer(at=2.0, text=text)
    return Received(f"loop:{event_id}", ref.key, to_payload(Incoming(ref, event,
                                                                      f"loop:{event_id}")))


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    store = await open_store(f"sqlite:///{tmp_path / 'intake.db'}")
    yield Core(store, Interviewer())
    await store.close()


async def test_one_conversation_in_order_and_durable_when_receive_returns(core: Core) -> None:
    intake, script = Intake(core), Script()
    script.slow["loop:a"] = asyncio.Event()
    outcomes = await intake.receive(script, [item("a"), item("b", text="hello")])
    # "a" is held up, so neither is handled yet: both are kept in the inbox.
    kept = await core.store.inbox_pending("loop:")
    assert [event_id for event_id, _ in kept] == ["loop:a", "loop:b"]
    assert script.interpreted == ["loop:a"]  # "b" waits for "a", its conversation's first
    script.slow["loop:a"].set()
    done = await asyncio.gather(*outcomes)
    assert script.interpreted == ["loop:a", "loop:b"]
    assert all(o.replied and o.error is None for o in done)
    assert await core.store.inbox_pending("loop:") == []  # the commits removed them


async def test_a_redelivered_update_is_handled_once_and_not_kept_again(core: Core) -> None:
    intake, script = Intake(core), Script()
    ignored = Received("loop:x", "loop:1:1:", {})  # nothing an interview reacts to
    [first] = await intake.receive(script, [ignored])
    assert (await first).incoming is None
    [again] = await intake.receive(script, [ignored])
    assert again is first and script.interpreted == ["loop:x"]
    assert await core.store.inbox_pending("loop:") == []


async def test_a_bug_is_dropped_as_final_and_storage_trouble_is_kept(
        core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    intake, script = Intake(core), Script()
    calls = 0

    async def broken(incoming: Incoming) -> None:
        nonlocal calls
        calls += 1
        raise KeyError("a bug")

    monkeypatch.setattr(core, "handle", broken)
    [outcome] = await intake.receive(script, [item("bug")])
    result = await outcome
    assert isinstance(result.error, KeyError) and calls == 3  # retried, then dropped
    assert await core.store.inbox_pending("loop:") == []

    async def away(incoming: Incoming) -> None:
        raise StoreClosedError("the database is away")

    monkeypatch.setattr(core, "handle", away)
    [outcome] = await intake.receive(script, [item("kept")])
    assert isinstance((await outcome).error, StoreClosedError)
    assert [e for e, _ in await core.store.inbox_pending("loop:")] == ["loop:kept"]
    assert script.settled_with["loop:kept"].error is not None  # the adapter hears of it


async def test_kept_updates_are_replayed_in_order_before_new_ones(core: Core) -> None:
    await core.store.inbox_put([(r.event_id, r.payload)
                                for r in (item("r1"), item("r2", text="an answer"))])
    intake, script = Intake(core), Script()
    assert await intake.replay(script) == 2
    [fresh] = await intake.receive(script, [item("r3", text="another")])
    await fresh
    await intake.drain(5)
    assert script.interpreted == ["loop:r1", "loop:r2", "loop:r3"]
    assert all(script.settled_with[e].replied for e in script.interpreted)
    assert await core.store.inbox_pending("loop:") == []
