"""Monthly visits (每月走访, Lingshou: 每月至少走访一次脱贫户和监测对象): a grid
worker visits every poverty-alleviated household and every monitoring object
each month, and records income, labour, employment and changes in the
household. A visit that finds a new risk asks identification for a case.

Why through the events table and not a function in shared/: the visit and its
`visit.recorded` event commit in one transaction, so a visit is never recorded
without its request for a case nor the other way round; identification's
consumer (services/identification/cases/from_visits.py) then opens the
`cadre_screening` case in its own transaction, exactly once, with the rules of
case opening kept where they live (one open case per household: a household
with an open case keeps it). A shared function would have moved those rules
into shared/ and let assistance write the cases table. The case appears a few
seconds after the visit, as cases from department warnings do.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, row_in_scope
from shared.db import fetch_one
from shared.errors import Conflict, NotFound, invalid
from shared.event_types import VISIT_RECORDED
from shared.events import announce


class HouseholdNotFollowed(Conflict):
    slug, title = (
        "household_not_visited_monthly",
        "Monthly visits are for poverty-alleviated households and monitoring objects",
    )


@dataclass(frozen=True, slots=True)
class VisitedHousehold:
    """A household as a monthly visit needs it: its object at risk (if any)
    and whether it is monitored at all (an object not removed)."""

    county_code: str
    household_id: str
    region_code: str
    category: str
    object_id: uuid.UUID | None
    monitored: bool


@dataclass(frozen=True, slots=True)
class VisitRow:
    """A monthly visit as recorded (API.md `Visit`, plus its county)."""

    visit_id: uuid.UUID
    county_code: str
    household_id: str
    region_code: str
    object_id: uuid.UUID | None
    visited_on: date
    income_per_capita_yuan: Decimal | None
    labour_capable_members: int | None
    employed_members: int | None
    member_changes: str | None
    new_risk: bool
    notes: str | None
    recorded_at: datetime


# The fields of VisitedHousehold; household ids are unique per county.
_HOUSEHOLD = text("""
SELECT h.county_code, h.household_id, h.region_code, h.category,
       (SELECT o.object_id FROM monitoring_objects o
        WHERE o.county_code = h.county_code AND o.household_id = h.household_id
          AND o.status = 'risk_not_eliminated') AS object_id,
       EXISTS (SELECT 1 FROM monitoring_objects o
               WHERE o.county_code = h.county_code AND o.household_id = h.household_id
                 AND o.status <> 'removed') AS monitored
FROM households h WHERE h.county_code = :county AND h.household_id = :id
""")

# A visit as recorded; its author is kept for the audit trail.
_INSERT = text(
    "INSERT INTO household_visits (visit_id, county_code, household_id, region_code,"
    " object_id, visited_on, income_per_capita_yuan, labour_capable_members,"
    " employed_members, member_changes, new_risk, notes, actor, recorded_at)"
    " VALUES (:visit_id, :county_code, :household_id, :region_code, :object_id,"
    " :visited_on, :income_per_capita_yuan, :labour_capable_members,"
    " :employed_members, :member_changes, :new_risk, :notes, :actor, :recorded_at)"
)


async def household_in_scope(
    session: AsyncSession, *, household_id: str, principal: Principal
) -> VisitedHousehold:
    """The household with its object at risk (if any) inside the caller's scope,
    or 404. Household ids are unique per county; staff scopes lie in one county."""
    if principal.region_code is None:
        raise NotFound()
    params = {"county": principal.region_code[:6], "id": household_id}
    row = await fetch_one(session, _HOUSEHOLD, params, into=VisitedHousehold)
    return row_in_scope(principal, row)


async def record_visit(
    session: AsyncSession,
    *,
    household: VisitedHousehold,
    visited_on: date,
    income_per_capita_yuan: Decimal | None,
    labour_capable_members: int | None,
    employed_members: int | None,
    member_changes: str | None,
    new_risk: bool,
    notes: str | None,
    actor: str,
    today: date,
    now: datetime,
) -> VisitRow:
    """Record a visit to a poverty-alleviated or monitored household; audited,
    `visit.recorded` (whose `new_risk` makes identification open a case).

    409 `household_not_visited_monthly` for a household neither
    poverty-alleviated nor a monitoring object (removed ones aside); 422
    `date_in_future` for a visit after today.
    """
    if household.category != "poverty_alleviated" and not household.monitored:
        raise HouseholdNotFollowed(
            "The household is neither poverty-alleviated nor a monitoring object."
        )
    if visited_on > today:
        raise invalid("visited_on", "date_in_future", "visited_on must not be after today")
    visit = VisitRow(
        visit_id=uuid.uuid4(),
        county_code=household.county_code,
        household_id=household.household_id,
        region_code=household.region_code,
        object_id=household.object_id,
        visited_on=visited_on,
        income_per_capita_yuan=income_per_capita_yuan,
        labour_capable_members=labour_capable_members,
        employed_members=employed_members,
        member_changes=member_changes,
        new_risk=new_risk,
        notes=notes,
        recorded_at=now,
    )
    await session.execute(_INSERT, asdict(visit) | {"actor": actor})
    # Member changes and notes are free text about people: kept in the row only.
    details = {"visited_on": visited_on.isoformat(), "new_risk": new_risk}
    object_id = household.object_id
    await announce(
        session,
        type=VISIT_RECORDED,
        aggregate=("household", household.household_id),
        county_code=household.county_code,
        actor=actor,
        payload={
            "visit_id": str(visit.visit_id),
            "household_id": household.household_id,
            "county_code": household.county_code,
            "region_code": household.region_code,
            "object_id": None if object_id is None else str(object_id),
            **details,
        },
        details=details,
    )
    return visit
