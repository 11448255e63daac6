"""`GET /overview` and `GET /regions`: the figures of a region and of its child
regions (viewers and staff, inside their scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.reporting.dependencies import ReportPeriod, ReportRegion
from services.reporting.overview.report import overview, region_rows, rows_level
from services.reporting.overview.schemas import Overview, RegionRows
from shared import clock
from shared.db import SessionDep
from shared.regions import Level

router = APIRouter(tags=["figures"])


@router.get(
    "/overview",
    response_model=Overview,
    summary="Every figure of a region over a period (viewers and staff)",
)
async def get_overview(
    session: SessionDep, region: ReportRegion, period: ReportPeriod
) -> dict[str, Any]:
    return await overview(
        session, region_code=region, period=period, today=clock.today(), now=clock.now()
    )


@router.get(
    "/regions",
    response_model=RegionRows,
    summary="The overview's figures per child region (viewers and staff)",
)
async def get_regions(
    session: SessionDep,
    region: ReportRegion,
    period: ReportPeriod,
    level: Annotated[
        Level | None,
        Query(description="town | village (any level below the region's); default the next"),
    ] = None,
) -> dict[str, Any]:
    return await region_rows(
        session,
        region_code=region,
        level=rows_level(region, level),
        period=period,
        today=clock.today(),
        now=clock.now(),
    )
