"""`GET /red_flags`: a region's red flags (viewers and staff, inside their scope)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from services.reporting.dependencies import ReportRegion
from services.reporting.red_flags.flags import red_flags
from services.reporting.red_flags.schemas import RedFlags
from shared import clock
from shared.db import SessionDep

router = APIRouter(tags=["figures"])


@router.get(
    "/red_flags",
    response_model=RedFlags,
    summary="A region's red flags: counts and region codes only (viewers and staff)",
)
async def get_red_flags(session: SessionDep, region: ReportRegion) -> Response:
    flags = await red_flags(session, region_code=region, today=clock.today())
    # The lists are JSON already (flags.py): the answer is written, not
    # validated again; `RedFlags` documents it and the tests hold it to it.
    return Response(orjson.dumps({"region": region} | flags), media_type="application/json")
