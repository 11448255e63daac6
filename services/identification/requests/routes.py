"""Requests upward (SPEC §12): a rollback or a removal filed, its chain's
decisions, the list and one request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.identification.objects.monitoring_objects import ObjectInScope
from services.identification.requests.chain import decide, file_request
from services.identification.requests.lookup import RequestInScope, RequestRow, list_requests
from services.identification.requests.schemas import (
    DecisionIn,
    RequestIn,
    RequestOut,
    RequestPage,
)
from shared import clock
from shared.auth import (
    COUNTY_STAFF,
    TOWNSHIP_STAFF,
    CountyStaff,
    Principal,
    Staff,
    require_role,
    scope_region,
)
from shared.db import SessionDep
from shared.pagination import PageDep

router = APIRouter(tags=["requests"])

TownshipOrCountyStaff = Annotated[Principal, Depends(require_role(TOWNSHIP_STAFF, COUNTY_STAFF))]


def _out(row: RequestRow) -> RequestOut:
    return RequestOut.model_validate(row, from_attributes=True)


# Writers: `principal` comes first so that a role that may never write gets
# 403 before the scope's 404.


@router.post(
    "/monitoring_objects/{object_id}/requests",
    status_code=201,
    response_model=RequestOut,
    summary="File a rollback (风险消除回退) or removal (清退) request (township or county staff)",
    responses={
        409: {"description": "request_pending, or invalid_status for the object's status"},
        422: {
            "description": "requested_on in the future (date_in_future), before the"
            " object's elimination for a rollback (before_elimination), or out of range"
        },
    },
)
async def post_request(
    principal: TownshipOrCountyStaff, body: RequestIn, obj: ObjectInScope, session: SessionDep
) -> RequestOut:
    filed = await file_request(
        session,
        obj=obj,
        kind=body.kind,
        reason=body.reason,
        evidence=body.evidence,
        requested_on=body.requested_on,
        actor=principal.actor,
        today=clock.today(),
    )
    return _out(filed)


@router.post(
    "/requests/{request_id}/decisions",
    response_model=RequestOut,
    summary="Record the next level's decision (county staff)",
    responses={
        409: {"description": "level_out_of_order, request_closed, or the change no longer applies"},
        422: {"description": "date_in_future, before_request or before_previous_level"},
    },
)
async def post_decision(
    principal: CountyStaff, body: DecisionIn, request: RequestInScope, session: SessionDep
) -> RequestOut:
    decided = await decide(
        session,
        request=request,
        level=body.level,
        decision=body.decision,
        decided_on=body.decided_on,
        document_no=body.document_no,
        notes=body.notes,
        actor=principal.actor,
        today=clock.today(),
    )
    return _out(decided)


@router.get(
    "/requests",
    response_model=RequestPage,
    summary="Requests in your region, newest first (staff)",
)
async def get_requests(
    session: SessionDep,
    principal: Staff,
    page: PageDep,
    region: Annotated[
        str | None, Query(description="12-digit region code; default your scope")
    ] = None,
    status: Annotated[str | None, Query(description="pending | approved | rejected")] = None,
    kind: Annotated[str | None, Query(description="rollback | removal")] = None,
) -> RequestPage:
    items, next_cursor = await list_requests(
        session,
        region_code=scope_region(principal, region),
        status=status,
        kind=kind,
        cursor=page.cursor,
        limit=page.limit,
    )
    return RequestPage(items=[_out(row) for row in items], next_cursor=next_cursor)


@router.get(
    "/requests/{request_id}", response_model=RequestOut, summary="One request (staff in scope)"
)
async def get_one_request(request: RequestInScope) -> RequestOut:
    return _out(request)
