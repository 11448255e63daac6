"""Assistance measures (帮扶措施): planned for a monitoring object (or, in the
green channel, for a case's household before its decision), then moved
forward only: planned → in_progress → completed, or cancelled on the way.

A monitoring object's `development_assistance` flag follows from its
measures: true while it has a development measure that is not cancelled.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import DEPARTMENTS, MEASURE_CATEGORIES, MEASURE_STATUSES
from shared.errors import Conflict, NotFound, check_code, invalid
from shared.event_types import (
    MEASURE_CANCELLED,
    MEASURE_COMPLETED,
    MEASURE_PLANNED,
    MEASURE_STARTED,
    MONITORING_OBJECT_INCLUDED,
)
from shared.events import EventConsumer, EventRecord, announce, notify
from shared.pagination import newest_first
from shared.regions import scope_like_pattern

# The forward order of statuses; `cancelled` may follow any unfinished one.
_RANK = {"planned": 0, "in_progress": 1, "completed": 2}
_EVENTS = {
    "in_progress": MEASURE_STARTED,
    "completed": MEASURE_COMPLETED,
    "cancelled": MEASURE_CANCELLED,
}

MEASURE_COLUMNS = """
    m.measure_id, m.county_code, m.object_id, m.case_id, m.household_id, m.region_code,
    m.category, m.development, m.responsible_department, m.status, m.planned_on,
    m.started_on, m.completed_on, m.amount_yuan, m.description
"""

# The flag follows the measures: one statement for one household or many.
_SYNC_DEVELOPMENT_FLAG = """
UPDATE monitoring_objects o SET development_assistance = EXISTS (
    SELECT 1 FROM measures m
    WHERE m.county_code = o.county_code AND m.object_id = o.object_id
      AND m.development AND m.status <> 'cancelled'),
    updated_at = now()
WHERE o.county_code = :county_code AND o.object_id = ANY(CAST(:object_ids AS uuid[]))
"""


class NotGreenChannel(Conflict):
    slug, title = (
        "not_green_channel",
        "Only a green-channel case takes measures before its decision",
    )


class BackwardMove(Conflict):
    slug, title = "backward_move", "A measure's status only moves forward"


class ObjectRemoved(Conflict):
    slug, title = "object_removed", "The monitoring object was removed from monitoring"


def measure_payload(measure: dict[str, Any]) -> dict[str, Any]:
    return {
        "measure_id": str(measure["measure_id"]),
        "object_id": None if measure["object_id"] is None else str(measure["object_id"]),
        "case_id": None if measure["case_id"] is None else str(measure["case_id"]),
        "household_id": measure["household_id"],
        "county_code": measure["county_code"],
        "category": measure["category"],
        "development": measure["development"],
        "status": measure["status"],
        "planned_on": measure["planned_on"].isoformat(),
        "started_on": measure["started_on"] and measure["started_on"].isoformat(),
        "completed_on": measure["completed_on"] and measure["completed_on"].isoformat(),
    }


async def get_measure(session: AsyncSession, *, measure_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(f"SELECT {MEASURE_COLUMNS} FROM measures m WHERE m.measure_id = :id"),
                {"id": measure_id},
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


async def _target(
    session: AsyncSession, *, object_id: uuid.UUID | None, case_id: uuid.UUID | None
) -> dict[str, Any]:
    """Where a new measure belongs: a monitoring object, or a green-channel
    case's household. 404 when neither exists (scope is checked by the caller)."""
    if object_id is not None:
        sql = (
            "SELECT county_code, object_id, NULL::uuid AS case_id, household_id, region_code,"
            " status FROM monitoring_objects WHERE object_id = :id"
        )
    else:
        sql = (
            "SELECT county_code, NULL::uuid AS object_id, case_id, household_id, region_code,"
            " green_channel, decided_on FROM cases WHERE case_id = :id"
        )
    row = (await session.execute(text(sql), {"id": object_id or case_id})).mappings().first()
    if row is None:
        raise NotFound()
    return dict(row)


async def find_target(
    session: AsyncSession, *, object_id: uuid.UUID | None, case_id: uuid.UUID | None
) -> dict[str, Any]:
    """The object or case a measure is for; 422 unless exactly one is named."""
    if (object_id is None) == (case_id is None):
        raise invalid("object_id", "missing_field", "name exactly one of object_id and case_id")
    return await _target(session, object_id=object_id, case_id=case_id)


