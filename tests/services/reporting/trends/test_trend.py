"""The weekly snapshot job (周通报) and `GET /reporting/v1/trend`."""

from __future__ import annotations

import asyncio
import os
from datetime import date, timedelta
from importlib.metadata import entry_points

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.jobs import JOBS, WEEKLY_SNAPSHOT
from services.reporting.trends.snapshots import take_weekly_snapshot
from shared import clock
from shared.auth import issue_token
from shared.db import Database
from shared.scheduler import run_job
from tests.services.reporting.dataset import (
    COUNTY,
    NOW,
    OTHER_COUNTY,
    TODAY,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    load_dataset,
)
from tests.test_cli import run_cli

TREND = "/reporting/v1/trend"
OVERVIEW = "/reporting/v1/overview"
GROUPS = ("period", "warnings", "cases", "monitoring_objects", "measures", "feeds")
WEEK = timedelta(weeks=1)
# NOW is Monday 23 November 2026, 10:00 in Shanghai; LAST_WEEK the Wednesday before.
LAST_WEEK = NOW - 5 * timedelta(days=1)
# Province, city, 眉县 and its two towns, 陇县 and its town.
SNAPSHOT_REGIONS = {
    "610000000000",
    "610300000000",
    COUNTY,
    TOWN_A,
    TOWN_B,
    OTHER_COUNTY,
    "610327100000",
}


@pytest.fixture
async def data(session):
    await load_dataset(session)


async def _user(session, role: str = "viewer", region: str = COUNTY) -> dict[str, str]:
    _, token = await issue_token(session, kind="user", name=role, role=role, region_code=region)
    return {"Authorization": f"Bearer {token}"}


async def _snapshots(session: AsyncSession) -> list[tuple[str, str, date]]:
    rows = await session.execute(
        text(
            "SELECT county_code, region_code, week_start FROM weekly_snapshots"
            " ORDER BY week_start, region_code"
        )
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_the_job_stores_one_snapshot_per_region_for_the_week(session, data):
    outcome = await take_weekly_snapshot(session, now=NOW)

    assert outcome == {"week_start": "2026-11-23", "regions": 7, "stored": 7}
    rows = await _snapshots(session)
    assert {region for _, region, _ in rows} == SNAPSHOT_REGIONS
    assert {week for _, _, week in rows} == {TODAY}
    assert all(county == region[:6] for county, region, _ in rows)
    assert VILLAGE_A1 not in {region for _, region, _ in rows}


async def test_a_second_run_in_the_same_week_changes_nothing(session, data):
    await take_weekly_snapshot(session, now=NOW)
    before = (
        await session.execute(text("SELECT region_code, figures, taken_at FROM weekly_snapshots"))
    ).all()
    # More happens during the week: a later run must not overwrite the Monday figures.
    await session.execute(text("DELETE FROM measures"))

    again = await take_weekly_snapshot(session, now=NOW + 3 * timedelta(days=1))

    assert again == {"week_start": "2026-11-23", "regions": 7, "stored": 0}
    after = (
        await session.execute(text("SELECT region_code, figures, taken_at FROM weekly_snapshots"))
    ).all()
    assert sorted(after) == sorted(before)


async def test_the_next_week_adds_another_snapshot(session, data):
    await take_weekly_snapshot(session, now=LAST_WEEK)
    await take_weekly_snapshot(session, now=NOW)

    weeks = [week for _, region, week in await _snapshots(session) if region == COUNTY]
    assert weeks == [date(2026, 11, 16), TODAY]


async def test_the_week_starts_on_the_local_monday(session, data):
    # Sunday 23:00 UTC is already Monday 07:00 in Shanghai; 11 hours before NOW
    # it is still Sunday 23:00 there.
    outcome = await take_weekly_snapshot(session, now=NOW - timedelta(hours=3))
    assert outcome["week_start"] == "2026-11-23"
    outcome = await take_weekly_snapshot(session, now=NOW - timedelta(hours=11))
    assert outcome["week_start"] == "2026-11-16"


async def test_trend_lists_the_snapshots_oldest_first_with_the_overviews_figures(
    session, client, data
):
    headers = await _user(session)
    overviews = {}
    for at in (LAST_WEEK, NOW):
        with clock.frozen_at(at):
            for region in (COUNTY, TOWN_A):
                response = await client.get(OVERVIEW, params={"region": region}, headers=headers)
                assert response.status_code == 200, response.text
                overviews[at, region] = response.json()
            await take_weekly_snapshot(session, now=at)

    with clock.frozen_at(NOW):
        for region in (COUNTY, TOWN_A):
            response = await client.get(TREND, params={"region": region}, headers=headers)
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            assert [item["week_start"] for item in items] == ["2026-11-16", "2026-11-23"]
            for item, at in zip(items, (LAST_WEEK, NOW), strict=True):
                assert {g: item[g] for g in GROUPS} == {g: overviews[at, region][g] for g in GROUPS}
    # Each snapshot's period is the year up to the day it was taken.
    assert items[0]["period"]["date_to"] == "2026-11-18"


async def test_trend_defaults_to_the_last_twelve_weeks_and_takes_a_period(session, client, data):
    for weeks_ago in (0, 11, 12):
        await take_weekly_snapshot(session, now=NOW - weeks_ago * WEEK)
    headers = await _user(session)

    with clock.frozen_at(NOW):
        default = await client.get(TREND, params={"region": COUNTY}, headers=headers)
        chosen = await client.get(
            TREND,
            params={"region": COUNTY, "date_from": "2026-08-24", "date_to": "2026-09-01"},
            headers=headers,
        )

    assert [i["week_start"] for i in default.json()["items"]] == ["2026-09-07", "2026-11-23"]
    assert [i["week_start"] for i in chosen.json()["items"]] == ["2026-08-31"]


async def test_a_region_without_snapshots_has_an_empty_trend(session, client, data):
    await take_weekly_snapshot(session, now=NOW)
    with clock.frozen_at(NOW):
        response = await client.get(
            TREND, params={"region": VILLAGE_A1}, headers=await _user(session)
        )
    assert response.status_code == 200
    assert response.json() == {"items": []}


async def test_an_interval_other_than_week_is_422(session, client):
    response = await client.get(
        TREND, params={"region": COUNTY, "interval": "month"}, headers=await _user(session)
    )
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("interval", "invalid_code")
    ]


