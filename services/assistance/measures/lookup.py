"""Reading measures: one by id and the staff list, newest planned first in
keyset pages ordered by (planned_on DESC, measure_id DESC), as `MeasureRow`s."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import MEASURE_CATEGORIES, MEASURE_STATUSES
from shared.db import fetch_one
from shared.errors import check_code
from shared.pagination import newest_first_rows
from shared.regions import scope_like_pattern


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """A measure as API.md shows it, plus its county."""

    measure_id: uuid.UUID
    county_code: str
    object_id: uuid.UUID | None
    case_id: uuid.UUID | None
    household_id: str
    region_code: str
    category: str
    development: bool
    responsible_department: str
    status: str
    planned_on: date
    started_on: date | None
    completed_on: date | None
    amount_yuan: Decimal | None
    description: str | None


# The fields of MeasureRow.
MEASURE_COLUMNS = """
    m.measure_id, m.county_code, m.object_id, m.case_id, m.household_id, m.region_code,
    m.category, m.development, m.responsible_department, m.status, m.planned_on,
    m.started_on, m.completed_on, m.amount_yuan, m.description
"""

# By id alone: a measure's URL carries no county, and its id is unique.
_MEASURE_BY_ID = text(f"SELECT {MEASURE_COLUMNS} FROM measures m WHERE m.measure_id = :id")


async def get_measure(session: AsyncSession, *, measure_id: uuid.UUID) -> MeasureRow | None:
    return await fetch_one(session, _MEASURE_BY_ID, {"id": measure_id}, into=MeasureRow)


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
) -> tuple[list[MeasureRow], str | None]:
    """Measures inside `region_code`, newest planned first, by keyset."""
    where, params = measure_filters(
        region_code=region_code, category=category, status=status, object_id=object_id
    )
    return await newest_first_rows(
        session,
        into=MeasureRow,
        select=f"SELECT {MEASURE_COLUMNS} FROM measures m",
        where=where,
        params=params,
        order=(("m.planned_on", "planned_on", date), ("m.measure_id", "measure_id", uuid.UUID)),
        cursor=cursor,
        limit=limit,
    )
