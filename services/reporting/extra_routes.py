"""`GET /feeds` (feed compliance over a period) and `GET /red_flags` (viewers
and staff, inside their scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.reporting.compliance import feed_compliance
from services.reporting.extra_schemas import FeedComplianceRows, RedFlags
from services.reporting.red_flags import red_flags
from services.reporting.routes import ReportPeriod, ReportRegion
from shared import clock
from shared.db import SessionDep

router = APIRouter(tags=["figures"])


@router.get(
    "/feeds",
    response_model=FeedComplianceRows,
    summary="Every periodic feed's state and its compliance over a period (viewers and staff)",
)
async def get_feeds(
    session: SessionDep, region: ReportRegion, period: ReportPeriod
) -> dict[str, Any]:
    # Feeds belong to no place: `region` only checks the caller's scope.
    items = await feed_compliance(session, period=period, today=clock.today(), now=clock.now())
    return {"period": {"date_from": period.date_from, "date_to": period.date_to}, "items": items}


@router.get(
    "/red_flags",
    response_model=RedFlags,
    summary="A region's red flags: counts and region codes only (viewers and staff)",
)
async def get_red_flags(session: SessionDep, region: ReportRegion) -> dict[str, Any]:
    flags = await red_flags(session, region_code=region, today=clock.today())
    return {"region": region} | flags
