"""`GET /trend`: a region's weekly snapshots (周通报), oldest first (viewers and staff)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from services.reporting.dependencies import ReportRegion
from services.reporting.figures import Period
from services.reporting.trends.schemas import Trend
from services.reporting.trends.snapshots import week_start, weekly_trend
from shared import clock
from shared.dates import check_period
from shared.db import SessionDep
from shared.errors import check_code

router = APIRouter(tags=["figures"])

INTERVALS = ("week",)
DEFAULT_WEEKS = 12


def trend_period(
    date_from: Annotated[
        date | None, Query(description="Default the Monday 11 weeks before date_to's week")
    ] = None,
    date_to: Annotated[date | None, Query(description="Default today; both ends included")] = None,
) -> Period:
    """The weeks to list, by week start: by default the last 12, this one included."""
    today = clock.today()
    end = date_to or today
    start = date_from or week_start(end) - timedelta(weeks=DEFAULT_WEEKS - 1)
    check_period(start, end, today=today)
    return Period(start, end)


@router.get(
    "/trend",
    response_model=Trend,
    summary="A region's weekly snapshots of the overview's figures (viewers and staff)",
)
async def get_trend(
    session: SessionDep,
    region: ReportRegion,
    period: Annotated[Period, Depends(trend_period)],
    interval: Annotated[str, Query(description="week (the only one)")] = "week",
) -> dict[str, Any]:
    check_code("interval", interval, INTERVALS)
    return {"items": await weekly_trend(session, region_code=region, period=period)}
