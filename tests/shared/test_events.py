"""The event log and its consumers, on a real PostgreSQL with real commits."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import EventConsumer, EventRecord, check_payload, position
from tests.shared.events_support import (
    COUNTY,
    Recorder,
    current_xid,
    drain_until,
    emit,
    emit_committed,
    scan_order,
)


async def test_publish_writes_the_event_in_the_callers_transaction(fresh_db: Database) -> None:
    async with fresh_db.transaction() as session:
        event_id = await emit(session, "case.opened", deadline="2025-03-01", step=2)
        xid = await current_xid(session)
    async with fresh_db.transaction() as session:
        row = (
            await session.execute(text("SELECT * FROM events WHERE id = :id"), {"id": event_id})
        ).one()
    assert row.county_code == COUNTY
    assert row.type == "case.opened"
    assert (row.aggregate_type, row.aggregate_id) == ("case", "C-1")
    assert row.actor == "user:7"
    assert row.payload == {"deadline": "2025-03-01", "step": 2}
    assert row.xid == xid
    assert row.occurred_at is not None


async def test_publish_is_rolled_back_with_the_callers_transaction(fresh_db: Database) -> None:
    async with fresh_db.sessionmaker() as session:
        await emit(session)
        await session.rollback()
    async with fresh_db.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM events")) == 0


async def test_events_table_refuses_update_delete_and_truncate(fresh_db: Database) -> None:
    await emit_committed(fresh_db)
    for statement in (
        "UPDATE events SET actor = 'someone else'",
        "DELETE FROM events",
        "TRUNCATE events",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with fresh_db.transaction() as session:
                await session.execute(text(statement))
    async with fresh_db.transaction() as session:
        assert await session.scalar(text("SELECT actor FROM events")) == "user:7"


PERSONAL_PAYLOADS: list[dict[str, Any]] = [
    {"id_number": "whatever"},
    {"household": {"members": [{"relation": "spouse", "name": "某某"}]}},
    {"Phone": "13800000000"},
    {"note": "核实身份证 11010119900307109X 后纳入"},
    {"matches": ["110101199003071233"]},
    {"lower_x": "11010119900307109x"},
    {"as_number": 110101199003071233},
]


async def test_publish_refuses_personal_data(fresh_db: Database) -> None:
    async with fresh_db.sessionmaker() as session:
        for payload in PERSONAL_PAYLOADS:
            with pytest.raises(ValueError, match="must not hold") as raised:
                await emit(session, **payload)
            assert "1101011990030712" not in str(raised.value)
        await session.commit()
    assert await scan_order(fresh_db) == []


def test_payload_guard_allows_codes_counts_and_other_long_numbers() -> None:
    check_payload(
        {
            "region": "610326101001",
            "county": COUNTY,
            "bank_reference": "6222020200112233445",  # 19 digits: not an ID number
            # 18 digits that fail the ID check (no real birth date): a household id
            "household_id": "610326100201000123",
            "sequence": 610326100201000123,
            "counts": [1, 2, {"households": 1200}],
            "deadline": "2025-03-01",
        }
    )


# ----------------------------------------------------------------- consuming


async def test_consumer_never_skips_an_event_whose_writer_commits_late(
    fresh_db: Database,
) -> None:
    seen = Recorder()
    consumer = EventConsumer("ordering", seen)
    async with fresh_db.sessionmaker() as writer_a, fresh_db.sessionmaker() as writer_b:
        a_id = await emit(writer_a, "a")
        a_xid = await current_xid(writer_a)
        b_id = await emit(writer_b, "b")
        b_xid = await current_xid(writer_b)
        await writer_b.commit()
        assert (a_xid, a_id) < (b_xid, b_id)

        # B is committed and visible, but A (below it) may still commit: the
        # consumer must not read past A.
        assert await scan_order(fresh_db) == [b_id]
        await consumer.drain(fresh_db)
        assert seen.ids == []
        assert await position(fresh_db, "ordering") < (a_xid, a_id)

        await writer_a.commit()
    await drain_until(consumer, fresh_db, seen, 2)
    await consumer.drain(fresh_db)
    assert seen.ids == [a_id, b_id]


async def test_consumer_restarted_mid_stream_applies_every_event_once_in_order(
    fresh_db: Database,
) -> None:
    for _ in range(10):
        await emit_committed(fresh_db, 5)
    seen = Recorder()
    first = EventConsumer("restart", seen, batch_size=10)
    batches = 0
    async with asyncio.timeout(10):
        while batches < 2:
            if await first.run_once(fresh_db):
                batches += 1
            else:
                await asyncio.sleep(0.02)
    assert 0 < len(seen.events) <= 20

    await drain_until(EventConsumer("restart", seen, batch_size=10), fresh_db, seen, 50)
    assert seen.ids == await scan_order(fresh_db)
    assert len(set(seen.ids)) == 50


async def test_failing_handler_rolls_back_its_batch_and_the_position(fresh_db: Database) -> None:
    ids = await emit_committed(fresh_db, 3)
    attempts: list[list[int]] = []

    async def handler(session: AsyncSession, events: list[EventRecord]) -> None:
        attempts.append([e.id for e in events])
        if len(attempts) == 1:
            await emit(session, "side.effect")  # rolled back with the batch
            raise RuntimeError("handler failed")

    consumer = EventConsumer("flaky", handler)
    with pytest.raises(RuntimeError):
        async with asyncio.timeout(10):
            while not attempts:
                await consumer.run_once(fresh_db)
    assert await position(fresh_db, "flaky") == (0, 0)
    assert await scan_order(fresh_db) == ids

    assert await consumer.run_once(fresh_db) == 3
    assert attempts == [ids, ids]


async def test_two_replicas_of_a_consumer_apply_every_event_once(fresh_db: Database) -> None:
    for _ in range(20):
        await emit_committed(fresh_db, 10)
    seen = Recorder()

    async def slow(session: AsyncSession, events: list[EventRecord]) -> None:
        await asyncio.sleep(0.001)
        await seen(session, events)

    replicas = [EventConsumer("shared", slow, batch_size=7) for _ in range(2)]

    async def work(consumer: EventConsumer) -> None:
        while len(seen.events) < 200:
            await consumer.drain(fresh_db)
            await asyncio.sleep(0)

    async with asyncio.timeout(15):
        await asyncio.gather(*(work(c) for c in replicas))
    assert Counter(seen.ids) == Counter(await scan_order(fresh_db))
    assert len(seen.ids) == 200


async def test_run_forever_wakes_on_notify_and_stops_cleanly(fresh_db: Database) -> None:
    seen = Recorder()
    consumer = EventConsumer("listener", seen, poll_seconds=30)
    task = asyncio.create_task(consumer.run_forever(fresh_db))
    try:
        first = await emit_committed(fresh_db)
        async with asyncio.timeout(5):
            while not seen.events:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # now waiting on the notification, not polling soon
        second = await emit_committed(fresh_db)
        async with asyncio.timeout(2):
            while len(seen.events) < 2:
                await asyncio.sleep(0.01)
        assert seen.ids == first + second
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    async with asyncio.timeout(5):
        while await _listening_backends(fresh_db):
            await asyncio.sleep(0.05)


async def test_run_forever_retries_a_failed_batch(fresh_db: Database) -> None:
    seen = Recorder()
    failures = 0

    async def handler(session: AsyncSession, events: list[EventRecord]) -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise RuntimeError("temporary")
        await seen(session, events)

    task = asyncio.create_task(
        EventConsumer("retry", handler, poll_seconds=30).run_forever(fresh_db)
    )
    try:
        ids = await emit_committed(fresh_db, 2)
        async with asyncio.timeout(5):  # the first back-off is 1 s
            while len(seen.events) < 2:
                await asyncio.sleep(0.02)
        assert (failures, seen.ids) == (1, ids)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _listening_backends(db: Database) -> int:
    async with db.transaction() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
        )
