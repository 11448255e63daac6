"""`GET /audit`: the audit trail of a county (county staff): who wrote what and
who revealed whose ID number, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.identification.audit.schemas import AuditRecordOut
from shared.auth import CountyStaff
from shared.db import SessionDep
from shared.pagination import Page, PageDep, newest_first

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
) -> dict[str, Any]:
    assert principal.region_code is not None  # staff always have a scope
    filters = {"target_id": target, "target_type": target_type, "actor": actor, "action": action}
    where = ["county_code = :county_code"] + [
        f"{column} = :{column}" for column, value in filters.items() if value is not None
    ]
    items, next_cursor = await newest_first(
        session,
        select="SELECT id, at, actor, action, target_type, target_id, request_id, details"
        " FROM audit_log",
        where=where,
        params={"county_code": principal.region_code[:6], **filters},
        order=(("id", "id", int),),
        cursor=page.cursor,
        limit=page.limit,
    )
    return {"items": items, "next_cursor": next_cursor}
