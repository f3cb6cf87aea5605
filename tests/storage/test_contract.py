"""One contract, every backend: MemoryStore, SqliteStore (a file in tmp_path) and
PostgresStore (a fresh database on the local server, skipped with the reason if none),
and one more engine or server when LEAVEWELL_CONTRACT_DATABASE_URL names it.

`backend.make()` builds a new store object over the same underlying data, so
"close, make, open" is a real restart for SQLite and its faithful equivalent for the
in-memory store (a new MemoryStore over the same MemoryDatabase).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from leavewell.storage import ConversationRecord, StepRecord, Store, TurnRecord, UserRecord
from leavewell.storage.base import RoundRecord, RoutedPayload
from leavewell.storage.errors import StoreClosedError
from leavewell.storage.factory import make_store
from leavewell.storage.memory import MemoryDatabase, MemoryStore
from leavewell.storage.sqlite import SqliteStore
from tests.support.contract_database import contract_database_url, fresh_store_url
from tests.support.postgres import fresh_database

T0 = 1_700_000_000.0


@dataclass
class Backend:
    name: str
    make: Callable[[], Store]


# LEAVEWELL_CONTRACT_DATABASE_URL adds one more engine (see tests/support/contract_database.py).
_EXTRA = contract_database_url()


@pytest.fixture(params=["memory", "sqlite-file", "postgres", *(["extra"] if _EXTRA else [])])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "memory":
        database = MemoryDatabase()
        yield Backend("memory", lambda: MemoryStore(database))
    elif request.param == "sqlite-file":
        path = tmp_path / "leavewell.db"
        yield Backend("sqlite-file", lambda: SqliteStore(path))
    elif request.param == "extra":
        assert _EXTRA is not None
        async with fresh_store_url(_EXTRA) as url:
            yield Backend("extra", lambda: make_store(url, pool_min=1, pool_max=4))
    else:
        from leavewell.storage.postgres import PostgresStore

        async with fresh_database() as url:
            yield Backend("postgres", lambda: PostgresStore(url, pool_min=1, pool_max=4))


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    opened = backend.make()
    await opened.open()
    yield opened
    await opened.close()


def conv_key(n: int | str, user: int | str | None = None) -> str:
    return f"tg:{n}:{n if user is None else user}:0"


def user_key(n: int | str) -> str:
    return f"tg:{n}"


def make_step(
    event_id: str | None,
    *,
    conv: str = "tg:1:1:0",
    user: str = "tg:1",
    at: float = T0,
    state: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    deadline: float | None = None,
    texts: tuple[str, ...] = ("hello",),
    payloads: tuple[dict[str, Any], ...] = ({"text": "reply"},),
    with_user: bool = True,
    with_conversation: bool = True,
    forget: str | None = None,
    conversation_key: str | None = None,
) -> StepRecord:
    conversation = ConversationRecord(
        conversation_key=conv,
        user_key=user,
        state=state if state is not None else {"stage": "asked"},
        deadline=deadline,
        address={"chat_id": conv.split(":")[1]},
    )
    turns = tuple(
        TurnRecord(
            conversation_key=conv,
            user_key=user,
            at=at,
            kind="text",
            text=text,
            analysis={"score": 3, "hits": ["growth"]} if i == 0 else None,
            meta={"i": i},
        )
        for i, text in enumerate(texts)
    )
    return StepRecord(
        event_id=event_id,
        at=at,
        conversation=conversation if with_conversation else None,
        user=UserRecord(user, profile if profile is not None else {"lang": "en"})
        if with_user
        else None,
        turns=turns,
        outbox=payloads,
        platform="telegram",
        address={"chat_id": conv.split(":")[1]},
        forget_user_key=forget,
        conversation_key=conversation_key,
    )


async def test_unknown_keys_load_as_nothing(store: Store) -> None:
    assert await store.load("tg:9:9:0", "tg:9") == (None, None)
    assert await store.turns("tg:9:9:0") == []
    assert await store.pending_outbox() == []
    assert await store.due_deadlines(T0 + 10**9) == []
    assert await store.next_deadline() is None
    exported = await store.export_user("tg:9")
    assert exported["user"] is None
    assert exported["conversations"] == [] and exported["turns"] == []
    assert await store.schema_version() >= 1


async def test_commit_then_load_round_trip(store: Store) -> None:
    step = make_step(
        "tg:100",
        state={"stage": "followup", "answer": "我离开是为了成长", "nested": {"n": [1, 2.5, None]}},
        profile={"lang": "zh", "attempts": [{"score": 7}]},
        deadline=T0 + 600,
        texts=("first answer", "second part"),
        payloads=({"text": "one"}, {"text": "two", "buttons": [["a", "b"]]}),
    )
    created = await store.commit(step)
    assert created is not None and len(created) == 2
    assert [item.payload for item in created] == [
        {"text": "one"},
        {"text": "two", "buttons": [["a", "b"]]},
    ]
    assert created[0].id < created[1].id
    assert all(item.conversation_key == "tg:1:1:0" for item in created)
    assert all(item.platform == "telegram" and item.address == {"chat_id": "1"} for item in created)
    assert all(item.created_at == T0 for item in created)

    user, conversation = await store.load("tg:1:1:0", "tg:1")
    assert user == step.user
    assert conversation == step.conversation
    assert await store.turns("tg:1:1:0") == list(step.turns)
    assert await store.pending_outbox() == created


async def test_commit_held_tells_whether_an_older_row_of_the_conversation_is_unsent(
        store: Store) -> None:
    first = await store.commit_held(make_step("h1", payloads=({"n": 1},)), 30.0)
    assert first is not None and not first.older_unsent
    assert [i.payload for i in first.items] == [{"n": 1}]
    assert await store.pending_outbox() == first.items
    # another conversation's unsent row blocks nothing here
    other = await store.commit_held(make_step("o1", conv=conv_key(2), user=user_key(2)), 30.0)
    assert other is not None and not other.older_unsent
    second = await store.commit_held(make_step("h2", payloads=({"n": 2}, {"n": 3})), 30.0)
    assert second is not None and second.older_unsent  # the first row is still unsent
    assert [i.id for i in second.items] == sorted(i.id for i in second.items)
    assert second.items[0].id > first.items[0].id
    assert await store.commit_held(make_step("h2"), 30.0) is None  # already committed
    await store.mark_sent([i.id for i in first.items + second.items])
    third = await store.commit_held(make_step("h3", payloads=()), 30.0)
    assert third is not None and third.items == [] and not third.older_unsent
    fourth = await store.commit_held(make_step("h4", payloads=({"n": 4},)), 30.0)
    assert fourth is not None and not fourth.older_unsent
    assert [i.payload for i in await store.pending_outbox(conversation_key="tg:1:1:0")] == [
        {"n": 4}]


async def test_commit_held_after_a_forget_counts_only_what_is_left(store: Store) -> None:
    assert await store.commit(make_step("f1", payloads=({"n": 1},))) is not None
    forget = make_step("f2", with_user=False, with_conversation=False, texts=(),
                       forget="tg:1", conversation_key="tg:1:1:0", payloads=({"bye": 1},))
    done = await store.commit_held(forget, 30.0)
    assert done is not None and not done.older_unsent  # the old reply went with the user
    assert [i.payload for i in done.items] == [{"bye": 1}]


async def test_any_text_round_trips(store: Store) -> None:
    # Users paste anything; PostgreSQL's TEXT type alone could not keep the NUL.
    odd = "nul\x00 tab\t 表情😀 \u202e end"
    await store.commit(make_step("tg:1", texts=(odd,), state={"draft": odd},
                                 payloads=({"text": odd},)))
    assert [t.text for t in await store.turns("tg:1:1:0")] == [odd]
    _, conversation = await store.load("tg:1:1:0", "tg:1")
    assert conversation is not None and conversation.state == {"draft": odd}
    assert [p.payload for p in await store.pending_outbox()] == [{"text": odd}]


async def test_stored_values_are_copies(store: Store) -> None:
    state: dict[str, Any] = {"stage": "asked", "list": [1]}
    await store.commit(make_step("tg:1", state=state))
    state["list"].append(2)
    _, conversation = await store.load("tg:1:1:0", "tg:1")
    assert conversation is not None
    assert conversation.state == {"stage": "asked", "list": [1]}
    conversation.state["stage"] = "mutated"
    _, again = await store.load("tg:1:1:0", "tg:1")
    assert again is not None and again.state["stage"] == "asked"


async def test_recommitting_the_same_event_changes_nothing(store: Store) -> None:
    step = make_step("tg:7", texts=("a", "b"), payloads=({"text": "x"}, {"text": "y"}))
    assert await store.commit(step) is not None
    assert await store.commit(step) is None
    different = make_step("tg:7", state={"stage": "other"}, texts=("c",))
    assert await store.commit(different) is None
    _, conversation = await store.load("tg:1:1:0", "tg:1")
    assert conversation is not None and conversation.state == {"stage": "asked"}
    assert [t.text for t in await store.turns("tg:1:1:0")] == ["a", "b"]
    assert len(await store.pending_outbox()) == 2


async def test_same_event_in_one_burst_commits_once(store: Store) -> None:
    steps = [make_step("tg:55", texts=(f"t{i}",)) for i in range(5)]
    results = await asyncio.gather(*(store.commit(s) for s in steps))
    assert results[0] is not None
    assert results[1:] == [None] * 4
    assert [t.text for t in await store.turns("tg:1:1:0")] == ["t0"]
    assert len(await store.pending_outbox()) == 1


async def test_steps_without_event_id_always_apply(store: Store) -> None:
    assert await store.commit(make_step(None, texts=("a",))) is not None
    assert await store.commit(make_step(None, texts=("b",))) is not None
    assert [t.text for t in await store.turns("tg:1:1:0")] == ["a", "b"]


async def test_outbox_pending_and_mark_sent(store: Store) -> None:
    ids: list[int] = []
    for i in range(3):
        created = await store.commit(
            make_step(f"tg:{i}", conv=conv_key(i), user=user_key(i), payloads=({"n": i}, {"n": i}))
        )
        assert created is not None
        ids += [item.id for item in created]
    assert ids == sorted(ids) and len(set(ids)) == 6

    pending = await store.pending_outbox()
    assert [item.id for item in pending] == ids
    assert [item.payload for item in pending] == [
        {"n": 0},
        {"n": 0},
        {"n": 1},
        {"n": 1},
        {"n": 2},
        {"n": 2},
    ]
    assert [item.id for item in await store.pending_outbox(limit=4)] == ids[:4]
    assert await store.pending_outbox(limit=0) == []

    await store.mark_sent([ids[0], ids[3], 999_999])
    assert [item.id for item in await store.pending_outbox()] == [ids[1], ids[2], ids[4], ids[5]]
    await store.mark_sent([])
    await store.mark_sent(ids)
    assert await store.pending_outbox() == []

    created = await store.commit(make_step("tg:99", payloads=({"n": 99},)))
    assert created is not None and created[0].id > ids[-1]


async def test_prune_sent_removes_only_old_sent_rows(store: Store) -> None:
    created = await store.commit(make_step("tg:1", payloads=({"n": 1}, {"n": 2})))
    assert created is not None
    await store.mark_sent([created[0].id])
    assert await store.prune_sent(older_than=0.0) == 0  # type: ignore[attr-defined]
    assert await store.prune_sent(older_than=T0 * 10) == 1  # type: ignore[attr-defined]
    assert [item.id for item in await store.pending_outbox()] == [created[1].id]
    again = await store.commit(make_step("tg:2", payloads=({"n": 3},)))
    assert again is not None and again[0].id > created[1].id  # ids are never reused


async def test_deadlines_due_and_next(store: Store) -> None:
    for n, deadline in [(1, T0 + 30), (2, T0 + 10), (3, T0 + 20), (4, None), (5, T0 + 10)]:
        await store.commit(
            make_step(f"e{n}", conv=conv_key(n), user=user_key(n), deadline=deadline)
        )
    assert await store.next_deadline() == T0 + 10
    assert await store.due_deadlines(T0) == []
    due = await store.due_deadlines(T0 + 15)
    assert [c.conversation_key for c in due] == [conv_key(2), conv_key(5)]
    assert due[0].deadline == T0 + 10 and due[0].state == {"stage": "asked"}
    due = await store.due_deadlines(T0 + 20)
    assert [c.conversation_key for c in due] == [conv_key(2), conv_key(5), conv_key(3)]
    assert [c.conversation_key for c in await store.due_deadlines(T0 + 100, limit=2)] == [
        conv_key(2),
        conv_key(5),
    ]

    # Clearing deadlines (the timeout fired, or the user answered) removes them.
    for n in (2, 5):
        await store.commit(make_step(f"f{n}", conv=conv_key(n), user=user_key(n), deadline=None))
    assert await store.next_deadline() == T0 + 20
    assert [c.conversation_key for c in await store.due_deadlines(T0 + 100)] == [
        conv_key(3),
        conv_key(1),
    ]


async def test_turns_keep_commit_order(store: Store) -> None:
    expected: list[str] = []
    for i in range(6):
        texts = (f"m{i}a", f"m{i}b") if i % 2 else (f"m{i}",)
        expected += texts
        await store.commit(make_step(f"tg:{i}", at=T0 + i, texts=texts))
    assert [t.text for t in await store.turns("tg:1:1:0")] == expected
    exported = await store.export_user("tg:1")
    assert [t["seq"] for t in exported["turns"]] == list(range(1, len(expected) + 1))


async def test_step_without_conversation_leaves_it_unchanged(store: Store) -> None:
    await store.commit(make_step("tg:1", state={"stage": "kept"}))
    created = await store.commit(
        make_step("tg:2", with_conversation=False, with_user=False, conversation_key="tg:1:1:0")
    )
    assert created is not None and created[0].conversation_key == "tg:1:1:0"
    user, conversation = await store.load("tg:1:1:0", "tg:1")
    assert user is not None and conversation is not None
    assert conversation.state == {"stage": "kept"}
    assert len(await store.turns("tg:1:1:0")) == 2


async def test_invalid_steps_are_refused_before_anything_changes(store: Store) -> None:
    with pytest.raises(ValueError, match="outbox payloads need a conversation"):
        await store.commit(make_step("tg:1", with_conversation=False))
    with pytest.raises(ValueError, match="differs"):
        await store.commit(make_step("tg:1", conversation_key="tg:other:1:0"))
    with pytest.raises(ValueError):
        await store.commit(make_step("tg:1", state={"x": float("nan")}))
    assert await store.load("tg:1:1:0", "tg:1") == (None, None)
    assert await store.commit(make_step("tg:1")) is not None  # the event id is still free


async def test_forget_deletes_every_row_of_that_user_only(store: Store) -> None:
    # User 1 has two conversations (a DM and a group thread); user 2 has one.
    for i, (conv, user) in enumerate(
        [("tg:1:1:0", "tg:1"), ("tg:-50:1:7", "tg:1"), ("tg:2:2:0", "tg:2"), ("tg:1:1:0", "tg:1")]
    ):
        await store.commit(make_step(f"tg:{i}", conv=conv, user=user, deadline=T0 + i + 1))
    forget = make_step(
        "tg:forget",
        user="tg:1",
        with_user=False,
        with_conversation=False,
        texts=(),
        conversation_key="tg:1:1:0",
        payloads=({"text": "Your data is deleted."},),
        forget="tg:1",
    )
    created = await store.commit(forget)
    assert created is not None

    assert await store.load("tg:1:1:0", "tg:1") == (None, None)
    assert await store.load("tg:-50:1:7", "tg:1") == (None, None)
    assert await store.turns("tg:1:1:0") == []
    assert await store.turns("tg:-50:1:7") == []
    exported = await store.export_user("tg:1")
    assert exported["user"] is None and exported["conversations"] == [] and exported["turns"] == []
    # Old replies to user 1 are gone; the confirmation is the only one left for them.
    pending = await store.pending_outbox()
    assert [p.payload for p in pending if p.conversation_key != "tg:2:2:0"] == [
        {"text": "Your data is deleted."}
    ]
    assert [d.conversation_key for d in await store.due_deadlines(T0 + 100)] == ["tg:2:2:0"]

    # User 2 is untouched.
    user, conversation = await store.load("tg:2:2:0", "tg:2")
    assert user is not None and conversation is not None
    assert len(await store.turns("tg:2:2:0")) == 1
    assert len([p for p in pending if p.conversation_key == "tg:2:2:0"]) == 1

    # Forgetting is idempotent like any step, and the user can start again afterwards.
    assert await store.commit(forget) is None
    await store.commit(make_step("tg:again", texts=("fresh start",)))
    turns = await store.turns("tg:1:1:0")
    assert [t.text for t in turns] == ["fresh start"]


async def test_forget_and_upserts_apply_in_step_order(store: Store) -> None:
    steps = [
        make_step("e1", texts=("before",)),
        make_step(
            "e2", with_user=False, with_conversation=False, texts=(), payloads=(), forget="tg:1"
        ),
        make_step("e3", conv="tg:1:1:9", texts=("after",), state={"stage": "new"}),
    ]
    await asyncio.gather(*(store.commit(s) for s in steps))
    assert await store.load("tg:1:1:0", "tg:1") == (steps[2].user, None)
    user, conversation = await store.load("tg:1:1:9", "tg:1")
    assert user == steps[2].user and conversation == steps[2].conversation
    exported = await store.export_user("tg:1")
    assert [t["text"] for t in exported["turns"]] == ["after"]


async def test_export_user(store: Store) -> None:
    await store.commit(make_step("e1", profile={"lang": "zh", "role": "PM"}, deadline=T0 + 60))
    await store.commit(make_step("e2", conv="tg:-9:1:3", texts=("group answer",)))
    await store.commit(make_step("e3", conv=conv_key(2), user=user_key(2), texts=("other",)))
    exported = await store.export_user("tg:1")
    assert json.loads(json.dumps(exported)) == exported  # JSON-serialisable as is
    assert exported["user"] == {"lang": "en"}  # the last upsert wins
    assert exported["conversations"] == [
        {
            "conversation_key": "tg:-9:1:3",
            "state": {"stage": "asked"},
            "deadline": None,
            "address": {"chat_id": "-9"},
        },
        {
            "conversation_key": "tg:1:1:0",
            "state": {"stage": "asked"},
            "deadline": T0 + 60,
            "address": {"chat_id": "1"},
        },
    ]
    assert exported["turns"] == [
        {
            "conversation_key": "tg:1:1:0",
            "user_key": "tg:1",
            "seq": 1,
            "at": T0,
            "kind": "text",
            "text": "hello",
            "analysis": {"score": 3, "hits": ["growth"]},
            "meta": {"i": 0},
        },
        {
            "conversation_key": "tg:-9:1:3",
            "user_key": "tg:1",
            "seq": 1,
            "at": T0,
            "kind": "text",
            "text": "group answer",
            "analysis": {"score": 3, "hits": ["growth"]},
            "meta": {"i": 0},
        },
    ]


async def test_close_reopen_continue(backend: Backend) -> None:
    first = backend.make()
    await first.open()
    created = await first.commit(make_step("tg:1", texts=("q1",), deadline=T0 + 60))
    assert created is not None
    await first.close()
    with pytest.raises(StoreClosedError):
        await first.commit(make_step("tg:2"))

    second = backend.make()
    await second.open()
    try:
        _, conversation = await second.load("tg:1:1:0", "tg:1")
        assert conversation is not None and conversation.deadline == T0 + 60
        assert await second.next_deadline() == T0 + 60
        assert await second.pending_outbox() == created  # unsent replies survive a restart
        assert await second.commit(make_step("tg:1", texts=("dup",))) is None  # ids survive too
        more = await second.commit(make_step("tg:2", texts=("q2",), state={"stage": "feedback"}))
        assert more is not None and more[0].id > created[0].id
        assert [t.text for t in await second.turns("tg:1:1:0")] == ["q1", "q2"]
        exported = await second.export_user("tg:1")
        assert [t["seq"] for t in exported["turns"]] == [1, 2]
    finally:
        await second.close()


async def test_the_same_object_can_be_reopened(backend: Backend) -> None:
    opened = backend.make()
    await opened.open()
    await opened.commit(make_step("tg:1"))
    await opened.close()
    await opened.close()  # closing twice is harmless
    await opened.open()
    try:
        assert len(await opened.turns("tg:1:1:0")) == 1
    finally:
        await opened.close()


async def test_using_a_closed_store_raises(backend: Backend) -> None:
    never_opened = backend.make()
    with pytest.raises(StoreClosedError):
        await never_opened.commit(make_step("tg:1"))
    with pytest.raises(StoreClosedError):
        await never_opened.load("tg:1:1:0", "tg:1")
    with pytest.raises(StoreClosedError):
        await never_opened.mark_sent([1])


async def test_concurrent_conversations_keep_their_own_order(store: Store) -> None:
    conversations, per_conversation = 200, 5

    async def talk(n: int) -> list[int]:
        ids: list[int] = []
        for i in range(per_conversation):
            created = await store.commit(
                make_step(
                    f"tg:{n}:{i}",
                    conv=conv_key(n),
                    user=user_key(n),
                    state={"stage": f"s{i}"},
                    texts=(f"{n}-{i}",),
                    payloads=({"n": n, "i": i},),
                )
            )
            assert created is not None
            ids.append(created[0].id)
        return ids

    all_ids = await asyncio.gather(*(talk(n) for n in range(conversations)))
    flat = [i for ids in all_ids for i in ids]
    assert len(set(flat)) == conversations * per_conversation
    for n, ids in enumerate(all_ids):
        assert ids == sorted(ids)
        assert [t.text for t in await store.turns(conv_key(n))] == [
            f"{n}-{i}" for i in range(per_conversation)
        ]
        _, conversation = await store.load(conv_key(n), user_key(n))
        assert conversation is not None and conversation.state == {
            "stage": f"s{per_conversation - 1}"
        }
    pending = await store.pending_outbox(limit=10_000)
    assert [p.id for p in pending] == sorted(flat)


class NotJson:
    pass


async def test_a_failing_step_fails_alone(store: Store) -> None:
    good = [make_step(f"tg:{n}", conv=conv_key(n), user=user_key(n)) for n in range(6)]
    bad_payload = make_step(
        "tg:bad1", conv=conv_key(50), user=user_key(50), payloads=({"obj": NotJson()},)
    )
    bad_turn = replace(
        make_step("tg:bad2", conv=conv_key(51), user=user_key(51)),
        turns=(TurnRecord(conv_key(51), user_key(51), T0, None),),  # type: ignore[arg-type]
    )
    steps = [good[0], good[1], bad_payload, good[2], good[3], bad_turn, good[4], good[5]]
    results = await asyncio.gather(*(store.commit(s) for s in steps), return_exceptions=True)

    assert isinstance(results[2], TypeError) and "outbox[0]" in str(results[2])
    assert isinstance(results[5], TypeError) and "kind" in str(results[5])
    for index in (0, 1, 3, 4, 6, 7):
        assert isinstance(results[index], list), results[index]
    for n in range(6):
        assert len(await store.turns(conv_key(n))) == 1
    assert await store.load(conv_key(50), user_key(50)) == (None, None)
    assert await store.load(conv_key(51), user_key(51)) == (None, None)
    assert len(await store.pending_outbox()) == 6
    # The failed event ids were not recorded: a corrected retry goes through.
    assert await store.commit(make_step("tg:bad1", conv=conv_key(50), user=user_key(50)))


async def test_inbox_keeps_updates_until_their_step_commits(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    try:
        await store.inbox_put([("telegram:1", {"update_id": 1}),
                               ("telegram:2", {"update_id": 2}), ("discord:9", {"id": 9})])
        await store.inbox_put([("telegram:1", {"update_id": 1})])  # twice: kept once
        pending = await store.inbox_pending("telegram:")
        assert [e for e, _ in pending] == ["telegram:1", "telegram:2"]
        await store.commit(make_step("telegram:1"))
    finally:
        await store.close()

    store = backend.make()  # a restart: what was received but not processed is still there
    await store.open()
    try:
        assert await store.inbox_pending("telegram:") == [("telegram:2", {"update_id": 2})]
        await store.inbox_put([("telegram:1", {"update_id": 1})])  # processed: not taken
        assert [e for e, _ in await store.inbox_pending("telegram:")] == ["telegram:2"]
        await store.inbox_drop(["telegram:2"])
        assert await store.inbox_pending("telegram:") == []
        assert [e for e, _ in await store.inbox_pending("discord:")] == ["discord:9"]
    finally:
        await store.close()


# -- rounds and replies routed to other conversations --------------------------------


def round_record(round_id: str, *, group: str = "tg:-100:", deadline: float | None = T0 + 600,
                 is_open: bool = True, **state: Any) -> RoundRecord:
    return RoundRecord(round_id, group, {"stage": "open", **state}, deadline, is_open)


async def test_rounds_commit_with_the_step_and_survive_a_restart(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    routed = RoutedPayload("tg:-100::", "tg", {"chat_id": "-100"}, {"text": "round posted"})
    step = replace(make_step("e1"), rounds=(round_record("r1", members=2),), routed=(routed,))
    items = await store.commit(step)
    assert items is not None
    assert [(i.conversation_key, i.payload) for i in items] == [
        ("tg:1:1:0", {"text": "reply"}), ("tg:-100::", {"text": "round posted"})]
    assert [i.address for i in items] == [{"chat_id": "1"}, {"chat_id": "-100"}]
    assert await store.commit(step) is None  # a re-delivery adds no round post
    await store.close()

    store = backend.make()
    await store.open()
    try:
        loaded = await store.load_round("r1")
        assert loaded == round_record("r1", members=2)
        assert await store.open_round("tg:-100:") == loaded
        assert await store.open_round("tg:-200:") is None
        assert await store.load_round("nope") is None
        pending = await store.pending_outbox(10, conversation_key="tg:-100::")
        assert [p.payload for p in pending] == [{"text": "round posted"}]
    finally:
        await store.close()


async def test_round_deadlines_are_due_and_count_as_next(store: Store) -> None:
    await store.commit(replace(make_step("e1", deadline=T0 + 900),
                               rounds=(round_record("r1", deadline=T0 + 300),)))
    assert await store.next_deadline() == T0 + 300
    assert await store.due_rounds(T0 + 299) == []
    assert [r.round_id for r in await store.due_rounds(T0 + 300)] == ["r1"]
    closed = round_record("r1", deadline=None, is_open=False)
    await store.commit(replace(make_step("e2", deadline=T0 + 900), rounds=(closed,)))
    assert await store.due_rounds(T0 + 10_000) == []
    assert await store.open_round("tg:-100:") is None
    assert await store.next_deadline() == T0 + 900


async def test_bad_round_or_routed_reply_is_refused(store: Store) -> None:
    with pytest.raises(TypeError):
        await store.commit(replace(make_step("e1"), rounds=({"round_id": "x"},)))  # type: ignore[arg-type]
    bad = RoutedPayload("tg:-1::", "tg", {}, {"x": float("nan")})
    with pytest.raises(ValueError):
        await store.commit(replace(make_step("e2"), routed=(bad,)))
    assert await store.load_round("x") is None


# -- Store.lock --------------------------------------------------------------------------


async def test_lock_excludes_holders_of_the_same_key(store: Store) -> None:
    inside: list[str] = []
    first_in, let_go = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with store.lock("tg:1:1:0"):
            inside.append("first")
            first_in.set()
            await let_go.wait()
            inside.append("first out")

    async def second() -> None:
        await first_in.wait()
        async with store.lock("tg:1:1:0"):
            inside.append("second")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_in.wait()
    await asyncio.sleep(0.2)  # time enough for `second` to get in, were it not excluded
    assert inside == ["first"]
    let_go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert inside == ["first", "first out", "second"]


async def test_locks_of_different_keys_are_independent(store: Store) -> None:
    async with store.lock("tg:1:1:0"):
        # Another task takes another key while this one holds the first.
        async def other() -> str:
            async with store.lock("tg:2:2:0"):
                return "in"

        assert await asyncio.wait_for(asyncio.create_task(other()), 10) == "in"


async def test_several_keys_taken_at_once_exclude_each_and_never_deadlock(
        store: Store) -> None:
    async def single(key: str) -> str:
        async with store.lock(key):
            return key

    async with store.lock("tg:1:1:0", "user:tg:1"):
        waiting = [asyncio.create_task(single(k)) for k in ("tg:1:1:0", "user:tg:1")]
        await asyncio.sleep(0.2)
        assert not any(t.done() for t in waiting)
        assert await asyncio.wait_for(single("tg:2:2:0"), 10) == "tg:2:2:0"
    assert await asyncio.wait_for(asyncio.gather(*waiting), 10) == ["tg:1:1:0", "user:tg:1"]

    async def many(keys: tuple[str, ...]) -> None:
        for _ in range(15):
            async with store.lock(*keys):
                await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(many(("x", "y")), many(("y", "x")),
                                          many(("z", "y", "x")), many(("x", "x"))), 20)


async def test_one_task_may_hold_several_keys(store: Store) -> None:
    async with store.lock("a"), store.lock("b"), store.lock("c"):
        pass
    async with store.lock("c"), store.lock("a"):
        pass


async def test_a_lock_is_released_by_an_exception(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with store.lock("tg:1:1:0"):
            raise RuntimeError("boom")

    async def again() -> bool:
        async with store.lock("tg:1:1:0"):
            return True

    assert await asyncio.wait_for(asyncio.create_task(again()), 10)


async def test_a_lock_is_released_when_its_holder_is_cancelled(store: Store) -> None:
    held = asyncio.Event()

    async def holder() -> None:
        async with store.lock("k"):
            held.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(holder())
    await held.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async def again() -> bool:
        async with store.lock("k"):
            return True

    assert await asyncio.wait_for(asyncio.create_task(again()), 10)


async def test_a_cancelled_waiter_leaves_the_lock_to_the_next(store: Store) -> None:
    held, let_go = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with store.lock("k"):
            held.set()
            await let_go.wait()

    async def take() -> bool:
        async with store.lock("k"):
            return True

    first = asyncio.create_task(holder())
    await held.wait()
    waiter = asyncio.create_task(take())
    await asyncio.sleep(0.2)  # waiting for the lock (PostgreSQL: on the server)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    let_go.set()
    await first
    assert await asyncio.wait_for(asyncio.create_task(take()), 10)


async def test_lock_needs_an_open_store(backend: Backend) -> None:
    never_opened = backend.make()
    with pytest.raises(StoreClosedError):
        async with never_opened.lock("k"):
            pass


# -- open conversations ------------------------------------------------------------------


def on_platform(step: StepRecord, platform: str) -> StepRecord:
    assert step.conversation is not None
    address = {**step.conversation.address, "platform": platform}
    return replace(step, conversation=replace(step.conversation, address=address))


async def test_open_conversations_are_those_of_the_platform_with_a_deadline(
        store: Store) -> None:
    steps = [
        on_platform(make_step("e1", conv=conv_key(1), user=user_key(1), deadline=T0 + 30),
                    "discord"),
        on_platform(make_step("e2", conv=conv_key(2), user=user_key(2), deadline=T0 + 10),
                    "discord"),
        on_platform(make_step("e3", conv=conv_key(3), user=user_key(3), deadline=None),
                    "discord"),  # no interview in progress
        on_platform(make_step("e4", conv=conv_key(4), user=user_key(4), deadline=T0 + 5),
                    "telegram"),  # another platform
        make_step("e5", conv=conv_key(5), user=user_key(5), deadline=T0 + 1),  # no platform
        on_platform(make_step("e6", conv=conv_key(6), user=user_key(6), deadline=T0 - 100),
                    "discord"),  # overdue: still in progress until its timeout fires
    ]
    for step in steps:
        await store.commit(step)
    found = await store.open_conversations("discord")
    assert [c.conversation_key for c in found] == [conv_key(6), conv_key(2), conv_key(1)]
    assert found[1].address == {"chat_id": "2", "platform": "discord"}
    assert found[1].state == {"stage": "asked"} and found[1].deadline == T0 + 10
    assert [c.conversation_key for c in await store.open_conversations("discord", limit=2)] \
        == [conv_key(6), conv_key(2)]
    assert [c.conversation_key for c in await store.open_conversations("telegram")] \
        == [conv_key(4)]
    assert await store.open_conversations("webchat") == []
    # The interview ends (no deadline any more): it is no longer open.
    await store.commit(on_platform(
        make_step("e7", conv=conv_key(2), user=user_key(2), deadline=None), "discord"))
    assert [c.conversation_key for c in await store.open_conversations("discord")] \
        == [conv_key(6), conv_key(1)]


# -- schema version ----------------------------------------------------------------------


async def test_each_engine_reports_its_own_schema_version(backend: Backend) -> None:
    store = backend.make()
    await store.open()
    try:
        version = await store.schema_version()
        if backend.name == "memory":
            assert version == 1  # its own layout, not SQLite's schema number
        else:  # a new database migrated to the newest of that engine's migrations
            from leavewell.storage.migrate import load_migrations

            dialect = "postgres" if backend.name == "postgres" else "sqlite"
            latest = load_migrations(None, dialect=dialect)[-1].version
            assert version == latest == store.latest_version  # type: ignore[attr-defined]
        assert store.latest_version == version  # type: ignore[attr-defined]
    finally:
        await store.close()


# -- the export, built in one place ------------------------------------------------------


async def test_the_export_is_built_by_the_shared_function(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from leavewell.storage import export

    engine = sys.modules[type(store).__module__]
    assert engine.export_dict is export.export_dict  # no engine keeps a copy of its own
    calls: list[str] = []

    def spy(user_key: str, *args: Any) -> dict[str, Any]:
        calls.append(user_key)
        return export.export_dict(user_key, *args)

    monkeypatch.setattr(engine, "export_dict", spy)
    await store.commit(make_step("e1"))
    exported = await store.export_user("tg:1")
    assert calls == ["tg:1"] and exported["turns"][0]["seq"] == 1


async def test_settings_of_a_place_are_kept_apart_from_users(backend: Backend) -> None:
    first = backend.make()
    await first.open()
    try:
        assert await first.load_settings("discord-guild:7") == {}
        await first.save_settings("discord-guild:7", {"allowed_channels": [1, 2]}, T0)
        await first.save_settings("discord-guild:8", {"note": "第二个"}, T0)
        await first.save_settings("discord-guild:7", {"allowed_channels": [3]}, T0 + 1)
        loaded = await first.load_settings("discord-guild:7")
        loaded["allowed_channels"].append(99)  # a copy: the store keeps its own
        assert await first.load_settings("discord-guild:7") == {"allowed_channels": [3]}
        assert await first.load("discord-guild:7", "discord-guild:7") == (None, None)
        assert (await first.export_user("discord-guild:7"))["user"] is None
        with pytest.raises(TypeError):
            await first.save_settings("discord-guild:9", ["not", "a", "dict"], T0)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            await first.save_settings("discord-guild:9", {"x": float("nan")}, T0)
        assert await first.load_settings("discord-guild:9") == {}
    finally:
        await first.close()
    second = backend.make()
    await second.open()
    try:
        assert await second.load_settings("discord-guild:7") == {"allowed_channels": [3]}
        assert await second.load_settings("discord-guild:8") == {"note": "第二个"}
        await second.save_settings("discord-guild:8", {}, T0 + 2)
        assert await second.load_settings("discord-guild:8") == {}
    finally:
        await second.close()


async def test_ids_come_from_the_database_in_commit_order(store: Store) -> None:
    """In one burst: a step's replies, and a conversation's steps, get increasing ids
    (steps of different conversations may commit in any order on a multi-writer engine)."""
    routed = RoutedPayload("tg:-5::", "telegram", {"chat_id": "-5"}, {"to": "group"})
    steps = [replace(make_step(f"e{i}", conv=conv_key(i % 5), user=user_key(i % 5),
                               texts=(f"{i}a", f"{i}b"), payloads=({"n": i}, {"m": i})),
                     routed=(routed,))
             for i in range(20)]
    results = await asyncio.gather(*(store.commit(step) for step in steps))
    made = [item for items in results if items is not None for item in items]
    assert len(made) == 60 and len({item.id for item in made}) == 60
    for items in results:
        assert items is not None and [i.id for i in items] == sorted(i.id for i in items)
        assert [i.conversation_key for i in items][2] == "tg:-5::"  # routed after its own
    for n in range(5):
        mine = [item.id for i, items in enumerate(results) if i % 5 == n
                for item in items or ()]
        assert mine == sorted(mine)
        assert [t.text for t in await store.turns(conv_key(n))] == [
            f"{i}{part}" for i in range(n, 20, 5) for part in "ab"]
        exported = await store.export_user(user_key(n))
        assert [t["seq"] for t in exported["turns"]] == list(range(1, 9))
    stored = await store.pending_outbox(limit=100)  # what commit returned is what is stored
    assert stored == sorted(made, key=lambda item: item.id)


async def test_two_stores_on_one_database_never_collide(backend: Backend) -> None:
    """Two store objects over the same data (two replicas on PostgreSQL, two connections
    to one SQLite file) committing at once: every id is given once, no turn is lost."""
    first, second = backend.make(), backend.make()
    await first.open()
    await second.open()
    try:
        async def talk(store: Store, n: int) -> list[int]:
            ids: list[int] = []
            for i in range(4):
                items = await store.commit(make_step(
                    f"e{n}:{i}", conv=conv_key(n), user=user_key(n), texts=(f"{n}-{i}",),
                    payloads=({"n": n, "i": i},)))
                assert items is not None
                ids += [item.id for item in items]
            return ids

        all_ids = await asyncio.gather(*(talk((first, second)[n % 2], n) for n in range(40)))
        flat = [i for ids in all_ids for i in ids]
        assert len(set(flat)) == len(flat) == 160
        assert all(ids == sorted(ids) for ids in all_ids)
        pending = await second.pending_outbox(limit=1000)
        assert sorted(item.id for item in pending) == sorted(flat)
        for n in range(40):
            assert [t.text for t in await first.turns(conv_key(n))] == [
                f"{n}-{i}" for i in range(4)]
    finally:
        await first.close()
        await second.close()
