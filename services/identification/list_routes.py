"""`GET /cases`: the pending-case list, most urgent first (staff in scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.identification.case_lists import list_cases
from services.identification.cases import case_view
from services.identification.schemas import CasePage
from shared import clock
from shared.auth import Staff, scope_region
from shared.db import SessionDep
from shared.pagination import PageDep

router = APIRouter(tags=["cases"])

RegionQuery = Annotated[str | None, Query(description="12-digit region code; default your scope")]


@router.get(
    "/cases",
    response_model=CasePage,
    summary="Cases in your region, deadline first (staff)",
)
async def get_cases(
    session: SessionDep,
    principal: Staff,
    page: PageDep,
    region: RegionQuery = None,
    state: Annotated[
        str | None,
        Query(description="open | decided | overdue (past the deadline) | due_soon (3 days)"),
    ] = None,
    step: Annotated[
        str | None, Query(description="Open cases that have not done this step yet")
    ] = None,
    source: Annotated[
        str | None, Query(description="department_warning | self_report | cadre_screening")
    ] = None,
) -> dict[str, Any]:
    today = clock.today()
    rows, next_cursor = await list_cases(
        session,
        region_code=scope_region(principal, region),
        today=today,
        state=state,
        step=step,
        source=source,
        cursor=page.cursor,
        limit=page.limit,
    )
    return {"items": [case_view(row, today=today) for row in rows], "next_cursor": next_cursor}
