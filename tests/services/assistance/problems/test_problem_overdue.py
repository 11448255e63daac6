"""The ledger's overdue problems, marked and announced once by the gap scan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from services.assistance.jobs import GAP_SCAN
from services.assistance.problems.deadlines import scan_problem_deadlines
from shared import clock
from shared.scheduler import run_job
from tests.services.identification.ledger_helpers import (
    COUNTY,
    NOW,
    PROBLEMS,
    TODAY,
    TOWN,
    add_campaign,
    add_problem,
    add_regions,
    staff_headers,
    village,
)

DAY = timedelta(days=1)
VILLAGE = village(TOWN, 201)


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def _overdue_events(session) -> list[dict]:
    rows = await session.execute(
        text("SELECT payload FROM events WHERE type = 'problem.overdue' ORDER BY id")
    )
    return [row.payload for row in rows]


async def test_open_problems_past_due_are_marked_and_announced_once(session):
    campaign_id = await add_campaign(session)
    late = await add_problem(session, VILLAGE, campaign_id=campaign_id, due_on=TODAY - DAY)
    await add_problem(session, VILLAGE, due_on=TODAY)  # due today: not yet late
    await add_problem(session, VILLAGE, due_on=TODAY - DAY, status="rectified")

    first = await scan_problem_deadlines(session, now=NOW)
    second = await scan_problem_deadlines(session, now=NOW + DAY / 2)

    assert first == {"overdue": 1, "marked": 1}
    assert second == {"overdue": 1, "marked": 0}
    assert await _overdue_events(session) == [
        {
            "problem_id": str(late),
            "campaign_id": str(campaign_id),
            "county_code": "610326",
            "region_code": VILLAGE,
            "household_id": None,
            "type": "data_quality",
            "found_on": "2026-05-01",
            "due_on": str(TODAY - DAY),
            "status": "open",
            "rectified_on": None,
        }
    ]
    marked_at = await session.scalar(
        text("SELECT overdue_at FROM problems WHERE problem_id = :id"), {"id": late}
    )
    assert marked_at == NOW
    # The next day the problem due today is late too, and only it is announced.
    third = await scan_problem_deadlines(session, now=NOW + DAY)
    assert third == {"overdue": 2, "marked": 1}
    assert len(await _overdue_events(session)) == 2


async def test_the_problem_view_shows_the_scan_and_the_live_flag(client, session):
    await add_regions(session, [VILLAGE])
    problem_id = await add_problem(session, VILLAGE, due_on=TODAY - DAY)
    headers = await staff_headers(session, "county_staff", COUNTY)
    before = (await client.get(f"{PROBLEMS}/{problem_id}", headers=headers)).json()

    await scan_problem_deadlines(session, now=NOW)

    after = (await client.get(f"{PROBLEMS}/{problem_id}", headers=headers)).json()
    assert (before["overdue"], before["overdue_at"]) == (True, None)
    assert after["overdue"] is True and after["overdue_at"] is not None


async def test_the_gap_scan_job_announces_overdue_problems_once(fresh_db):
    async with fresh_db.transaction() as session:
        late = await add_problem(session, VILLAGE, due_on=TODAY - 3 * DAY)

    first = await run_job(fresh_db, GAP_SCAN, now=NOW, manual=True)
    second = await run_job(fresh_db, GAP_SCAN, now=NOW + timedelta(hours=1), manual=True)

    assert GAP_SCAN.name == "gap-scan"
    assert first.startswith("ran: ") and '"noticed":{' in first
    assert '"problems":{"overdue":1,"marked":1}' in first
    assert '"problems":{"overdue":1,"marked":0}' in second
    async with fresh_db.transaction() as session:
        events = await _overdue_events(session)
        assert [e["problem_id"] for e in events] == [str(late)]
