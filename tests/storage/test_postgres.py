"""What PostgreSQL must do that SQLite did in one process: migrations shared by replicas,
one update applied once across stores, claims that two replicas never share, leases that
run out after a crash, and retries when a connection drops.

Each test gets a fresh database (see tests/support/postgres.py); two stores with their
own pools on one database stand for two replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest

from leavewell.bot.settings import SettingsError, load_settings
from leavewell.storage.base import RoundRecord, RoutedPayload
from leavewell.storage.factory import make_store
from leavewell.storage.migrate import MigrationError, SchemaTooNewError
from leavewell.storage.postgres import PostgresStore
from tests.storage.test_contract import T0, conv_key, make_step, user_key
from tests.support.postgres import fresh_database, two_replicas

asyncpg = pytest.importorskip("asyncpg", reason="asyncpg is not installed (leavewell[postgres])")


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with fresh_database() as database_url:
        yield database_url


@pytest.fixture
async def replicas(url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    async with two_replicas(url) as both:
        yield both


async def scalar(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


# -- selecting it -----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["postgresql://bot@db/leavewell", "postgres://bot@db/leavewell",
                                 "postgresql+asyncpg://bot@db/leavewell"])
def test_postgres_urls_select_the_postgres_store(url: str) -> None:
    store = make_store(url, pool_min=2, pool_max=7)
    assert isinstance(store, PostgresStore)
    assert store.dsn == "postgresql://bot@db/leavewell"
    assert (store.pool_min, store.pool_max) == (2, 7)


def test_settings_accept_postgres_and_check_the_pool_bounds() -> None:
    settings = load_settings({"database_url": "postgres://bot@db/leavewell",
                              "database_pool_max": 20})
    assert settings.database_url.startswith("postgres://") and settings.database_pool_max == 20
    with pytest.raises(SettingsError, match="POOL_MIN"):
        load_settings({"database_url": "postgres://bot@db/x", "database_pool_min": 5,
                       "database_pool_max": 2})


def test_the_lock_pool_size_is_a_setting_passed_to_the_store() -> None:
    assert load_settings({}).database_lock_pool_max == 10
    settings = load_settings({"database_url": "postgres://bot@db/x",
                              "database_lock_pool_max": 3})
    store = make_store(settings.database_url, lock_pool_max=settings.database_lock_pool_max)
    assert isinstance(store, PostgresStore) and store.lock_pool_max == 3
    with pytest.raises(SettingsError, match="database_lock_pool_max"):
        load_settings({"database_lock_pool_max": 0})


def test_the_postgres_store_meets_both_protocols() -> None:
    # Protocols are not checked at runtime, so compare the method signatures by name.
    import inspect

    from leavewell.storage.base import Store, WorkClaims

    for protocol in (Store, WorkClaims):
        for name, method in inspect.getmembers(protocol, inspect.isfunction):
            if not name.startswith("_"):
                ours = getattr(PostgresStore, name)
                assert inspect.signature(ours).parameters.keys() == inspect.signature(
                    method).parameters.keys(), name


def test_password_stays_out_of_messages() -> None:
    store = PostgresStore("postgresql://bot:hunter2@db:5432/leavewell")
    assert "hunter2" not in store._where()
    assert store._where() == "postgresql://bot@db:5432/leavewell"


# -- migrations -------------------------------------------------------------------------


async def test_migrations_from_empty_then_a_rerun_changes_nothing(url: str) -> None:
    store = PostgresStore(url)
    await store.open()
    latest = store.latest_version
    assert store.applied_migrations == tuple(range(1, latest + 1))
    assert await store.schema_version() == latest
    await store.close()
    store = PostgresStore(url)
    await store.open()
    try:
        assert store.applied_migrations == ()
        assert await store.schema_version() == latest
    finally:
        await store.close()
    assert await scalar(url, "SELECT string_agg(version::text, ',' ORDER BY version) "
                             "FROM schema_version") == ",".join(map(str, range(1, latest + 1)))


async def test_replicas_starting_together_migrate_once(url: str) -> None:
    stores = [PostgresStore(url) for _ in range(3)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        everything = tuple(range(1, stores[0].latest_version + 1))
        assert sorted(s.applied_migrations for s in stores) == [(), (), everything]
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_a_database_newer_than_the_code_is_refused(url: str) -> None:
    store = PostgresStore(url)
    await store.open()
    await store.close()
    conn = await asyncpg.connect(url)
    future = store.latest_version + 1
    await conn.execute("INSERT INTO schema_version (version, name) VALUES ($1, 'future.sql')",
                       future)
    await conn.close()
    with pytest.raises(SchemaTooNewError, match=f"schema version {future}"):
        await store.open()
    with pytest.raises(Exception, match="not open"):
        await store.load("tg:1:1:0", "tg:1")


async def test_a_failing_migration_rolls_back_alone(url: str, tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE first (id INTEGER);\n")
    (tmp_path / "0002_broken.sql").write_text(
        "CREATE TABLE second (id INTEGER);\nCREATE TABLE first (id INTEGER);\n")
    with pytest.raises(MigrationError, match=r"0002_broken\.sql"):
        await PostgresStore(url, migrations=tmp_path).open()
    assert await scalar(url, "SELECT MAX(version) FROM schema_version") == 1
    assert await scalar(url, "SELECT to_regclass('second')") is None  # its first half too

    (tmp_path / "0002_broken.sql").write_text("CREATE TABLE second (id INTEGER);\n")
    fixed = PostgresStore(url, migrations=tmp_path)
    await fixed.open()
    assert fixed.applied_migrations == (2,)
    await fixed.close()


async def test_0003_moves_server_settings_out_of_users(url: str, tmp_path: Path) -> None:
    packaged = resources.files("leavewell.storage") / "migrations" / "postgres"
    for name in ("0001_initial.sql", "0002_claims.sql"):
        (tmp_path / name).write_text((packaged / name).read_text(encoding="utf-8"))
    old = PostgresStore(url, migrations=tmp_path)
    await old.open()
    await old.close()
    conn = await asyncpg.connect(url)  # as the Discord adapter stored them before 0003
    await conn.executemany(
        "INSERT INTO users (user_key, profile, created_at, updated_at) VALUES ($1, $2, $3, $4)",
        [("discord-guild:42", '{"allowed_channels":[7,8]}', 1.0, 2.0),
         ("discord:42", '{"lang":"zh"}', 1.0, 1.0)])
    await conn.close()
    store = PostgresStore(url)
    await store.open()
    try:
        assert 3 in store.applied_migrations
        assert await store.load_settings("discord-guild:42") == {"allowed_channels": [7, 8]}
        assert await store.load("discord-guild:42", "discord-guild:42") == (None, None)
        user, _ = await store.load("x", "discord:42")
        assert user is not None and user.profile == {"lang": "zh"}
    finally:
        await store.close()
    assert await scalar(url, "SELECT string_agg(user_key, ',') FROM users") == "discord:42"
    assert await scalar(url, "SELECT updated_at FROM settings") == 2.0


# -- one update, two replicas -----------------------------------------------------------


async def test_an_update_delivered_to_two_replicas_at_once_is_processed_once(
    replicas: tuple[PostgresStore, PostgresStore], url: str
) -> None:
    first, second = replicas
    updates = 60
    outcomes = await asyncio.gather(*(
        store.commit(make_step(f"tg:{n}", conv=conv_key(n), user=user_key(n),
                               texts=(f"from {name}",)))
        for n in range(updates) for name, store in (("first", first), ("second", second))))
    pairs = list(zip(outcomes[::2], outcomes[1::2], strict=True))
    assert all((a is None) != (b is None) for a, b in pairs)  # exactly one of each pair
    assert await scalar(url, "SELECT count(*) FROM processed_events") == updates
    assert await scalar(url, "SELECT count(*) FROM turns") == updates
    assert await scalar(url, "SELECT count(*) FROM outbox") == updates
    for n in range(updates):
        assert len(await second.turns(conv_key(n))) == 1


async def test_two_replicas_writing_one_conversation_keep_its_order(
    replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    first, second = replicas
    for i in range(0, 40, 2):  # each pair races; the per-conversation lock orders them
        await asyncio.gather(first.commit(make_step(f"e{i}", texts=(f"t{i}",))),
                             second.commit(make_step(f"e{i + 1}", texts=(f"t{i + 1}",))))
    texts = [t.text for t in await first.turns("tg:1:1:0")]
    assert sorted(texts) == sorted(f"t{i}" for i in range(40))
    for i in range(0, 40, 2):  # a pair's two turns are adjacent, whichever won the lock
        assert {texts[i], texts[i + 1]} == {f"t{i}", f"t{i + 1}"}
    exported = await second.export_user("tg:1")
    assert [t["seq"] for t in exported["turns"]] == list(range(1, 41))


# -- claims -----------------------------------------------------------------------------


async def test_two_replicas_claiming_the_outbox_never_take_the_same_row(
    replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    first, second = replicas
    created = []
    for n in range(100):
        items = await first.commit(make_step(f"e{n}", conv=conv_key(n), user=user_key(n),
                                             payloads=({"n": n}, {"n": -n})))
        assert items is not None
        created += [item.id for item in items]

    async def drain(store: PostgresStore) -> list[int]:
        taken: list[int] = []
        while batch := await store.claim_outbox(limit=7):
            taken += [item.id for item in batch]
            await asyncio.sleep(0)
        return taken

    by_first, by_second = await asyncio.gather(drain(first), drain(second))
    assert not set(by_first) & set(by_second)
    assert sorted(by_first + by_second) == sorted(created)
    assert by_first and by_second  # both replicas did share the work
    assert await first.claim_outbox() == []  # all held until their leases run out


async def test_commit_held_claims_the_steps_own_rows_for_its_lease_only(
    replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    first, second = replicas
    routed = RoutedPayload(conv_key(9), "telegram", {"chat_id": "9"}, {"to": "group"})
    step = replace(make_step("e1", payloads=({"a": 1}, {"b": 2})), routed=(routed,))
    calls = first.stats.calls
    done = await first.commit_held(step, 0.5)
    assert first.stats.calls == calls + 1  # one round trip, as commit
    assert done is not None and not done.older_unsent
    own = [i.id for i in done.items if i.conversation_key == "tg:1:1:0"]
    assert len(own) == 2
    # the other replica sees the own rows held, the routed one free
    assert [i.payload for i in await second.claim_outbox()] == [{"to": "group"}]
    later = await second.commit_held(make_step("e2", payloads=({"c": 3},)), 0.5)
    assert later is not None and later.older_unsent  # the held rows are still unsent
    await asyncio.sleep(0.7)  # the leases run out: a dead holder's rows are taken over
    taken = await second.claim_outbox(conversation_key="tg:1:1:0")
    assert [i.id for i in taken] == [*own, later.items[0].id]
    assert await first.commit(make_step("e3", payloads=())) is not None


async def test_claiming_in_order_stops_at_the_first_row_another_lease_holds(
    replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    first, second = replicas
    other = await first.commit_held(make_step("e1", payloads=({"n": 1},)), 60)
    free = await first.commit(make_step("e2", payloads=({"n": 2},)))
    mine = await second.commit_held(make_step("e3", payloads=({"n": 3},)), 60)
    await first.commit(make_step("e4", conv=conv_key(2), user=user_key(2)))  # elsewhere
    assert other is not None and free is not None and mine is not None
    calls = second.stats.calls
    held = [mine.items[0].id]
    assert await second.claim_outbox_in_order("tg:1:1:0", held=held) == (
        [], other.items[0].id)
    assert second.stats.calls == calls + 1
    # nothing past the blocker was claimed: the first replica may claim the free row
    assert [i.id for i in await first.claim_outbox(conversation_key="tg:1:1:0")] == [
        free[0].id]
    await first.mark_sent([other.items[0].id])
    assert await second.claim_outbox_in_order("tg:1:1:0", held=held) == ([], free[0].id)
    await first.mark_sent([free[0].id])
    ready, blocked = await second.claim_outbox_in_order("tg:1:1:0", held=held)
    assert [i.payload for i in ready] == [{"n": 3}] and blocked is None
    await second.mark_sent(held)
    assert await second.claim_outbox_in_order("tg:1:1:0") == ([], None)


async def test_claiming_in_order_takes_free_rows_oldest_first_and_holds_them(
    replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    first, second = replicas
    made = []
    for n in range(5):
        items = await first.commit(make_step(f"e{n}", payloads=({"n": n},)))
        assert items is not None
        made.append(items[0].id)
    ready, blocked = await first.claim_outbox_in_order("tg:1:1:0", limit=3)
    assert [i.id for i in ready] == made[:3] and blocked == made[3]  # past the limit: waits
    assert await second.claim_outbox_in_order("tg:1:1:0") == ([], made[0])
    ready, blocked = await first.claim_outbox_in_order("tg:1:1:0", held=made[:3])
    assert [i.id for i in ready] == made and blocked is None


async def test_two_replicas_claiming_deadlines_never_take_the_same_conversation(
    replicas: tuple[PostgresStore, PostgresStore]
) -> None:
    first, second = replicas
    for n in range(80):
        await first.commit(make_step(f"e{n}", conv=conv_key(n), user=user_key(n),
                                     deadline=T0 + n, payloads=()))

    async def drain(store: PostgresStore) -> list[str]:
        taken: list[str] = []
        while batch := await store.claim_due_deadlines(T0 + 1000, limit=5):
            taken += [c.conversation_key for c in batch]
            await asyncio.sleep(0)
        return taken

    by_first, by_second = await asyncio.gather(drain(first), drain(second))
    assert not set(by_first) & set(by_second)
    assert sorted(by_first + by_second) == sorted(conv_key(n) for n in range(80))
    assert await second.claim_due_deadlines(T0 + 1000) == []
    # The timeout handled (the conversation written again) frees the row for later deadlines.
    await second.commit(make_step("late", conv=conv_key(3), user=user_key(3),
                                  deadline=T0 + 5000, payloads=()))
    assert await first.claim_due_deadlines(T0 + 1000) == []
    assert [c.conversation_key for c in await first.claim_due_deadlines(T0 + 5000)] == [
        conv_key(3)]


async def test_a_crashed_replicas_lease_runs_out_and_another_claims_again(url: str) -> None:
    crashed, survivor = PostgresStore(url), PostgresStore(url)
    await crashed.open()
    await survivor.open()
    try:
        items = await crashed.commit(make_step("e1", deadline=T0, payloads=({"a": 1}, {"b": 2})))
        assert items is not None
        await crashed.commit(replace(make_step("e2", deadline=T0, payloads=()), rounds=(
            RoundRecord("r1", "tg:-1:", {"stage": "open"}, T0, True),)))
        assert len(await crashed.claim_outbox(lease_seconds=0.5)) == 2
        assert len(await crashed.claim_due_deadlines(T0, lease_seconds=0.5)) == 1
        assert len(await crashed.claim_due_rounds(T0, lease_seconds=0.5)) == 1
        pool = crashed._pool
        assert pool is not None
        pool.terminate()  # the replica dies: no mark, no release, connections cut
        crashed._pool = None

        assert await survivor.claim_outbox() == []
        assert await survivor.claim_due_deadlines(T0) == []
        assert await survivor.claim_due_rounds(T0) == []
        await asyncio.sleep(0.7)
        again = await survivor.claim_outbox(lease_seconds=60)
        assert [item.id for item in again] == [item.id for item in items]
        assert [c.conversation_key for c in await survivor.claim_due_deadlines(T0)] == [
            "tg:1:1:0"]
        assert [r.round_id for r in await survivor.claim_due_rounds(T0)] == ["r1"]

        await survivor.mark_sent([items[0].id])
        await asyncio.sleep(0)
        assert [item.id for item in await survivor.pending_outbox()] == [items[1].id]
    finally:
        await survivor.close()
        await crashed.close()  # after a failure before the "crash"


# -- retries ----------------------------------------------------------------------------


async def test_a_dropped_connection_is_retried(url: str) -> None:
    store = PostgresStore(url, pool_min=1, pool_max=1)
    await store.open()
    try:
        await store.commit(make_step("e1"))
        # Every connection of the pool is cut by the server, as in a failover.
        conn = await asyncpg.connect(url)
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        await conn.close()
        assert killed == 1
        # Whether the client notices the cut before or during the next query, the step
        # goes through (in the second case on a second attempt).
        assert await store.commit(make_step("e2", texts=("after",))) is not None
        assert store.stats.retries <= 1
        assert [t.text for t in await store.turns("tg:1:1:0")] == ["hello", "after"]
    finally:
        await store.close()


@pytest.mark.parametrize("event_id", ["e1", None])
async def test_a_step_cut_in_the_middle_is_retried_whole_only_if_repeatable(
        url: str, event_id: str | None) -> None:
    store = PostgresStore(url, pool_min=1, pool_max=2)
    await store.open()
    admin = await asyncpg.connect(url)
    try:
        # Another replica holds the conversation, so the step waits inside its transaction.
        await admin.execute("SELECT pg_advisory_lock(hashtextextended('c:tg:1:1:0', 0))")
        commit = asyncio.create_task(store.commit(make_step(event_id, texts=("once",))))
        waiting = 0
        for _ in range(200):
            waiting = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND state = 'active'")
            if waiting:
                break
            await asyncio.sleep(0.01)
        assert waiting == 1
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'")
        await asyncio.sleep(0.1)
        await admin.execute("SELECT pg_advisory_unlock_all()")
        if event_id is not None:  # the event id makes a repeat harmless
            assert await commit is not None
            assert store.stats.retries == 1
            assert [t.text for t in await store.turns("tg:1:1:0")] == ["once"]
        else:  # its COMMIT might have happened: the caller is told, nothing is repeated
            with pytest.raises(asyncpg.ConnectionDoesNotExistError):
                await commit
            assert store.stats.retries == 0
            assert await store.turns("tg:1:1:0") == []
    finally:
        await admin.close()
        await store.close()


# -- Store.lock across replicas ------------------------------------------------------------

_ADVISORY_HOLDERS = """
SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


