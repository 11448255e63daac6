"""Monthly visits (每月走访) to poverty-alleviated and monitored households."""

from __future__ import annotations

from fastapi import APIRouter

from services.assistance.visits.recording import household_in_scope, record_visit
from services.assistance.visits.schemas import VisitIn, VisitOut
from shared import clock
from shared.auth import Staff
from shared.db import SessionDep

router = APIRouter(tags=["visits"])


@router.post(
    "/households/{household_id}/visits",
    status_code=201,
    response_model=VisitOut,
    summary="Record a monthly visit (每月走访) (staff)",
    responses={409: {"description": "Neither poverty-alleviated nor a monitoring object"}},
)
async def post_visit(
    household_id: str, body: VisitIn, session: SessionDep, principal: Staff
) -> VisitOut:
    household = await household_in_scope(session, household_id=household_id, principal=principal)
    visit = await record_visit(
        session,
        household=household,
        **body.model_dump(),
        actor=principal.actor,
        today=clock.today(),
        now=clock.now(),
    )
    return VisitOut.model_validate(visit, from_attributes=True)
