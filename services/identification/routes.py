"""Cases: a manual clue, and one case."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.identification.cases import CaseInScope, case_view, get_case_row, household_in_scope
from services.identification.opening import open_manual_case
from services.identification.schemas import CaseOut, ManualClueIn
from shared import clock
from shared.auth import Staff
from shared.catalog import RISK_TYPES
from shared.db import SessionDep
from shared.errors import invalid

router = APIRouter(tags=["cases"])


@router.post(
    "/cases",
    status_code=201,
    response_model=CaseOut,
    summary="Open a case for a self-report or a cadre's screening (staff)",
    responses={409: {"description": "The household already has an open case (named)"}},
)
async def post_case(body: ManualClueIn, session: SessionDep, principal: Staff) -> dict[str, Any]:
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
async def get_case(case: CaseInScope) -> dict[str, Any]:
    return case_view(case, today=clock.today())
