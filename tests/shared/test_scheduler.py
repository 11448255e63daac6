"""Scheduled jobs: one run per due time across replicas, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import clock, scheduler
from shared.db import Database
from shared.scheduler import Job, due_time, run_job, start_scheduler

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 5, 10, 30, tzinfo=UTC)


async def job_runs(db: Database) -> list[tuple[str, datetime, dict[str, Any]]]:
    async with db.transaction() as session:
        rows = await session.execute(
            text("SELECT job_name, due_at, outcome FROM job_runs ORDER BY due_at")
        )
        return [tuple(row) for row in rows]


# ------------------------------------------------------------------ due times


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 3, 3, 0, 0, tzinfo=SHANGHAI), datetime(2025, 3, 3, tzinfo=SHANGHAI)),
        (datetime(2025, 3, 9, 23, 59, 59, tzinfo=SHANGHAI), datetime(2025, 3, 3, tzinfo=SHANGHAI)),
        # Sunday 16:30 UTC is already Monday 00:30 in Shanghai.
        (datetime(2025, 3, 9, 16, 30, tzinfo=UTC), datetime(2025, 3, 10, tzinfo=SHANGHAI)),
        (datetime(2025, 3, 9, 15, 59, tzinfo=UTC), datetime(2025, 3, 3, tzinfo=SHANGHAI)),
        (datetime(2031, 7, 17, 8, 0, tzinfo=UTC), datetime(2031, 7, 14, tzinfo=SHANGHAI)),
    ],
)
def test_weekly_due_time_falls_on_monday_midnight_in_shanghai(
    now: datetime, expected: datetime
) -> None:
    job = Job("weekly-snapshot", _noop, every=timedelta(weeks=1))
    due = due_time(job, now)
    assert due == expected
    local = due.astimezone(SHANGHAI)
    assert (local.weekday(), local.hour, local.minute, local.second) == (0, 0, 0, 0)
    assert due <= now < due + timedelta(weeks=1)


def test_due_time_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError):
        due_time(Job("j", _noop, every=timedelta(hours=1)), datetime(2025, 1, 1))


async def _noop(session: AsyncSession, *, now: datetime) -> None:
    return None


# -------------------------------------------------------------------- run_job


async def test_concurrent_runs_of_one_due_time_run_the_job_once(fresh_db: Database) -> None:
    calls: list[datetime] = []

    async def scan(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
        calls.append(now)
        await asyncio.sleep(0.3)  # still running when the other replica arrives
        return {"marked": 3}

    job = Job("overdue-scan", scan, every=timedelta(hours=1))
    outcomes = await asyncio.gather(
        run_job(fresh_db, job, now=NOW), run_job(fresh_db, job, now=NOW)
    )

    assert len(calls) == 1
    assert sorted(o.split(":")[0] for o in outcomes) == ["ran", "skipped"]
    assert 'ran: {"marked":3}' in outcomes
    due = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
    assert await job_runs(fresh_db) == [("overdue-scan", due, {"marked": 3})]

    later = await run_job(fresh_db, job, now=NOW + timedelta(minutes=20))
    assert later == f"skipped: already ran for {due_time(job, NOW).isoformat()}"
    assert len(calls) == 1

    assert (await run_job(fresh_db, job, now=NOW + timedelta(hours=1))).startswith("ran:")
    assert len(calls) == 2


async def test_manual_run_runs_inside_a_due_period_that_already_ran(fresh_db: Database) -> None:
    calls: list[datetime] = []

    async def scan(session: AsyncSession, *, now: datetime) -> None:
        calls.append(now)

    job = Job("feed-cadence-scan", scan, every=timedelta(hours=1))
    assert (await run_job(fresh_db, job, now=NOW)).startswith("ran:")
    manual_at = NOW + timedelta(minutes=5)
    assert await run_job(fresh_db, job, now=manual_at, manual=True) == "ran: {}"
    assert calls == [NOW, manual_at]
    assert [due for _, due, _ in await job_runs(fresh_db)] == [due_time(job, NOW), manual_at]


async def test_failed_job_leaves_no_run_so_the_due_time_is_retried(fresh_db: Database) -> None:
    async def broken(session: AsyncSession, *, now: datetime) -> None:
        await session.execute(text("CREATE TABLE half_done (x int)"))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_job(fresh_db, Job("gap-scan", broken, every=timedelta(hours=1)), now=NOW)
    assert await job_runs(fresh_db) == []
    async with fresh_db.transaction() as session:
        assert await session.scalar(text("SELECT to_regclass('half_done')")) is None

    fixed = Job("gap-scan", _noop, every=timedelta(hours=1))
    assert await run_job(fresh_db, fixed, now=NOW + timedelta(minutes=1)) == "ran: {}"


# ------------------------------------------------------------------ scheduler


async def test_two_schedulers_run_each_due_time_once(fresh_db: Database) -> None:
    async with fresh_db.transaction() as session:
        await session.execute(text("CREATE TABLE job_calls (due_at timestamptz NOT NULL)"))
    calls: list[datetime] = []

    async def tick(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
        due = due_time(job, now)
        calls.append(due)
        await session.execute(text("INSERT INTO job_calls VALUES (:due)"), {"due": due})
        await asyncio.sleep(0.05)
        return {"due": due.isoformat()}

    job = Job("tick", tick, every=timedelta(seconds=1))
    replicas = [start_scheduler(fresh_db, [job]) for _ in range(2)]
    try:
        await asyncio.sleep(3.5)
    finally:
        for replica in replicas:
            replica.shutdown(wait=False)
    await asyncio.sleep(0.2)  # let a cancelled run roll back

    assert len(calls) >= 3
    assert set(Counter(calls).values()) == {1}
    async with fresh_db.transaction() as session:
        committed = Counter(await session.scalars(text("SELECT due_at FROM job_calls")))
    assert set(committed.values()) == {1}
    assert sorted(committed) == [due for _, due, _ in await job_runs(fresh_db)]
    assert len(committed) >= 3


async def test_scheduler_catches_up_at_start_and_retries_a_failed_run(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler, "RETRY_AFTER", timedelta(milliseconds=200))
    attempts: list[datetime] = []

    async def snapshot(session: AsyncSession, *, now: datetime) -> dict[str, int]:
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")
        return {"rows": 1}

    # Weekly: its next regular due time is days away, so only the start-up run
    # and the retry can have run it.
    job = Job("weekly-snapshot", snapshot, every=timedelta(weeks=1))
    replica = start_scheduler(fresh_db, [job])
    try:
        async with asyncio.timeout(5):
            while not await job_runs(fresh_db):
                await asyncio.sleep(0.05)
    finally:
        replica.shutdown(wait=False)
    assert len(attempts) == 2
    assert await job_runs(fresh_db) == [
        ("weekly-snapshot", due_time(job, clock.now()), {"rows": 1})
    ]
