"""A consumer's batches: wanted events handed over, the others passed in the
database, and a leading consumer's backlog first."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import events as events_module
from shared.db import Database
from shared.events import EventConsumer, EventRecord, position
from tests.shared.events_support import (
    Recorder,
    emit,
    emit_committed,
)


async def test_consumer_filters_types_but_moves_past_the_others(fresh_db: Database) -> None:
    (a1,) = await emit_committed(fresh_db, type="a")
    await emit_committed(fresh_db, type="b")
    (a2,) = await emit_committed(fresh_db, type="a")
    await emit_committed(fresh_db, 2, type="b")
    seen = Recorder()
    consumer = EventConsumer("only-a", seen, types=frozenset({"a"}), batch_size=1)

    async with fresh_db.transaction() as session:
        newest = (
            await session.execute(text("SELECT xid, id FROM events ORDER BY xid DESC, id DESC"))
        ).first()
    async with asyncio.timeout(10):
        while await position(fresh_db, "only-a") != tuple(newest):
            await consumer.drain(fresh_db)
            await asyncio.sleep(0.01)
    assert seen.ids == [a1, a2]
    assert seen.calls == 2  # batches holding only "b" events call no handler


async def test_a_batch_hands_over_batch_size_wanted_events_and_passes_the_others(
    fresh_db: Database,
) -> None:
    async with fresh_db.transaction() as session:
        ids = [
            await emit(session, type, n=i)
            for i, type in enumerate(["b", "a", "b", "b", "a", "b", "b"])
        ]
    seen = Recorder()
    consumer = EventConsumer("one-a-a-batch", seen, types=frozenset({"a"}), batch_size=1)
    async with asyncio.timeout(10):
        while not (scanned := await consumer.run_once(fresh_db)):
            await asyncio.sleep(0.02)

    # One wanted event a batch: the first batch keeps everything before the
    # second "a" (b a b b), hands over the first "a" with its payload, and the
    # position is the last "b" it passed.
    assert scanned == 4
    assert seen.ids == [ids[1]]
    assert [e.payload for e in seen.events] == [{"n": 1}]
    assert (await position(fresh_db, "one-a-a-batch"))[1] == ids[3]

    # The rest (a b b) in the next batch, then nothing.
    assert await consumer.run_once(fresh_db) == 3
    assert seen.ids == [ids[1], ids[4]]
    assert (await position(fresh_db, "one-a-a-batch"))[1] == ids[6]
    assert await consumer.run_once(fresh_db) == 0
    assert seen.calls == 2


async def test_a_batch_passes_at_most_scan_size_events(fresh_db: Database) -> None:
    ids = await emit_committed(fresh_db, 5, type="b")
    seen = Recorder()
    consumer = EventConsumer("scans-two", seen, types=frozenset({"a"}), batch_size=1, scan_size=2)
    async with asyncio.timeout(10):
        while not (scanned := await consumer.run_once(fresh_db)):
            await asyncio.sleep(0.02)
    assert scanned == 2
    assert (await position(fresh_db, "scans-two"))[1] == ids[1]
    assert seen.calls == 0


async def test_the_others_wait_while_a_leading_consumer_works_through_its_backlog(
    fresh_db: Database,
) -> None:
    ids = await emit_committed(fresh_db, 3)
    order: list[tuple[str, int]] = []
    leader_inside = asyncio.Event()

    async def leader_handler(session: AsyncSession, events: list[EventRecord]) -> None:
        leader_inside.set()
        await asyncio.sleep(0.2)
        order.extend(("leader", e.id) for e in events)

    async def follower_handler(session: AsyncSession, events: list[EventRecord]) -> None:
        order.extend(("follower", e.id) for e in events)

    leader = EventConsumer("leader", leader_handler, batch_size=1, leads=True, poll_seconds=30)
    follower = EventConsumer("follower", follower_handler, batch_size=10, poll_seconds=30)
    tasks = [asyncio.create_task(leader.run_forever(fresh_db))]
    try:
        async with asyncio.timeout(5):
            await leader_inside.wait()
        tasks.append(asyncio.create_task(follower.run_forever(fresh_db)))
        async with asyncio.timeout(5):
            while len(order) < 6:
                await asyncio.sleep(0.02)
        # The follower applied nothing until the leader's last batch came back short.
        assert order == [("leader", i) for i in ids] + [("follower", i) for i in ids]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_leading_consumer_holds_the_others_back_for_a_bounded_time(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_module, "_leading", {"a leader that never finishes"})
    monkeypatch.setattr(events_module, "_YIELD_MAX_SECONDS", 0.5)
    seen = Recorder()
    task = asyncio.create_task(
        EventConsumer("patient", seen, poll_seconds=30).run_forever(fresh_db)
    )
    try:
        started = asyncio.get_running_loop().time()
        ids = await emit_committed(fresh_db, 2)
        async with asyncio.timeout(5):
            while len(seen.events) < 2:
                await asyncio.sleep(0.02)
        assert seen.ids == ids
        assert asyncio.get_running_loop().time() - started >= 0.5
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_batch_is_planned_for_itself_and_only_inside_its_transaction(
    fresh_db: Database,
) -> None:
    # A consumer's statements bind arrays as big as its batch: a plan cached for
    # a few elements must not serve 20,000 (shared/event_positions.py TRY_LOCK).
    modes: list[str] = []

    async def handler(session: AsyncSession, events: list[EventRecord]) -> None:
        modes.append(await session.scalar(text("SELECT current_setting('plan_cache_mode')")))

    await emit_committed(fresh_db, 2)
    consumer = EventConsumer("plans", handler)
    async with asyncio.timeout(10):
        while not modes:
            await consumer.drain(fresh_db)
    assert modes == ["force_custom_plan"]
    async with fresh_db.transaction() as session:
        assert await session.scalar(text("SELECT current_setting('plan_cache_mode')")) == "auto"