@pytest.mark.parametrize("role", ["viewer", "county_staff", "township_staff", "village_staff"])
async def test_viewers_and_staff_may_read_the_trend_in_scope(session, client, data, role):
    await take_weekly_snapshot(session, now=NOW)
    with clock.frozen_at(NOW):
        response = await client.get(TREND, headers=await _user(session, role, TOWN_A))
    assert response.status_code == 200
    assert [i["week_start"] for i in response.json()["items"]] == ["2026-11-23"]


async def test_department_clients_may_not_read_the_trend(session, client):
    _, token = await issue_token(session, kind="client", name="civil", department="civil_affairs")
    response = await client.get(TREND, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403


@pytest.mark.parametrize(("scope", "region"), [(COUNTY, OTHER_COUNTY), (TOWN_A, TOWN_B)])
async def test_a_region_outside_the_scope_is_404(session, client, scope, region):
    response = await client.get(
        TREND, params={"region": region}, headers=await _user(session, "viewer", scope)
    )
    assert response.status_code == 404


# ------------------------------------------------------------------ real commits


async def test_weekly_snapshot_is_a_job_with_an_entry_point(fresh_db: Database):
    [entry] = [ep for ep in entry_points(group="warnex.jobs") if ep.name == "weekly-snapshot"]
    assert entry.load() is WEEKLY_SNAPSHOT
    assert WEEKLY_SNAPSHOT in JOBS
    assert WEEKLY_SNAPSHOT.every == WEEK
    async with fresh_db.transaction() as session:
        await load_dataset(session)

    first = await run_job(fresh_db, WEEKLY_SNAPSHOT, now=NOW)
    repeat = await run_job(fresh_db, WEEKLY_SNAPSHOT, now=NOW + timedelta(days=1))
    manual = await run_job(fresh_db, WEEKLY_SNAPSHOT, now=NOW + timedelta(days=2), manual=True)
    next_week = await run_job(fresh_db, WEEKLY_SNAPSHOT, now=NOW + WEEK)

    assert first == 'ran: {"week_start":"2026-11-23","regions":7,"stored":7}'
    assert repeat.startswith("skipped: already ran for 2026-11-23T00:00:00+08:00")
    assert manual == 'ran: {"week_start":"2026-11-23","regions":7,"stored":0}'
    assert next_week == 'ran: {"week_start":"2026-11-30","regions":7,"stored":7}'


async def test_warnex_jobs_run_weekly_snapshot_stores_this_weeks_snapshots(fresh_db: Database):
    # The CLI runs at the real clock: the week is this one.
    async with fresh_db.transaction() as session:
        await load_dataset(session)
    env = {"DATABASE_URL": fresh_db.url, "WARNEX_SECRET_KEY": os.environ["WARNEX_SECRET_KEY"]}

    result = await asyncio.to_thread(run_cli, ["jobs", "run", "weekly-snapshot"], env)

    assert result.exit_code == 0, (result.stdout, result.exception)
    monday = clock.today() - timedelta(days=clock.today().weekday())
    assert result.stdout.strip() == (
        f'weekly-snapshot: ran: {{"week_start":"{monday.isoformat()}","regions":7,"stored":7}}'
    )
    async with fresh_db.transaction() as session:
        rows = await _snapshots(session)
    assert {region for _, region, _ in rows} == SNAPSHOT_REGIONS
    assert {week for _, _, week in rows} == {monday}


async def test_a_snapshot_taken_before_persons_were_counted_still_reads(session, client, data):
    """Weekly snapshots stored before 0013 hold no `persons` or `by_risk_type`."""
    await take_weekly_snapshot(session, now=NOW)
    await session.execute(
        text(
            "UPDATE weekly_snapshots SET figures = jsonb_set(figures, '{monitoring_objects}',"
            " (figures->'monitoring_objects') - 'persons' - 'by_risk_type')"
            " WHERE region_code = :region"
        ),
        {"region": COUNTY},
    )
    with clock.frozen_at(NOW):
        response = await client.get(TREND, params={"region": COUNTY}, headers=await _user(session))
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    objects = item["monitoring_objects"]
    assert objects["persons"] == {"by_type": {}, "by_status": {}, "newly_included": {}}
    assert objects["by_risk_type"] == {}
    assert objects["by_status"]["risk_not_eliminated"] == 4