async def plan_measure(
    session: AsyncSession,
    *,
    target: dict[str, Any],
    category: str,
    responsible_department: str | None,
    planned_on: date,
    amount_yuan: Decimal | None,
    description: str | None,
    actor: str,
) -> dict[str, Any]:
    """Plan a measure for `target` (from `find_target`); audited, `measure.planned`."""
    kind = MEASURE_CATEGORIES.get(category)
    if kind is None:
        raise invalid(
            "category", "invalid_code", "category must be a measure category of the catalog"
        )
    department = responsible_department or kind.department
    if department not in DEPARTMENTS:
        raise invalid("responsible_department", "invalid_code", "not a department of the catalog")
    if target["object_id"] is None:
        if category == "anti_poverty_insurance":
            raise invalid(
                "category",
                "object_required",
                "anti-poverty insurance (防贫保) is only for monitoring objects",
            )
        if not target["green_channel"] or target["decided_on"] is not None:
            raise NotGreenChannel("Plan measures for the monitoring object once it is decided.")
    elif target["status"] == "removed":
        raise ObjectRemoved("The monitoring object was removed (清退); it takes no measures.")
    measure = {
        "measure_id": uuid.uuid4(),
        "county_code": target["county_code"],
        "object_id": target["object_id"],
        "case_id": target["case_id"],
        "household_id": target["household_id"],
        "region_code": target["region_code"],
        "category": category,
        "development": kind.development,
        "responsible_department": department,
        "status": "planned",
        "planned_on": planned_on,
        "started_on": None,
        "completed_on": None,
        "amount_yuan": amount_yuan,
        "description": description,
    }
    await session.execute(
        text(
            "INSERT INTO measures (measure_id, county_code, object_id, case_id, household_id,"
            " region_code, category, development, responsible_department, status, planned_on,"
            " amount_yuan, description, created_by) VALUES (:measure_id, :county_code,"
            " :object_id, :case_id, :household_id, :region_code, :category, :development,"
            " :responsible_department, :status, :planned_on, :amount_yuan, :description, :actor)"
        ),
        {
            **{k: v for k, v in measure.items() if k not in ("started_on", "completed_on")},
            "actor": actor,
        },
    )
    if measure["object_id"] is not None and kind.development:
        await _sync_flag(
            session, county_code=measure["county_code"], object_ids=[measure["object_id"]]
        )
    await announce(
        session,
        type=MEASURE_PLANNED,
        aggregate=("measure", str(measure["measure_id"])),
        county_code=measure["county_code"],
        actor=actor,
        payload=measure_payload(measure),
        details={"category": measure["category"], "status": measure["status"]},
    )
    return measure


async def _sync_flag(session: AsyncSession, *, county_code: str, object_ids: list[Any]) -> None:
    await session.execute(
        text(_SYNC_DEVELOPMENT_FLAG), {"county_code": county_code, "object_ids": object_ids}
    )


async def move_measure(
    session: AsyncSession,
    *,
    measure: dict[str, Any],
    status: str,
    started_on: date | None,
    completed_on: date | None,
    amount_yuan: Decimal | None,
    actor: str,
    today: date,
) -> dict[str, Any]:
    """Move a measure forward (409 `backward_move` otherwise) with its dates."""
    if status not in MEASURE_STATUSES:
        raise invalid(
            "status", "invalid_code", "status must be one of " + ", ".join(MEASURE_STATUSES)
        )
    current = measure["status"]
    finished = current in ("completed", "cancelled")
    if finished or (status != "cancelled" and _RANK[status] <= _RANK[current]):
        raise BackwardMove(f"The measure is {current}; it cannot become {status}.")
    moved = dict(measure, status=status)
    if status in ("in_progress", "completed"):
        moved["started_on"] = started_on or measure["started_on"] or today
    if status == "completed":
        moved["completed_on"] = completed_on or today
        if moved["completed_on"] < moved["started_on"]:
            raise invalid("completed_on", "invalid_date", "completed_on is before started_on")
    if moved["started_on"] is not None and moved["started_on"] < measure["planned_on"]:
        raise invalid("started_on", "invalid_date", "started_on is before planned_on")
    if amount_yuan is not None:
        moved["amount_yuan"] = amount_yuan
    await session.execute(
        text(
            "UPDATE measures SET status = :status, started_on = :started_on,"
            " completed_on = :completed_on, amount_yuan = :amount_yuan, updated_at = now()"
            " WHERE county_code = :county_code AND measure_id = :measure_id"
        ),
        {
            k: moved[k]
            for k in (
                "status",
                "started_on",
                "completed_on",
                "amount_yuan",
                "county_code",
                "measure_id",
            )
        },
    )
    if status == "cancelled" and moved["development"] and moved["object_id"] is not None:
        await _sync_flag(session, county_code=moved["county_code"], object_ids=[moved["object_id"]])
    await announce(
        session,
        type=_EVENTS[status],
        aggregate=("measure", str(moved["measure_id"])),
        county_code=moved["county_code"],
        actor=actor,
        payload=measure_payload(moved),
        details={"category": moved["category"], "status": moved["status"]},
    )
    return moved


def measure_filters(
    *,
    region_code: str,
    category: str | None,
    status: str | None,
    object_id: uuid.UUID | None,
) -> tuple[list[str], dict[str, Any]]:
    """The list's filters as WHERE clauses on `measures m` and their parameters;
    422 `invalid_code` for a category or status outside its list."""
    check_code("category", category, MEASURE_CATEGORIES)
    check_code("status", status, MEASURE_STATUSES)
    filters = {"category": category, "status": status, "object_id": object_id}
    given = {name: value for name, value in filters.items() if value is not None}
    where = ["m.region_code LIKE :scope", *(f"m.{name} = :{name}" for name in given)]
    return where, {"scope": scope_like_pattern(region_code), **given}


async def list_measures(
    session: AsyncSession,
    *,
    region_code: str,
    category: str | None,
    status: str | None,
    object_id: uuid.UUID | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Measures inside `region_code`, newest planned first, by keyset."""
    where, params = measure_filters(
        region_code=region_code, category=category, status=status, object_id=object_id
    )
    return await newest_first(
        session,
        select=f"SELECT {MEASURE_COLUMNS} FROM measures m",
        where=where,
        params=params,
        order=(("m.planned_on", "planned_on", date), ("m.measure_id", "measure_id", uuid.UUID)),
        cursor=cursor,
        limit=limit,
    )


# A green-channel case's measures join the monitoring object its decision creates.
_ADOPT_CASE_MEASURES = """
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
"""


async def _on_included(session: AsyncSession, events: list[EventRecord]) -> None:
    rows = [e.payload for e in events if e.payload.get("case_id")]
    if not rows:
        return
    await session.execute(
        text(_ADOPT_CASE_MEASURES),
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
