"""A monitoring object's assessments, flags, risk elimination and rollback."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from services.assistance.objects.assessments import list_assessments, record_assessment
from services.assistance.objects.elimination import (
    ObjectRow,
    eliminate_risk,
    get_object,
    roll_back_risk,
    set_flags,
)
from services.assistance.objects.schemas import (
    AssessmentIn,
    AssessmentOut,
    AssessmentPage,
    EliminationIn,
    FlagsIn,
    ObjectOut,
    RollbackIn,
)
from shared import clock
from shared.auth import CountyStaff, Staff, row_in_scope
from shared.db import SessionDep
from shared.pagination import PageDep
from shared.policy import get_policy

router = APIRouter(tags=["monitoring objects"])

OBJECT = "/monitoring_objects/{object_id}"


async def object_in_scope(object_id: uuid.UUID, session: SessionDep, principal: Staff) -> ObjectRow:
    """The object, or 404 if it does not exist or lies outside the caller's scope."""
    return row_in_scope(principal, await get_object(session, object_id=object_id))


ObjectInScope = Annotated[ObjectRow, Depends(object_in_scope)]


def _out(row: ObjectRow) -> ObjectOut:
    return ObjectOut.model_validate(row, from_attributes=True)


@router.get(OBJECT, response_model=ObjectOut, summary="One monitoring object with its flags")
async def get_one_object(obj: ObjectInScope) -> ObjectOut:
    return _out(obj)


@router.post(
    OBJECT + "/assessments",
    status_code=201,
    response_model=AssessmentOut,
    summary="Record a visit or a look-back (回头看) (staff)",
    responses={409: {"description": "The object was removed"}},
)
async def post_assessment(
    body: AssessmentIn, obj: ObjectInScope, session: SessionDep, principal: Staff
) -> AssessmentOut:
    return await record_assessment(
        session,
        obj=obj,
        **body.model_dump(),
        actor=principal.actor,
        policy=get_policy(),
        today=clock.today(),
        now=clock.now(),
    )


@router.get(
    OBJECT + "/assessments",
    response_model=AssessmentPage,
    summary="The object's assessments, newest first (staff)",
)
async def get_assessments(obj: ObjectInScope, session: SessionDep, page: PageDep) -> AssessmentPage:
    items, next_cursor = await list_assessments(
        session, obj=obj, policy=get_policy(), cursor=page.cursor, limit=page.limit
    )
    return AssessmentPage(items=items, next_cursor=next_cursor)


# County staff only: `principal` comes first so that other roles get 403
# before the scope's 404.


@router.put(
    OBJECT + "/flags",
    response_model=ObjectOut,
    summary="Set whole_household_no_labour (整户无劳动能力) (county staff)",
    responses={409: {"description": "The object was removed"}},
)
async def put_flags(
    principal: CountyStaff, body: FlagsIn, obj: ObjectInScope, session: SessionDep
) -> ObjectOut:
    changed = await set_flags(
        session,
        obj=obj,
        whole_household_no_labour=body.whole_household_no_labour,
        actor=principal.actor,
    )
    return _out(changed)


@router.post(
    OBJECT + "/elimination",
    response_model=ObjectOut,
    summary="Eliminate the risk (风险消除) (county staff)",
    responses={
        409: {"description": "The object's risk is not open"},
        422: {"description": "Every unmet criterion, in `errors`"},
    },
)
async def post_elimination(
    principal: CountyStaff, body: EliminationIn, obj: ObjectInScope, session: SessionDep
) -> ObjectOut:
    changed = await eliminate_risk(
        session,
        obj=obj,
        decided_on=body.decided_on,
        natural=body.natural,
        reason=body.reason,
        actor=principal.actor,
        policy=get_policy(),
        today=clock.today(),
    )
    return _out(changed)


@router.post(
    OBJECT + "/rollback",
    response_model=ObjectOut,
    summary="Roll back an elimination (风险消除回退) (county staff)",
    responses={409: {"description": "Not eliminated, or the household is monitored again"}},
)
async def post_rollback(
    principal: CountyStaff, body: RollbackIn, obj: ObjectInScope, session: SessionDep
) -> ObjectOut:
    changed = await roll_back_risk(
        session, obj=obj, reason=body.reason, actor=principal.actor, today=clock.today()
    )
    return _out(changed)
