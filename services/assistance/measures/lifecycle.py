"""Assistance measures (帮扶措施): planned for a monitoring object (or, in the
green channel, for a case's household before its decision), then moved
forward only: planned → in_progress → completed, or cancelled on the way.

A monitoring object's `development_assistance` flag follows from its
measures: true while it has a development measure that is not cancelled.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.assistance.measures.lookup import MeasureRow
from shared.catalog import DEPARTMENTS, MEASURE_CATEGORIES, MEASURE_STATUSES
from shared.db import fetch_one
from shared.errors import Conflict, NotFound, invalid
from shared.event_types import (
    MEASURE_CANCELLED,
    MEASURE_COMPLETED,
    MEASURE_PLANNED,
    MEASURE_STARTED,
    MONITORING_OBJECT_INCLUDED,
)
from shared.events import EventConsumer, EventRecord, announce, notify

# The forward order of statuses; `cancelled` may follow any unfinished one.
_RANK = {"planned": 0, "in_progress": 1, "completed": 2}
_EVENTS = {
    "in_progress": MEASURE_STARTED,
    "completed": MEASURE_COMPLETED,
    "cancelled": MEASURE_CANCELLED,
}


@dataclass(frozen=True, slots=True)
class MeasureTarget:
    """Where a new measure belongs: a monitoring object (`object_id`, its
    `status`), or a case's household (`case_id`, `green_channel`, `decided_on`)."""

    county_code: str
    object_id: uuid.UUID | None
    case_id: uuid.UUID | None
    household_id: str
    region_code: str
    status: str | None
    green_channel: bool | None
    decided_on: date | None


# The two kinds of target, as MeasureTarget; scope is checked by the caller.
_OBJECT_TARGET = text(
    "SELECT county_code, object_id, NULL::uuid AS case_id, household_id, region_code,"
    " status, NULL::boolean AS green_channel, NULL::date AS decided_on"
    " FROM monitoring_objects WHERE object_id = :id"
)
_CASE_TARGET = text(
    "SELECT county_code, NULL::uuid AS object_id, case_id, household_id, region_code,"
    " NULL::varchar AS status, green_channel, decided_on FROM cases WHERE case_id = :id"
)

# A new measure; its author is kept for the audit trail.
_INSERT = text(
    "INSERT INTO measures (measure_id, county_code, object_id, case_id, household_id,"
    " region_code, category, development, responsible_department, status, planned_on,"
    " amount_yuan, description, created_by) VALUES (:measure_id, :county_code,"
    " :object_id, :case_id, :household_id, :region_code, :category, :development,"
    " :responsible_department, :status, :planned_on, :amount_yuan, :description, :actor)"
)

# A move forward, checked by the caller against the measure it read.
_MOVE = text(
    "UPDATE measures SET status = :status, started_on = :started_on,"
    " completed_on = :completed_on, amount_yuan = :amount_yuan, updated_at = now()"
    " WHERE county_code = :county_code AND measure_id = :measure_id"
)

# The flag follows the measures: one statement for one household or many.
_SYNC_DEVELOPMENT_FLAG = text("""
UPDATE monitoring_objects o SET development_assistance = EXISTS (
    SELECT 1 FROM measures m
    WHERE m.county_code = o.county_code AND m.object_id = o.object_id
      AND m.development AND m.status <> 'cancelled'),
    updated_at = now()
WHERE o.county_code = :county_code AND o.object_id = ANY(CAST(:object_ids AS uuid[]))
""")


class NotGreenChannel(Conflict):
    slug, title = (
        "not_green_channel",
        "Only a green-channel case takes measures before its decision",
    )


class BackwardMove(Conflict):
    slug, title = "backward_move", "A measure's status only moves forward"


class ObjectRemoved(Conflict):
    slug, title = "object_removed", "The monitoring object was removed from monitoring"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def measure_payload(measure: MeasureRow) -> dict[str, Any]:
    """The event payload of a measure (the contract of shared/event_types.py)."""
    return {
        "measure_id": str(measure.measure_id),
        "object_id": None if measure.object_id is None else str(measure.object_id),
        "case_id": None if measure.case_id is None else str(measure.case_id),
        "household_id": measure.household_id,
        "county_code": measure.county_code,
        "category": measure.category,
        "development": measure.development,
        "status": measure.status,
        "planned_on": measure.planned_on.isoformat(),
        "started_on": _iso(measure.started_on),
        "completed_on": _iso(measure.completed_on),
    }


async def find_target(
    session: AsyncSession, *, object_id: uuid.UUID | None, case_id: uuid.UUID | None
) -> MeasureTarget:
    """The object or case a measure is for; 422 unless exactly one is named,
    404 when it does not exist (scope is checked by the caller)."""
    if (object_id is None) == (case_id is None):
        raise invalid("object_id", "missing_field", "name exactly one of object_id and case_id")
    statement = _OBJECT_TARGET if object_id is not None else _CASE_TARGET
    target = await fetch_one(session, statement, {"id": object_id or case_id}, into=MeasureTarget)
    if target is None:
        raise NotFound()
    return target


