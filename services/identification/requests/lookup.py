"""Reading requests: one by id (in the caller's scope, or 404) and the staff
list, newest request first in keyset pages ordered by (requested_on DESC,
request_id DESC)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Staff, row_in_scope
from shared.db import SessionDep, fetch_one
from shared.errors import check_code
from shared.object_requests import KINDS
from shared.pagination import newest_first_rows
from shared.regions import scope_like_pattern

STATUSES = ("pending", "approved", "rejected")


@dataclass(frozen=True, slots=True)
class RequestRow:
    """A request upward as API.md shows it, plus its county."""

    request_id: uuid.UUID
    county_code: str
    object_id: uuid.UUID
    household_id: str
    region_code: str
    kind: str
    reason: str
    evidence: str | None
    requested_on: date
    requested_by: str
    status: str
    chain: list[dict[str, Any]]  # the JSON chain: one level's decision each, in order


# The fields of RequestRow.
REQUEST_COLUMNS = """
    r.request_id, r.county_code, r.object_id, r.household_id, r.region_code, r.kind,
    r.reason, r.evidence, r.requested_on, r.requested_by, r.status, r.chain
"""


# By id alone: a request's URL carries no county, and its id is unique.
_REQUEST_BY_ID = f"SELECT {REQUEST_COLUMNS} FROM object_requests r WHERE r.request_id = :id"
_READ = text(_REQUEST_BY_ID)
# Held to the transaction's end: decisions on one request take turns.
_READ_LOCKED = text(_REQUEST_BY_ID + " FOR UPDATE")


async def get_request(
    session: AsyncSession, *, request_id: uuid.UUID, lock: bool = False
) -> RequestRow | None:
    """The request; `lock` holds its row to the transaction's end."""
    statement = _READ_LOCKED if lock else _READ
    return await fetch_one(session, statement, {"id": request_id}, into=RequestRow)


async def request_in_scope(
    request_id: uuid.UUID, session: SessionDep, principal: Staff
) -> RequestRow:
    """The request, or 404 if it does not exist or lies outside the caller's scope."""
    return row_in_scope(principal, await get_request(session, request_id=request_id))


RequestInScope = Annotated[RequestRow, Depends(request_in_scope)]


async def list_requests(
    session: AsyncSession,
    *,
    region_code: str,
    status: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[RequestRow], str | None]:
    """Requests inside `region_code`, newest first; 422 `invalid_code` for a
    status or kind outside its list."""
    check_code("status", status, STATUSES)
    check_code("kind", kind, KINDS)
    given = {name: value for name, value in {"status": status, "kind": kind}.items() if value}
    return await newest_first_rows(
        session,
        into=RequestRow,
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
