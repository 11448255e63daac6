"""`GET /audit`: the audit trail of a county (county staff): who wrote what and
who revealed whose ID number, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.identification.audit.schemas import AuditRecordOut
from services.identification.audit.trail import audit_trail
from shared.auth import CountyStaff
from shared.db import SessionDep
from shared.pagination import Page, PageDep

router = APIRouter(tags=["audit"])


@router.get(
    "/audit",
    response_model=Page[AuditRecordOut],
    summary="The county's audit trail, newest first (county staff)",
)
async def get_audit(
    session: SessionDep,
    principal: CountyStaff,
    page: PageDep,
    target: Annotated[
        str | None, Query(max_length=64, description="A target's id: case, object, household...")
    ] = None,
    target_type: Annotated[str | None, Query(max_length=40)] = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[AuditRecordOut]:
    assert principal.region_code is not None  # staff always have a scope
    items, next_cursor = await audit_trail(
        session,
        county_code=principal.region_code[:6],
        target_id=target,
        target_type=target_type,
        actor=actor,
        action=action,
        cursor=page.cursor,
        limit=page.limit,
    )
    return Page[AuditRecordOut](
        items=[AuditRecordOut.model_validate(row, from_attributes=True) for row in items],
        next_cursor=next_cursor,
    )
