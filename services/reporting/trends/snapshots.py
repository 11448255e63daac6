"""The weekly snapshot (周通报, SPEC §7) and the trend lines that read it.

Every week the `weekly-snapshot` job stores the overview's figures of every
province, city and county of the `regions` table and of each county's towns,
as they stand when it runs (the period: the calendar year to date), under the
Monday of that week (local date). `GET /trend` reads them back per region.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.figures import Period
from services.reporting.overview.report import overview, region_rows
from shared.clock import local_date
from shared.models.columns import Json

# The figure groups a snapshot keeps: the overview's, with its period.
SNAPSHOT_KEYS = ("period", "warnings", "cases", "monitoring_objects", "measures", "feeds")

_SNAPSHOT_REGIONS = text(
    "SELECT code, level FROM regions WHERE level IN ('province', 'city', 'county') ORDER BY code"
)

# One statement per county: its own row and its towns' rows. A row already
# stored for the week stays as it was, so a second run changes nothing.
_STORE = text(
    "INSERT INTO weekly_snapshots (county_code, region_code, week_start, figures, taken_at)"
    " SELECT left(r.region_code, 6), r.region_code, CAST(:week_start AS date), r.figures,"
    "        CAST(:taken_at AS timestamptz)"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(region_code text, figures jsonb)"
    " ON CONFLICT (county_code, region_code, week_start) DO NOTHING"
    " RETURNING region_code"
).bindparams(bindparam("rows", type_=Json))

_TREND = text(
    "SELECT week_start, figures FROM weekly_snapshots"
    " WHERE county_code = :county_code AND region_code = :region_code"
    "   AND week_start BETWEEN CAST(:date_from AS date) AND CAST(:date_to AS date)"
    " ORDER BY week_start"
)


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def _jsonable(value: Any) -> Any:
    """`value` with dates as ISO strings and Decimals as floats, for a jsonb column."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _snapshot(region_code: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "region_code": region_code,
        "figures": _jsonable({key: figures[key] for key in SNAPSHOT_KEYS}),
    }


async def _region_snapshots(
    session: AsyncSession, *, code: str, level: str, period: Period, today: date, now: datetime
) -> list[dict[str, Any]]:
    """The snapshots of one region: its overview, and for a county its towns' rows."""
    own = await overview(session, region_code=code, period=period, today=today, now=now)
    rows = [_snapshot(code, own)]
    if level == "county":
        towns = await region_rows(
            session, region_code=code, level="town", period=period, today=today, now=now
        )
        rows += [
            _snapshot(town["region_code"], {**town, "period": towns["period"]})
            for town in towns["items"]
        ]
    return rows


async def take_weekly_snapshot(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
    """Store the overview's figures (calendar year to date, as of `now`) of every
    province, city and county of `regions` and of every county's towns, under the
    Monday of `now`'s local week (never commits).

    Idempotent: a region already stored for that week keeps its first snapshot.
    Returns `{"week_start", "regions": regions computed, "stored": rows added}`.
    """
    today = local_date(now)
    monday = week_start(today)
    period = Period.year_to_date(today)
    regions = (await session.execute(_SNAPSHOT_REGIONS)).all()
    computed = stored = 0
    for region in regions:
        rows = await _region_snapshots(
            session, code=region.code, level=region.level, period=period, today=today, now=now
        )
        result = await session.execute(
            _STORE, {"rows": rows, "week_start": monday, "taken_at": now}
        )
        computed += len(rows)
        stored += len(result.all())
    return {"week_start": monday.isoformat(), "regions": computed, "stored": stored}


async def weekly_trend(
    session: AsyncSession, *, region_code: str, period: Period
) -> list[dict[str, Any]]:
    """The stored snapshots of `region_code` whose week starts within `period`,
    oldest first, each `{"week_start", ...figures}`; none when there are none."""
    rows = await session.execute(
        _TREND,
        {
            "county_code": region_code[:6],
            "region_code": region_code,
            "date_from": period.date_from,
            "date_to": period.date_to,
        },
    )
    return [{"week_start": row.week_start, **row.figures} for row in rows]
