"""Measures and the assistance catalog."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from services.assistance.measures.ledger import MEASURES_LEDGER, measures_query
from services.assistance.measures.lifecycle import find_target, move_measure, plan_measure
from services.assistance.measures.lookup import MeasureRow, get_measure, list_measures
from services.assistance.measures.schemas import (
    AssistanceCatalog,
    MeasureIn,
    MeasureMove,
    MeasureOut,
    MeasurePage,
)
from shared import clock
from shared.auth import CurrentPrincipal, Staff, ensure_in_scope, row_in_scope, scope_region
from shared.catalog import MEASURE_CATEGORIES, MEASURE_STATUSES
from shared.db import SessionDep
from shared.ledgers import LEDGER_RESPONSES, Export, SnapshotSession, export_ledger
from shared.pagination import PageDep

router = APIRouter(tags=["measures"])


@router.get("/catalog", response_model=AssistanceCatalog, summary="Measure categories")
async def get_catalog(_: CurrentPrincipal) -> dict[str, Any]:
    return {
        "measure_categories": [
            {
                "code": m.code,
                "label": m.label,
                "group": m.group,
                "development": m.development,
                "responsible_department": m.department,
            }
            for m in MEASURE_CATEGORIES.values()
        ],
        "statuses": MEASURE_STATUSES,
    }


@router.post(
    "/measures", status_code=201, response_model=MeasureOut, summary="Plan a measure (staff)"
)
async def post_measure(body: MeasureIn, session: SessionDep, principal: Staff) -> MeasureOut:
    target = await find_target(session, object_id=body.object_id, case_id=body.case_id)
    ensure_in_scope(principal, target.region_code)
    planned = await plan_measure(
        session,
        target=target,
        category=body.category,
        responsible_department=body.responsible_department,
        planned_on=body.planned_on,
        amount_yuan=body.amount_yuan,
        description=body.description,
        actor=principal.actor,
    )
    return _out(planned)


# Declared before /measures/{measure_id}.
@router.get(
    "/measures/export",
    response_class=StreamingResponse,
    responses=LEDGER_RESPONSES,
    summary="The measures ledger (帮扶措施台账) as CSV or XLSX, the list's filters (staff)",
)
async def export_measures(
    snapshot: SnapshotSession,
    session: SessionDep,
    options: Export,
    region: Annotated[str | None, Query(description="12-digit region code")] = None,
    category: str | None = None,
    status: str | None = None,
    object_id: uuid.UUID | None = None,
) -> StreamingResponse:
    region_code = scope_region(options.principal, region)
    today = clock.today()
    query = measures_query(
        region_code=region_code,
        today=today,
        category=category,
        status=status,
        object_id=object_id,
        reveal=options.reveal,
    )
    return await export_ledger(
        session,
        snapshot,
        ledger=MEASURES_LEDGER,
        query=query,
        options=options,
        region_code=region_code,
        filters={"category": category, "status": status, "object_id": object_id},
        today=today,
    )


async def measure_in_scope(
    measure_id: uuid.UUID, session: SessionDep, principal: Staff
) -> MeasureRow:
    """The measure, or 404 if it does not exist or lies outside the caller's scope."""
    return row_in_scope(principal, await get_measure(session, measure_id=measure_id))


MeasureInScope = Annotated[MeasureRow, Depends(measure_in_scope)]


def _out(row: MeasureRow) -> MeasureOut:
    return MeasureOut.model_validate(row, from_attributes=True)


@router.get("/measures/{measure_id}", response_model=MeasureOut, summary="One measure (staff)")
async def get_one_measure(measure: MeasureInScope) -> MeasureOut:
    return _out(measure)


@router.patch(
    "/measures/{measure_id}",
    response_model=MeasureOut,
    summary="Move a measure forward (staff)",
    responses={409: {"description": "A backward move, or a finished measure"}},
)
async def patch_measure(
    body: MeasureMove, measure: MeasureInScope, session: SessionDep, principal: Staff
) -> MeasureOut:
    moved = await move_measure(
        session,
        measure=measure,
        status=body.status,
        started_on=body.started_on,
        completed_on=body.completed_on,
        amount_yuan=body.amount_yuan,
        actor=principal.actor,
        today=clock.today(),
    )
    return _out(moved)


@router.get("/measures", response_model=MeasurePage, summary="Measures in your region (staff)")
async def get_measures(
    session: SessionDep,
    principal: Staff,
    page: PageDep,
    region: Annotated[str | None, Query(description="12-digit region code")] = None,
    category: str | None = None,
    status: str | None = None,
    object_id: uuid.UUID | None = None,
) -> MeasurePage:
    items, next_cursor = await list_measures(
        session,
        region_code=scope_region(principal, region),
        category=category,
        status=status,
        object_id=object_id,
        cursor=page.cursor,
        limit=page.limit,
    )
    return MeasurePage(items=[_out(row) for row in items], next_cursor=next_cursor)
