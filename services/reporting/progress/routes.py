"""`GET /progress_table`: a screening campaign's progress table (集中排查工作进度统计表)
as JSON, CSV or XLSX (viewers and staff, inside their scope).

The campaign must exist and overlap the caller's scope (one region covers the
other), else 404. The table's region is `?region=` (default the caller's
scope; 404 outside it) narrowed to the campaign's region; a region the campaign
does not cover is 404. Without `campaign_id` the table is the latest campaign's
covering the region, or a table of no campaign (screening columns 0): 200.
Figures and columns: `table.py`; files: `export.py`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.reporting.dependencies import Reader, ReportRegion
from services.reporting.progress.export import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    content_disposition,
    to_csv,
    to_xlsx,
)
from services.reporting.progress.schemas import ProgressTable
from services.reporting.progress.table import (
    find_campaign,
    latest_campaign,
    overlaps,
    progress_table,
    table_region,
)
from shared import clock
from shared.db import SessionDep
from shared.errors import NotFound, check_code

router = APIRouter(tags=["figures"])

FORMATS = ("json", "csv", "xlsx")


async def campaign_in_scope(
    session: SessionDep,
    principal: Reader,
    campaign_id: Annotated[
        uuid.UUID | None,
        Query(description="The campaign; default the latest covering the region"),
    ] = None,
) -> dict[str, Any] | None:
    """The campaign, if it exists and overlaps the caller's scope (404 otherwise);
    None when no campaign is asked for."""
    if campaign_id is None:
        return None
    campaign = await find_campaign(session, campaign_id=campaign_id)
    scope = principal.region_code
    if campaign is None or scope is None or not overlaps(scope, campaign["region_code"]):
        raise NotFound()
    return campaign


ProgressCampaign = Annotated[dict[str, Any] | None, Depends(campaign_in_scope)]


@router.get(
    "/progress_table",
    response_model=ProgressTable,
    responses={200: {"content": {CSV_MEDIA_TYPE: {}, XLSX_MEDIA_TYPE: {}}}},
    summary="A screening campaign's progress table as JSON, CSV or XLSX (viewers and staff)",
)
async def get_progress_table(
    session: SessionDep,
    campaign: ProgressCampaign,
    region: ReportRegion,
    output: Annotated[str, Query(alias="format", description="json | csv | xlsx")] = "json",
) -> Any:
    check_code("format", output, FORMATS)
    today: date = clock.today()
    if campaign is None:
        campaign = await latest_campaign(session, region_code=region, today=today)
    table = await progress_table(
        session,
        campaign=campaign,
        region_code=region if campaign is None else table_region(region, campaign["region_code"]),
        today=today,
    )
    if output == "json":
        return table
    if output == "csv":
        body, media_type = to_csv(table), CSV_MEDIA_TYPE
    else:
        body, media_type = to_xlsx(table), XLSX_MEDIA_TYPE
    disposition = {"Content-Disposition": content_disposition(table, output)}
    return Response(body, media_type=media_type, headers=disposition)
