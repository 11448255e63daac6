"""Cases: the pending-case list, most urgent first; a manual clue; one case (staff in scope)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from services.identification.cases.ledger import CASES_LEDGER, cases_query
from services.identification.cases.lists import list_cases
from services.identification.cases.lookup import (
    CaseInScope,
    case_view,
    get_case_row,
    household_in_scope,
)
from services.identification.cases.opening import open_manual_case
from services.identification.cases.schemas import CaseOut, CasePage, ManualClueIn
from shared import clock
from shared.auth import Staff, scope_region
from shared.catalog import RISK_TYPES
from shared.db import SessionDep
from shared.errors import invalid
from shared.ledgers import LEDGER_RESPONSES, Export, SnapshotSession, export_ledger
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
) -> CasePage:
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
    return CasePage(items=[case_view(row, today=today) for row in rows], next_cursor=next_cursor)


# Declared before /cases/{case_id}, which would otherwise take "export" for an id.
@router.get(
    "/cases/export",
    response_class=StreamingResponse,
    responses=LEDGER_RESPONSES,
    summary="The identification ledger (识别台账) as CSV or XLSX, the list's filters (staff)",
)
async def export_cases(
    snapshot: SnapshotSession,
    session: SessionDep,
    options: Export,
    region: RegionQuery = None,
    state: str | None = None,
    step: str | None = None,
    source: str | None = None,
) -> StreamingResponse:
    region_code = scope_region(options.principal, region)
    today = clock.today()
    query = cases_query(
        region_code=region_code,
        today=today,
        state=state,
        step=step,
        source=source,
        reveal=options.reveal,
    )
    return await export_ledger(
        session,
        snapshot,
        ledger=CASES_LEDGER,
        query=query,
        options=options,
        region_code=region_code,
        filters={"state": state, "step": step, "source": source},
        today=today,
    )


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    summary="Open a case for a self-report or a cadre's screening (staff)",
    responses={409: {"description": "The household already has an open case (named)"}},
)
async def post_case(body: ManualClueIn, session: SessionDep, principal: Staff) -> CaseOut:
    unknown = [r for r in body.risk_types if r not in RISK_TYPES]
    if unknown:
        raise invalid("risk_types", "invalid_code", "risk_types must be codes of the catalog")
    household = await household_in_scope(
        session, household_id=body.household_id, principal=principal
    )
    today = clock.today()
    case_id = await open_manual_case(
        session,
        household=household,
        source=body.source,
        found_on=body.found_on,
        description=body.description,
        risk_types=sorted(set(body.risk_types)),
        actor=principal.actor,
        today=today,
    )
    row = await get_case_row(session, case_id=case_id)
    assert row is not None
    return case_view(row, today=today)


@router.get("/cases/{case_id}", response_model=CaseOut, summary="One case (staff in scope)")
async def get_case(case: CaseInScope) -> CaseOut:
    return case_view(case, today=clock.today())
