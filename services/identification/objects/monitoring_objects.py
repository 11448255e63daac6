"""Monitoring objects (监测对象): the staff list, one object, and removal (清退).

An object is created by a county decision (services.identification steps);
here it is read and, by county staff, removed with the reason and who
approved it. Lists come newest inclusion first, in keyset pages ordered by
(included_on DESC, object_id DESC).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.objects.schemas import ObjectStatus
from shared.auth import Staff, row_in_scope
from shared.catalog import MONITORING_TYPES, OBJECT_STATUSES
from shared.db import SessionDep, fetch_one
from shared.errors import Conflict, check_code
from shared.event_types import MONITORING_OBJECT_REMOVED
from shared.events import announce
from shared.object_requests import check_direct, record_direct
from shared.pagination import newest_first_rows
from shared.regions import scope_like_pattern


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """A monitoring object as identification reads it (API.md `MonitoringObject`,
    plus its county)."""

    object_id: uuid.UUID
    county_code: str
    household_id: str
    region_code: str
    monitoring_type: str
    risk_types: list[str]
    status: ObjectStatus
    included_on: date
    case_id: uuid.UUID
    eliminated_on: date | None
    removed_on: date | None
    removal_reason: str | None
    removal_approved_by: str | None
    whole_household_no_labour: bool
    development_assistance: bool
    eliminated_naturally: bool
    elimination_reason: str | None


# The fields of ObjectRow, for every statement that reads objects whole.
OBJECT_COLUMNS = """
    o.object_id, o.county_code, o.household_id, o.region_code, o.monitoring_type,
    o.risk_types, o.status, o.included_on, o.case_id, o.eliminated_on, o.removed_on,
    o.removal_reason, o.removal_approved_by, o.whole_household_no_labour,
    o.development_assistance, o.eliminated_naturally, o.elimination_reason
"""


# By id alone: an object's URL carries no county, and its id is unique.
_OBJECT_BY_ID = text(
    f"SELECT {OBJECT_COLUMNS} FROM monitoring_objects o WHERE o.object_id = :object_id"
)

# 清退, once: a removed object is left as it is (the caller answers 409).
_REMOVE = text(
    "UPDATE monitoring_objects SET status = 'removed', removed_on = :today,"
    " removal_reason = :reason, removal_approved_by = :approved_by, updated_at = now()"
    " WHERE county_code = :county_code AND object_id = :object_id"
    " AND status <> 'removed'"
    " RETURNING object_id"
)


class AlreadyRemoved(Conflict):
    slug, title = "already_removed", "The monitoring object is already removed"


def object_filters(
    *, region_code: str, status: str | None, monitoring_type: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The list's filters as WHERE clauses on `monitoring_objects o` and their
    parameters; 422 `invalid_code` for a status or type outside its list."""
    check_code("status", status, OBJECT_STATUSES)
    check_code("type", monitoring_type, MONITORING_TYPES)
    filters = {"status": status, "monitoring_type": monitoring_type}
    given = {name: value for name, value in filters.items() if value is not None}
    where = ["o.region_code LIKE :scope", *(f"o.{name} = :{name}" for name in given)]
    return where, {"scope": scope_like_pattern(region_code), **given}


async def list_objects(
    session: AsyncSession,
    *,
    region_code: str,
    status: str | None = None,
    monitoring_type: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ObjectRow], str | None]:
    """Objects inside `region_code`, newest inclusion first (ties by object id,
    descending); 422 `invalid_code` for a status or type outside its list."""
    where, params = object_filters(
        region_code=region_code, status=status, monitoring_type=monitoring_type
    )
    return await newest_first_rows(
        session,
        into=ObjectRow,
        select=f"SELECT {OBJECT_COLUMNS} FROM monitoring_objects o",
        where=where,
        params=params,
        order=(("o.included_on", "included_on", date), ("o.object_id", "object_id", uuid.UUID)),
        cursor=cursor,
        limit=limit,
    )


async def get_object(session: AsyncSession, *, object_id: uuid.UUID) -> ObjectRow | None:
    return await fetch_one(session, _OBJECT_BY_ID, {"object_id": object_id}, into=ObjectRow)


async def object_in_scope(object_id: uuid.UUID, session: SessionDep, principal: Staff) -> ObjectRow:
    """The object, or 404 if it does not exist or lies outside the caller's scope."""
    return row_in_scope(principal, await get_object(session, object_id=object_id))


ObjectInScope = Annotated[ObjectRow, Depends(object_in_scope)]


async def remove_object(
    session: AsyncSession,
    *,
    obj: ObjectRow,
    reason: str,
    approved_by: str,
    actor: str,
    today: date,
) -> ObjectRow:
    """清退: mark the object removed today with the reason and approver, audit it
    and announce `monitoring_object.removed`; return the updated object.

    Raises AlreadyRemoved (409) for an object already removed, also when a
    concurrent removal won the race.
    """
    removed = await session.scalar(
        _REMOVE,
        {
            "today": today,
            "reason": reason,
            "approved_by": approved_by,
            "county_code": obj.county_code,
            "object_id": obj.object_id,
        },
    )
    if removed is None:
        raise AlreadyRemoved("The monitoring object is already removed.")
    object_id = str(obj.object_id)
    # The contract of shared/event_types.py; the reason and the approver are
    # free text that may name people, so they stay in the row and out of events.
    await announce(
        session,
        type=MONITORING_OBJECT_REMOVED,
        aggregate=("monitoring_object", object_id),
        county_code=obj.county_code,
        actor=actor,
        payload={
            "object_id": object_id,
            "household_id": obj.household_id,
            "county_code": obj.county_code,
            "region_code": obj.region_code,
            "monitoring_type": obj.monitoring_type,
            "risk_types": list(obj.risk_types),
            "case_id": str(obj.case_id),
            "removed_on": today.isoformat(),
            "previous_status": obj.status,
        },
        details={"removed_on": today.isoformat(), "previous_status": obj.status},
    )
    updated = await get_object(session, object_id=obj.object_id)
    assert updated is not None
    return updated


async def remove_directly(
    session: AsyncSession,
    *,
    obj: ObjectRow,
    reason: str,
    approved_by: str,
    actor: str,
    today: date,
) -> ObjectRow:
    """清退 decided by the county alone: allowed while the policy's chain for a
    removal is `["county"]` (409 `approval_required` otherwise, 409
    `request_pending` while a request is pending); `remove_object`, then a
    one-level approved request records it."""
    await check_direct(session, obj=obj, kind="removal")
    removed = await remove_object(
        session, obj=obj, reason=reason, approved_by=approved_by, actor=actor, today=today
    )
    await record_direct(session, obj=obj, kind="removal", reason=reason, actor=actor, today=today)
    return removed