async def plan_measure(
    session: AsyncSession,
    *,
    target: MeasureTarget,
    category: str,
    responsible_department: str | None,
    planned_on: date,
    amount_yuan: Decimal | None,
    description: str | None,
    actor: str,
) -> MeasureRow:
    """Plan a measure for `target` (from `find_target`); audited, `measure.planned`."""
    kind = MEASURE_CATEGORIES.get(category)
    if kind is None:
        raise invalid(
            "category", "invalid_code", "category must be a measure category of the catalog"
        )
    department = responsible_department or kind.department
    if department not in DEPARTMENTS:
        raise invalid("responsible_department", "invalid_code", "not a department of the catalog")
    if target.object_id is None:
        if category == "anti_poverty_insurance":
            raise invalid(
                "category",
                "object_required",
                "anti-poverty insurance (防贫保) is only for monitoring objects",
            )
        if not target.green_channel or target.decided_on is not None:
            raise NotGreenChannel("Plan measures for the monitoring object once it is decided.")
    elif target.status == "removed":
        raise ObjectRemoved("The monitoring object was removed (清退); it takes no measures.")
    measure = MeasureRow(
        measure_id=uuid.uuid4(),
        county_code=target.county_code,
        object_id=target.object_id,
        case_id=target.case_id,
        household_id=target.household_id,
        region_code=target.region_code,
        category=category,
        development=kind.development,
        responsible_department=department,
        status="planned",
        planned_on=planned_on,
        started_on=None,
        completed_on=None,
        amount_yuan=amount_yuan,
        description=description,
    )
    values = asdict(measure)
    del values["started_on"], values["completed_on"]
    await session.execute(_INSERT, values | {"actor": actor})
    if measure.object_id is not None and kind.development:
        await _sync_flag(session, county_code=measure.county_code, object_ids=[measure.object_id])
    await announce(
        session,
        type=MEASURE_PLANNED,
        aggregate=("measure", str(measure.measure_id)),
        county_code=measure.county_code,
        actor=actor,
        payload=measure_payload(measure),
        details={"category": measure.category, "status": measure.status},
    )
    return measure


async def _sync_flag(
    session: AsyncSession, *, county_code: str, object_ids: list[uuid.UUID]
) -> None:
    await session.execute(
        _SYNC_DEVELOPMENT_FLAG, {"county_code": county_code, "object_ids": object_ids}
    )


async def move_measure(
    session: AsyncSession,
    *,
    measure: MeasureRow,
    status: str,
    started_on: date | None,
    completed_on: date | None,
    amount_yuan: Decimal | None,
    actor: str,
    today: date,
) -> MeasureRow:
    """Move a measure forward (409 `backward_move` otherwise) with its dates."""
    if status not in MEASURE_STATUSES:
        raise invalid(
            "status", "invalid_code", "status must be one of " + ", ".join(MEASURE_STATUSES)
        )
    current = measure.status
    finished = current in ("completed", "cancelled")
    if finished or (status != "cancelled" and _RANK[status] <= _RANK[current]):
        raise BackwardMove(f"The measure is {current}; it cannot become {status}.")
    new_started_on = measure.started_on
    new_completed_on = measure.completed_on
    if status in ("in_progress", "completed"):
        new_started_on = started_on or measure.started_on or today
    if status == "completed":
        new_completed_on = completed_on or today
        if new_started_on is not None and new_completed_on < new_started_on:
            raise invalid("completed_on", "invalid_date", "completed_on is before started_on")
    if new_started_on is not None and new_started_on < measure.planned_on:
        raise invalid("started_on", "invalid_date", "started_on is before planned_on")
    moved = replace(
        measure,
        status=status,
        started_on=new_started_on,
        completed_on=new_completed_on,
        amount_yuan=measure.amount_yuan if amount_yuan is None else amount_yuan,
    )
    await session.execute(
        _MOVE,
        {
            "status": moved.status,
            "started_on": moved.started_on,
            "completed_on": moved.completed_on,
            "amount_yuan": moved.amount_yuan,
            "county_code": moved.county_code,
            "measure_id": moved.measure_id,
        },
    )
    if status == "cancelled" and moved.development and moved.object_id is not None:
        await _sync_flag(session, county_code=moved.county_code, object_ids=[moved.object_id])
    await announce(
        session,
        type=_EVENTS[status],
        aggregate=("measure", str(moved.measure_id)),
        county_code=moved.county_code,
        actor=actor,
        payload=measure_payload(moved),
        details={"category": moved.category, "status": moved.status},
    )
    return moved


# A green-channel case's measures join the monitoring object its decision creates.
_ADOPT_CASE_MEASURES = text("""
WITH adopted AS (
    UPDATE measures m SET object_id = t.object_id, updated_at = now()
    FROM unnest(CAST(:case_ids AS uuid[]), CAST(:object_ids AS uuid[]), CAST(:counties AS text[]))
         AS t(case_id, object_id, county_code)
    WHERE m.county_code = t.county_code AND m.case_id = t.case_id AND m.object_id IS NULL
    RETURNING m.county_code, m.object_id, m.development AND m.status <> 'cancelled' AS counts
)
UPDATE monitoring_objects o SET development_assistance = true, updated_at = now()
FROM (SELECT DISTINCT county_code, object_id FROM adopted WHERE counts) d
WHERE o.county_code = d.county_code AND o.object_id = d.object_id
""")


async def _on_included(session: AsyncSession, events: list[EventRecord]) -> None:
    rows = [e.payload for e in events if e.payload.get("case_id")]
    if not rows:
        return
    await session.execute(
        _ADOPT_CASE_MEASURES,
        {
            "case_ids": [uuid.UUID(p["case_id"]) for p in rows],
            "object_ids": [uuid.UUID(p["object_id"]) for p in rows],
            "counties": [p["county_code"] for p in rows],
        },
    )
    await notify(session)


CASE_MEASURES = EventConsumer(
    "assistance.case-measures", _on_included, types=frozenset({MONITORING_OBJECT_INCLUDED})
)