async def test_a_pooled_connection_comes_back_without_a_reset_round_trip(url: str) -> None:
    store = PostgresStore(url, pool_min=1, pool_max=1)
    await store.open()
    try:
        pool = store._pool
        assert pool is not None
        await store.commit(make_step("e0"))  # asyncpg learns the step's types once
        queries: list[str] = []
        async with pool.acquire() as conn:
            conn.add_query_logger(lambda record: queries.append(record.query))
        await store.load("tg:1:1:0", "tg:1")
        await store.commit(make_step("e1"))
        assert len(queries) == 2  # the load and the step: nothing after either
        # a transaction left open is still rolled back before the connection is reused
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            await conn.execute("DELETE FROM users")
        assert "ROLLBACK" in queries[-1]
        user, _ = await store.load("tg:1:1:0", "tg:1")
        assert user is not None
        assert await scalar(url, "SELECT count(*) FROM users") == 1
    finally:
        await store.close()


async def test_two_replicas_exclude_each_other_on_one_key(
        replicas: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = replicas
    inside: list[str] = []
    held, let_go = asyncio.Event(), asyncio.Event()

    async def one() -> None:
        async with first.lock("tg:1:1:0"):
            inside.append("first")
            held.set()
            await let_go.wait()
            inside.append("first out")

    async def two() -> None:
        async with second.lock("tg:1:1:0"):
            inside.append("second")

    a = asyncio.create_task(one())
    await held.wait()
    b = asyncio.create_task(two())
    await asyncio.sleep(0.3)
    assert inside == ["first"]  # `second` waits on the database, in another process's pool
    async with second.lock("tg:2:2:0"):  # another key is free meanwhile
        pass
    let_go.set()
    await asyncio.wait_for(asyncio.gather(a, b), 10)
    assert inside == ["first", "first out", "second"]


async def test_several_keys_are_taken_in_one_query_and_held_across_replicas(
        replicas: tuple[PostgresStore, PostgresStore]) -> None:
    first, second = replicas
    queries: list[str] = []
    async with first.lock("tg:1:1:0", "user:tg:1", "tg:1:1:0"):
        (session,) = first._lock_sessions.values()
        session.conn.add_query_logger(lambda record: queries.append(record.query))
        holders = await first._fetch(_ADVISORY_HOLDERS)
        assert len(holders) == 2 and len({row["pid"] for row in holders}) == 1
        waiting = asyncio.create_task(hold(second, "user:tg:1", "tg:1:1:0"))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # the other replica waits on the database
    assert len(queries) == 1  # the release: all keys in one query
    await asyncio.wait_for(waiting, 10)
    assert await first._fetch(_ADVISORY_HOLDERS) == []


async def hold(store: PostgresStore, *keys: str) -> None:
    async with store.lock(*keys):
        pass


async def test_nested_locks_reuse_the_tasks_connection(url: str) -> None:
    store = PostgresStore(url, pool_max=2, lock_pool_max=1)
    await store.open()
    try:
        async def nested(n: int) -> int:
            async with store.lock(f"c:{n}"), store.lock(f"u:{n}"), store.lock(f"r:{n}"):
                await asyncio.sleep(0.01)
                return n

        # One lock connection: each task holds its three keys on it in turn.
        done = await asyncio.wait_for(asyncio.gather(*(nested(n) for n in range(5))), 10)
        assert done == list(range(5))
    finally:
        await store.close()


async def test_a_held_lock_does_not_block_a_step_on_the_same_key(url: str) -> None:
    store = PostgresStore(url, pool_max=2)
    await store.open()
    try:
        conv = conv_key(1)
        # A step locks "c:<conversation>" (seed 0); Store.lock hashes with its own seed.
        async with store.lock(f"c:{conv}"), store.lock(conv):
            created = await asyncio.wait_for(store.commit(make_step("tg:1", conv=conv)), 10)
        assert created
    finally:
        await store.close()


async def test_a_failed_unlock_closes_the_connection_and_frees_the_key(
        replicas: tuple[PostgresStore, PostgresStore], caplog: pytest.LogCaptureFixture) -> None:
    first, second = replicas
    async with first.lock("k"):
        (pid,) = [row["pid"] for row in await first._fetch(_ADVISORY_HOLDERS)]
        assert await first._fetch("SELECT pg_terminate_backend($1)", pid)
        await asyncio.sleep(0.1)
    assert "releasing lock 'k' failed" in caplog.text
    # The unlock failed, quietly: the session's end released the key on the server.
    async with asyncio.timeout(10), second.lock("k"):
        pass
    async with asyncio.timeout(10), first.lock("k"):  # the lock pool carries on
        pass
    assert first._lock_sessions == {}


async def test_a_cancelled_lock_wait_closes_its_connection(
        replicas: tuple[PostgresStore, PostgresStore], url: str) -> None:
    first, second = replicas
    held, let_go = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with first.lock("k"):
            held.set()
            await let_go.wait()

    async def wait() -> None:
        async with second.lock("k"):
            pass

    holder = asyncio.create_task(hold())
    await held.wait()
    waiter = asyncio.create_task(wait())
    await asyncio.sleep(0.3)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    let_go.set()
    await holder
    # The closed session's server process may still take "k" as the holder lets go (a
    # process waiting on a lock reads nothing from its client), then finds its client
    # gone and ends, which frees it: "k" is soon held by nobody.
    async with asyncio.timeout(10):
        while await scalar(url, _ADVISORY_HOLDERS) is not None:
            await asyncio.sleep(0.05)
    async with asyncio.timeout(10), second.lock("k"):
        pass
    assert second._lock_sessions == {}
