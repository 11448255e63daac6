"""What the event tests share: a recording handler and ways to write events."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.events import EventConsumer, EventRecord, publish

COUNTY = "610326"


class Recorder:
    """A handler that remembers every event it was given."""

    def __init__(self) -> None:
        self.events: list[EventRecord] = []
        self.calls = 0

    async def __call__(self, session: AsyncSession, events: list[EventRecord]) -> None:
        self.calls += 1
        self.events.extend(events)

    @property
    def ids(self) -> list[int]:
        return [e.id for e in self.events]


async def emit(session: AsyncSession, type: str = "case.opened", **payload: Any) -> int:
    return await publish(
        session,
        type=type,
        aggregate=("case", "C-1"),
        county_code=COUNTY,
        actor="user:7",
        payload=payload,
    )


async def emit_committed(db: Database, count: int = 1, type: str = "case.opened") -> list[int]:
    """`count` events in one committed transaction."""
    async with db.transaction() as session:
        return [await emit(session, type, n=i) for i in range(count)]


async def current_xid(session: AsyncSession) -> int:
    return int(await session.scalar(text("SELECT pg_current_xact_id()::text::bigint")))


async def drain_until(consumer: EventConsumer, db: Database, seen: Recorder, n: int) -> None:
    """Drain until the handler has seen `n` events. A writing transaction anywhere
    on the server (another test run sharing TEST_DATABASE_URL) may hold a
    consumer back for a moment; that is the design, so wait it out."""
    async with asyncio.timeout(10):
        while True:
            await consumer.drain(db)
            if len(seen.events) >= n:
                return
            await asyncio.sleep(0.02)


async def scan_order(db: Database) -> list[int]:
    async with db.transaction() as session:
        return list(await session.scalars(text("SELECT id FROM events ORDER BY xid, id")))


# ---------------------------------------------------------------- publishing
