"""Reading cases in the shape API.md gives them, and the lookups that 404
outside a caller's scope."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Staff, found_in_scope
from shared.catalog import CASE_STEPS
from shared.db import SessionDep
from shared.errors import NotFound
from shared.policy import get_policy

# Every column a case view needs, with its steps and warnings folded in, so
# that a page of cases is one statement.
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


def case_view(row: dict[str, Any], *, today: date) -> dict[str, Any]:
    """The API.md case from a row selected with CASE_COLUMNS."""
    undecided = row["decided_on"] is None
    steps = row["steps"] or {}
    decision = None
    if not undecided:
        decision = {
            "outcome": row["outcome"],
            "monitoring_type": row["monitoring_type"],
            "risk_types": row["decision_risk_types"],
            "reason": row["reason"],
            "decided_on": row["decided_on"],
        }
    days_left = (row["deadline"] - today).days
    return {
        "case_id": row["case_id"],
        "household_id": row["household_id"],
        "region_code": row["region_code"],
        "source": row["source"],
        "description": row["description"],
        "risk_types": row["risk_types"],
        "opened_on": row["opened_on"],
        "deadline": row["deadline"],
        "days_left": days_left,
        "state": row["state"],
        "completed": row["completed"],
        "overdue": undecided and days_left < 0,
        "due_soon": undecided and 0 <= days_left <= get_policy().identification.due_soon_days,
        "green_channel": row["green_channel"],
        "steps": {step: steps.get(step) for step in CASE_STEPS},
        "decision": decision,
        "warning_ids": row["warning_ids"],
    }


async def get_case_row(session: AsyncSession, *, case_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        (
            await session.execute(
                text(f"SELECT {CASE_COLUMNS} FROM cases c WHERE c.case_id = :case_id"),
                {"case_id": case_id},
            )
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


async def case_in_scope(
    case_id: uuid.UUID, session: SessionDep, principal: Staff
) -> dict[str, Any]:
    """The case row, or 404 if it does not exist or lies outside the caller's scope."""
    return found_in_scope(principal, await get_case_row(session, case_id=case_id))


CaseInScope = Annotated[dict[str, Any], Depends(case_in_scope)]


async def household_in_scope(
    session: AsyncSession, *, household_id: str, principal: Principal
) -> dict[str, Any]:
    """The household (county_code, household_id, region_code, category, head_name)
    inside the caller's scope, or 404. Household ids are unique per county, and
    staff scopes lie inside one county."""
    if principal.region_code is None:
        raise NotFound()
    row = (
        (
            await session.execute(
                text(
                    "SELECT county_code, household_id, region_code, category, head_name"
                    " FROM households WHERE county_code = :county AND household_id = :id"
                ),
                {"county": principal.region_code[:6], "id": household_id},
            )
        )
        .mappings()
        .first()
    )
    if row is None or not principal.covers(row["region_code"]):
        raise NotFound()
    return dict(row)
