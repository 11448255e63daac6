"""Reading cases in the shape API.md gives them, and the lookups that 404
outside a caller's scope, as typed rows (`CaseRow`, `HouseholdRow`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.schemas import (
    CaseOut,
    CaseSource,
    CaseState,
    CaseSteps,
    DecisionOut,
)
from services.identification.cases.schemas import Outcome as CaseOutcome
from services.identification.households.schemas import HouseholdCategory
from shared.auth import Principal, Staff, row_in_scope
from shared.catalog import CASE_STEPS
from shared.db import SessionDep, fetch_one
from shared.errors import NotFound
from shared.policy import get_policy


@dataclass(frozen=True, slots=True)
class CaseRow:
    """A case as CASE_COLUMNS reads it: its own columns, its steps' forms and
    its warnings."""

    case_id: uuid.UUID
    county_code: str
    household_id: str
    region_code: str
    source: CaseSource
    description: str | None
    risk_types: list[str]
    opened_on: date
    deadline: date
    state: CaseState
    completed: bool
    green_channel: bool
    green_channel_reason: str | None
    outcome: CaseOutcome | None
    monitoring_type: str | None
    decision_risk_types: list[str] | None
    reason: str | None
    decided_on: date | None
    overdue_at: datetime | None
    steps_done: list[str]
    steps: dict[str, dict[str, Any]]  # step -> its form, done_on and recorded_by
    warning_ids: list[uuid.UUID]


@dataclass(frozen=True, slots=True)
class HouseholdRow:
    """A household as the case and household routes need it."""

    county_code: str
    household_id: str
    region_code: str
    category: HouseholdCategory
    head_name: str


# Every column of CaseRow, with its steps and warnings folded in, so that a
# page of cases is one statement.
CASE_COLUMNS = """
    c.case_id, c.county_code, c.household_id, c.region_code, c.source, c.description,
    c.risk_types, c.opened_on, c.deadline, c.state, c.completed, c.green_channel,
    c.green_channel_reason, c.outcome, c.monitoring_type, c.decision_risk_types, c.reason,
    c.decided_on, c.overdue_at, c.steps_done,
    coalesce((SELECT jsonb_object_agg(s.step, s.form || jsonb_build_object(
                  'done_on', s.done_on, 'recorded_by', s.actor))
              FROM case_steps s
              WHERE s.case_id = c.case_id AND s.county_code = c.county_code), '{}'::jsonb)
        AS steps,
    coalesce((SELECT array_agg(w.warning_id ORDER BY w.warning_id) FROM case_warnings w
              WHERE w.case_id = c.case_id AND w.county_code = c.county_code), '{}') AS warning_ids
"""

# By id alone: a case's URL carries no county, and its id is unique.
_CASE_BY_ID = text(f"SELECT {CASE_COLUMNS} FROM cases c WHERE c.case_id = :case_id")

# Household ids are unique per county, and staff scopes lie inside one county.
_HOUSEHOLD = text(
    "SELECT county_code, household_id, region_code, category, head_name"
    " FROM households WHERE county_code = :county AND household_id = :id"
)


def case_view(row: CaseRow, *, today: date) -> CaseOut:
    """The API.md case from a CaseRow."""
    undecided = row.decided_on is None
    steps = row.steps or {}
    decision = None
    if row.decided_on is not None:
        assert row.outcome is not None
        decision = DecisionOut(
            outcome=row.outcome,
            monitoring_type=row.monitoring_type,
            risk_types=row.decision_risk_types,
            reason=row.reason,
            decided_on=row.decided_on,
        )
    days_left = (row.deadline - today).days
    return CaseOut(
        case_id=row.case_id,
        household_id=row.household_id,
        region_code=row.region_code,
        source=row.source,
        description=row.description,
        risk_types=row.risk_types,
        opened_on=row.opened_on,
        deadline=row.deadline,
        days_left=days_left,
        state=row.state,
        completed=row.completed,
        overdue=undecided and days_left < 0,
        due_soon=undecided and 0 <= days_left <= get_policy().identification.due_soon_days,
        green_channel=row.green_channel,
        steps=CaseSteps.model_validate({step: steps.get(step) for step in CASE_STEPS}),
        decision=decision,
        warning_ids=row.warning_ids,
    )


async def get_case_row(session: AsyncSession, *, case_id: uuid.UUID) -> CaseRow | None:
    return await fetch_one(session, _CASE_BY_ID, {"case_id": case_id}, into=CaseRow)


async def case_in_scope(case_id: uuid.UUID, session: SessionDep, principal: Staff) -> CaseRow:
    """The case row, or 404 if it does not exist or lies outside the caller's scope."""
    return row_in_scope(principal, await get_case_row(session, case_id=case_id))


CaseInScope = Annotated[CaseRow, Depends(case_in_scope)]


async def household_in_scope(
    session: AsyncSession, *, household_id: str, principal: Principal
) -> HouseholdRow:
    """The household inside the caller's scope, or 404."""
    if principal.region_code is None:
        raise NotFound()
    row = await fetch_one(
        session,
        _HOUSEHOLD,
        {"county": principal.region_code[:6], "id": household_id},
        into=HouseholdRow,
    )
    return row_in_scope(principal, row)
