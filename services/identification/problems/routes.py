"""The problem ledger (问题台账, SPEC §11): record, rectify, list, read."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from services.identification.problems.export import PROBLEMS_LEDGER, problems_query
from services.identification.problems.ledger import (
    ProblemInScope,
    list_problems,
    problem_view,
    record_problem,
    rectify_problem,
)
from services.identification.problems.schemas import (
    ProblemIn,
    ProblemOut,
    ProblemPage,
    ProblemRectifyIn,
)
from shared import clock
from shared.auth import Staff, scope_region
from shared.db import SessionDep
from shared.ledgers import LEDGER_RESPONSES, Export, SnapshotSession, export_ledger
from shared.pagination import PageDep

router = APIRouter(tags=["screening"])


@router.post(
    "/problems",
    status_code=201,
    response_model=ProblemOut,
    summary="Record a problem in the ledger (staff in scope)",
)
async def post_problem(body: ProblemIn, session: SessionDep, principal: Staff) -> ProblemOut:
    return await record_problem(
        session,
        principal=principal,
        campaign_id=body.campaign_id,
        region_code=body.region_code,
        household_id=body.household_id,
        type_=body.type,
        description=body.description,
        found_on=body.found_on,
        due_on=body.due_on,
        responsible=body.responsible,
        today=clock.today(),
    )


# Declared before /problems/{problem_id}.
@router.get(
    "/problems/export",
    response_class=StreamingResponse,
    responses=LEDGER_RESPONSES,
    summary="The problem ledger (问题台账) as CSV or XLSX, the list's filters (staff)",
)
async def export_problems(
    snapshot: SnapshotSession,
    session: SessionDep,
    options: Export,
    region: Annotated[
        str | None, Query(description="12-digit region code; default your scope")
    ] = None,
    status: Annotated[str | None, Query(description="open | rectified")] = None,
    problem_type: Annotated[
        str | None, Query(alias="type", description="A problem type code")
    ] = None,
    campaign_id: uuid.UUID | None = None,
    overdue: Annotated[bool | None, Query(description="Open and past due_on")] = None,
) -> StreamingResponse:
    region_code = scope_region(options.principal, region)
    today = clock.today()
    query = problems_query(
        region_code=region_code,
        today=today,
        status=status,
        type_=problem_type,
        campaign_id=campaign_id,
        overdue=overdue,
    )
    filters = {"status": status, "type": problem_type, "campaign_id": campaign_id}
    return await export_ledger(
        session,
        snapshot,
        ledger=PROBLEMS_LEDGER,
        query=query,
        options=options,
        region_code=region_code,
        filters={**filters, "overdue": overdue},
        today=today,
    )


@router.patch(
    "/problems/{problem_id}",
    response_model=ProblemOut,
    summary="Mark a problem rectified (staff in scope)",
    responses={409: {"description": "The problem is already rectified"}},
)
async def patch_problem(
    principal: Staff, body: ProblemRectifyIn, problem: ProblemInScope, session: SessionDep
) -> ProblemOut:
    return await rectify_problem(
        session,
        problem=problem,
        rectified_on=body.rectified_on,
        action=body.action,
        actor=principal.actor,
        today=clock.today(),
    )


@router.get("/problems/{problem_id}", response_model=ProblemOut, summary="One problem (staff)")
async def get_one_problem(problem: ProblemInScope) -> ProblemOut:
    return problem_view(problem, today=clock.today())


@router.get(
    "/problems", response_model=ProblemPage, summary="The ledger in your region, newest found first"
)
async def get_problems(
    session: SessionDep,
    principal: Staff,
    page: PageDep,
    region: Annotated[
        str | None, Query(description="12-digit region code; default your scope")
    ] = None,
    status: Annotated[str | None, Query(description="open | rectified")] = None,
    problem_type: Annotated[
        str | None, Query(alias="type", description="A problem type code")
    ] = None,
    campaign_id: uuid.UUID | None = None,
    overdue: Annotated[bool | None, Query(description="Open and past due_on")] = None,
) -> ProblemPage:
    items, next_cursor = await list_problems(
        session,
        region_code=scope_region(principal, region),
        status=status,
        type_=problem_type,
        campaign_id=campaign_id,
        overdue=overdue,
        today=clock.today(),
        cursor=page.cursor,
        limit=page.limit,
    )
    return ProblemPage(items=items, next_cursor=next_cursor)
