"""Reading requests: one by id (in the caller's scope, or 404) and the staff
list, newest request first in keyset pages ordered by (requested_on DESC,
request_id DESC)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Staff, found_in_scope
from shared.db import SessionDep
from shared.errors import check_code
from shared.object_requests import KINDS
from shared.pagination import newest_first
from shared.regions import scope_like_pattern

STATUSES = ("pending", "approved", "rejected")
REQUEST_COLUMNS = """
    r.request_id, r.county_code, r.object_id, r.household_id, r.region_code, r.kind,
    r.reason, r.evidence, r.requested_on, r.requested_by, r.status, r.chain
"""


async def get_request(
    session: AsyncSession, *, request_id: uuid.UUID, lock: bool = False
) -> dict[str, Any] | None:
    """The request; `lock` holds its row to the transaction's end."""
    sql = f"SELECT {REQUEST_COLUMNS} FROM object_requests r WHERE r.request_id = :id"
    result = await session.execute(text(sql + (" FOR UPDATE" if lock else "")), {"id": request_id})
    row = result.mappings().first()
    return None if row is None else dict(row)


async def request_in_scope(
    request_id: uuid.UUID, session: SessionDep, principal: Staff
) -> dict[str, Any]:
    """The request, or 404 if it does not exist or lies outside the caller's scope."""
    return found_in_scope(principal, await get_request(session, request_id=request_id))


RequestInScope = Annotated[dict[str, Any], Depends(request_in_scope)]


async def list_requests(
    session: AsyncSession,
    *,
    region_code: str,
    status: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """Requests inside `region_code`, newest first; 422 `invalid_code` for a
    status or kind outside its list."""
    check_code("status", status, STATUSES)
    check_code("kind", kind, KINDS)
    given = {name: value for name, value in {"status": status, "kind": kind}.items() if value}
    return await newest_first(
        session,
        select=f"SELECT {REQUEST_COLUMNS} FROM object_requests r",
        where=["r.region_code LIKE :scope", *(f"r.{name} = :{name}" for name in given)],
        params={"scope": scope_like_pattern(region_code), **given},
        order=(
            ("r.requested_on", "requested_on", date),
            ("r.request_id", "request_id", uuid.UUID),
        ),
        cursor=cursor,
        limit=limit,
    )
