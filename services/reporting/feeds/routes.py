"""`GET /feeds`: feed compliance over a period (viewers and staff, inside their scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.reporting.dependencies import ReportPeriod, ReportRegion
from services.reporting.feeds.compliance import feed_compliance
from services.reporting.feeds.schemas import FeedComplianceRows
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
