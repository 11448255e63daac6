"""The overdue scan: undecided cases past their deadline are marked and
announced with `case.overdue`, once per case (SPEC §7)."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import entry_points

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.overdue import scan_overdue
from services.identification.jobs import JOBS, OVERDUE_SCAN
from shared.db import Database
from shared.scheduler import run_job
from tests.test_cli import run_cli

COUNTY = "610326"
VILLAGE = "610326100201"
DEADLINE = date(2026, 12, 5)
# 2026-12-05 23:30 and 2026-12-06 00:30 in Asia/Shanghai.
LAST_HOUR_OF_DEADLINE = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
FIRST_HOUR_AFTER = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)
DAY = timedelta(days=1)


async def add_case(
    session: AsyncSession, household_id: str, deadline: date = DEADLINE, *, decided: bool = False
) -> str:
    case_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO cases (case_id, county_code, household_id, region_code, source,"
            " opened_on, deadline, state, decided_on, outcome, opened_by)"
            " VALUES (:id, :county, :household, :region, 'self_report', :opened, :deadline,"
            " :state, :decided_on, :outcome, 'test')"
        ),
        {
            "id": case_id,
            "county": COUNTY,
            "household": household_id,
            "region": VILLAGE,
            "opened": deadline - 15 * DAY,
            "deadline": deadline,
            "state": "decided" if decided else "open",
            "decided_on": deadline - DAY if decided else None,
            "outcome": "not_included" if decided else None,
        },
    )
    return str(case_id)


async def overdue_events(session: AsyncSession) -> list[dict]:
    rows = await session.execute(
        text(
            "SELECT county_code, aggregate_id, actor, payload FROM events"
            " WHERE type = 'case.overdue' ORDER BY id"
        )
    )
    return [
        {
            "county_code": r.county_code,
            "aggregate_id": r.aggregate_id,
            "actor": r.actor,
            **r.payload,
        }
        for r in rows
    ]


async def overdue_at(session: AsyncSession, case_id: str) -> datetime | None:
    return await session.scalar(
        text("SELECT overdue_at FROM cases WHERE case_id = :id"), {"id": case_id}
    )


async def test_a_case_is_marked_and_announced_once_its_deadline_day_has_ended(session):
    case_id = await add_case(session, "H-1")

    first = await scan_overdue(session, now=FIRST_HOUR_AFTER)
    again = await scan_overdue(session, now=FIRST_HOUR_AFTER + DAY)

    assert first == {"overdue": 1, "marked": 1}
    assert again == {"overdue": 1, "marked": 0}
    assert await overdue_at(session, case_id) == FIRST_HOUR_AFTER
    [event] = await overdue_events(session)
    assert event == {
        "county_code": COUNTY,
        "aggregate_id": case_id,
        "actor": "system:overdue-scan",
        "case_id": case_id,
        "deadline": "2026-12-05",
        "household_id": "H-1",
        "region_code": VILLAGE,
    }


async def test_the_deadline_day_ends_at_midnight_in_shanghai_not_utc(session):
    case_id = await add_case(session, "H-1")

    # 23:30 on the deadline day in Shanghai (already 12-05 15:30 in UTC): not yet.
    assert await scan_overdue(session, now=LAST_HOUR_OF_DEADLINE) == {"overdue": 0, "marked": 0}
    assert await overdue_at(session, case_id) is None
    # 00:30 the next day in Shanghai, still 12-05 in UTC: overdue.
    assert await scan_overdue(session, now=FIRST_HOUR_AFTER) == {"overdue": 1, "marked": 1}


async def test_decided_and_not_yet_due_cases_are_never_marked(session):
    decided = await add_case(session, "H-DECIDED", DEADLINE - 10 * DAY, decided=True)
    not_due = await add_case(session, "H-LATER", DEADLINE + DAY)
    due = await add_case(session, "H-DUE")

    assert await scan_overdue(session, now=FIRST_HOUR_AFTER) == {"overdue": 1, "marked": 1}
    assert await overdue_at(session, decided) is None
    assert await overdue_at(session, not_due) is None
    assert [e["case_id"] for e in await overdue_events(session)] == [due]


async def test_a_case_past_due_the_next_day_is_announced_then(session):
    await add_case(session, "H-1")
    later = await add_case(session, "H-2", DEADLINE + DAY)

    await scan_overdue(session, now=FIRST_HOUR_AFTER)
    assert await scan_overdue(session, now=FIRST_HOUR_AFTER + DAY) == {"overdue": 2, "marked": 1}
    assert [e["case_id"] for e in await overdue_events(session)][1:] == [later]


# ------------------------------------------------------------------ real commits


async def lock_waiters(db: Database) -> int:
    async with db.transaction() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)


async def test_a_second_scan_waiting_on_the_first_announces_nothing_again(fresh_db: Database):
    async with fresh_db.transaction() as session:
        ids = {await add_case(session, f"H-{n}") for n in range(200)}

    # Two raw transactions without the job's advisory lock: the UPDATE alone
    # must keep it once. The second scan starts while the first holds its row
    # locks uncommitted, waits for them, and re-checks `overdue_at IS NULL`.
    async with fresh_db.transaction() as first:
        first_outcome = await scan_overdue(first, now=FIRST_HOUR_AFTER)

        async def second_scan() -> dict:
            async with fresh_db.transaction() as session:
                return await scan_overdue(session, now=FIRST_HOUR_AFTER + timedelta(minutes=1))

        second = asyncio.create_task(second_scan())
        async with asyncio.timeout(10):
            while not await lock_waiters(fresh_db):
                await asyncio.sleep(0.01)
    second_outcome = await second

    assert first_outcome == {"overdue": 200, "marked": 200}
    assert second_outcome == {"overdue": 200, "marked": 0}
    async with fresh_db.transaction() as session:
        events = await overdue_events(session)
        stamps = set(await session.scalars(text("SELECT DISTINCT overdue_at FROM cases")))
    assert sorted(e["case_id"] for e in events) == sorted(ids)
    assert stamps == {FIRST_HOUR_AFTER}


async def test_two_scans_started_together_announce_each_case_exactly_once(fresh_db: Database):
    async with fresh_db.transaction() as session:
        ids = {await add_case(session, f"H-{n}") for n in range(500)}

    async def scan() -> dict:
        async with fresh_db.transaction() as session:
            return await scan_overdue(session, now=FIRST_HOUR_AFTER)

    results = await asyncio.gather(scan(), scan())

    assert sum(r["marked"] for r in results) == 500
    async with fresh_db.transaction() as session:
        events = await overdue_events(session)
    assert sorted(e["case_id"] for e in events) == sorted(ids)


async def test_two_job_runs_at_once_announce_each_case_exactly_once(fresh_db: Database):
    async with fresh_db.transaction() as session:
        ids = {await add_case(session, f"H-{n}") for n in range(50)}

    outcomes = await asyncio.gather(
        run_job(fresh_db, OVERDUE_SCAN, now=FIRST_HOUR_AFTER, manual=True),
        run_job(fresh_db, OVERDUE_SCAN, now=FIRST_HOUR_AFTER, manual=True),
    )

    assert 'ran: {"overdue":50,"marked":50}' in outcomes
    async with fresh_db.transaction() as session:
        events = await overdue_events(session)
    assert sorted(e["case_id"] for e in events) == sorted(ids)


async def test_overdue_scan_is_a_job_with_an_entry_point(fresh_db: Database):
    [entry] = [ep for ep in entry_points(group="warnex.jobs") if ep.name == "overdue-scan"]
    assert entry.load() is OVERDUE_SCAN
    assert OVERDUE_SCAN in JOBS
    assert OVERDUE_SCAN.every == timedelta(minutes=15)
    async with fresh_db.transaction() as session:
        await add_case(session, "H-1")

    first = await run_job(fresh_db, OVERDUE_SCAN, now=FIRST_HOUR_AFTER)
    repeat = await run_job(fresh_db, OVERDUE_SCAN, now=FIRST_HOUR_AFTER + timedelta(minutes=1))
    later = await run_job(fresh_db, OVERDUE_SCAN, now=FIRST_HOUR_AFTER + timedelta(minutes=15))

    assert first == 'ran: {"overdue":1,"marked":1}'
    assert repeat.startswith("skipped: already ran for")
    assert later == 'ran: {"overdue":1,"marked":0}'


async def test_warnex_jobs_run_overdue_scan_marks_the_cases(fresh_db: Database):
    # The CLI runs at the real clock: a deadline long past is overdue now.
    async with fresh_db.transaction() as session:
        case_id = await add_case(session, "H-1", date(2020, 1, 1))
    env = {"DATABASE_URL": fresh_db.url, "WARNEX_SECRET_KEY": os.environ["WARNEX_SECRET_KEY"]}

    result = await asyncio.to_thread(run_cli, ["jobs", "run", "overdue-scan"], env)

    assert result.exit_code == 0, (result.stdout, result.exception)
    assert result.stdout.strip() == 'overdue-scan: ran: {"overdue":1,"marked":1}'
    async with fresh_db.transaction() as session:
        assert await overdue_at(session, case_id) is not None
        assert [e["case_id"] for e in await overdue_events(session)] == [case_id]
