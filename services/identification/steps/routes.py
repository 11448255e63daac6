"""The four steps of a case and the green channel. Village staff record visits
and village reviews, township staff township reviews, county staff everything."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.lookup import CaseInScope, CaseRow, case_view, get_case_row
from services.identification.cases.schemas import CaseOut
from services.identification.steps import decision, recording
from services.identification.steps.schemas import (
    CountyApprovalIn,
    GreenChannelIn,
    HouseholdVisitIn,
    TownshipReviewIn,
    VillageReviewIn,
)
from shared import clock
from shared.auth import COUNTY_STAFF, TOWNSHIP_STAFF, VILLAGE_STAFF, Principal, require_role
from shared.db import SessionDep

router = APIRouter(tags=["case steps"])

VillageOrCounty = Annotated[Principal, Depends(require_role(VILLAGE_STAFF, COUNTY_STAFF))]
TownshipOrCounty = Annotated[Principal, Depends(require_role(TOWNSHIP_STAFF, COUNTY_STAFF))]
County = Annotated[Principal, Depends(require_role(COUNTY_STAFF))]

_STEPS = "/cases/{case_id}/steps"
_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller's role may not record this step"},
    404: {"description": "No such case inside the caller's scope"},
    409: {"description": "Out of order, already done, or the case is decided"},
    422: {"description": "A date or a code that breaks a rule"},
}


async def _updated(session: AsyncSession, case: CaseRow, now: datetime) -> CaseOut:
    row = await get_case_row(session, case_id=case.case_id)
    assert row is not None
    return case_view(row, today=clock.local_date(now))


@router.post(
    f"{_STEPS}/household_visit",
    response_model=CaseOut,
    summary="入户核查: record the household visit (village or county staff)",
    responses=_RESPONSES,
)
async def post_household_visit(
    body: HouseholdVisitIn, principal: VillageOrCounty, case: CaseInScope, session: SessionDep
) -> CaseOut:
    now = clock.now()
    await recording.record_household_visit(
        session,
        case_id=case.case_id,
        county_code=case.county_code,
        visit=body,
        actor=principal.actor,
        now=now,
    )
    return await _updated(session, case, now)


@router.post(
    f"{_STEPS}/village_review",
    response_model=CaseOut,
    summary="村级民主评议和公示: record the village review (village or county staff)",
    responses=_RESPONSES,
)
async def post_village_review(
    body: VillageReviewIn, principal: VillageOrCounty, case: CaseInScope, session: SessionDep
) -> CaseOut:
    now = clock.now()
    await recording.record_village_review(
        session,
        case_id=case.case_id,
        county_code=case.county_code,
        review=body,
        actor=principal.actor,
        now=now,
    )
    return await _updated(session, case, now)


@router.post(
    f"{_STEPS}/township_review",
    response_model=CaseOut,
    summary="乡镇审核: record the township review (township or county staff)",
    responses=_RESPONSES,
)
async def post_township_review(
    body: TownshipReviewIn, principal: TownshipOrCounty, case: CaseInScope, session: SessionDep
) -> CaseOut:
    now = clock.now()
    await recording.record_township_review(
        session,
        case_id=case.case_id,
        county_code=case.county_code,
        review=body,
        actor=principal.actor,
        now=now,
    )
    return await _updated(session, case, now)


@router.post(
    f"{_STEPS}/county_approval",
    response_model=CaseOut,
    summary="县级比对审定: the county approval and decision (county staff)",
    responses=_RESPONSES,
)
async def post_county_approval(
    body: CountyApprovalIn, principal: County, case: CaseInScope, session: SessionDep
) -> CaseOut:
    now = clock.now()
    await decision.record_county_approval(
        session,
        case_id=case.case_id,
        county_code=case.county_code,
        approval=body,
        actor=principal.actor,
        now=now,
    )
    return await _updated(session, case, now)


@router.post(
    "/cases/{case_id}/green_channel",
    response_model=CaseOut,
    summary="绿色通道: put a case of a sudden risk on the green channel (county staff)",
    responses={
        **_RESPONSES,
        409: {"description": "Already on the green channel, or the case is decided"},
        422: {"description": "The case is not of a sudden risk (not_a_sudden_risk)"},
    },
)
async def post_green_channel(
    body: GreenChannelIn, principal: County, case: CaseInScope, session: SessionDep
) -> CaseOut:
    now = clock.now()
    await recording.put_on_green_channel(
        session,
        case_id=case.case_id,
        county_code=case.county_code,
        reason=body.reason,
        actor=principal.actor,
        now=now,
    )
    return await _updated(session, case, now)
