"""Assessments of a monitoring object: routine visits (每月入户走访) and look-back
checks (回头看), each recording income, rigid expenditure, the three guarantees
(三保障) and drinking water. Risk elimination (services.assistance.objects.elimination)
reads them; an assessment's income is judged against the monitoring line of
its own year.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.assistance.measures.lifecycle import ObjectRemoved
from services.assistance.objects.elimination import ObjectRow
from services.assistance.objects.schemas import AssessmentKind, AssessmentOut
from shared import audit
from shared.db import fetch_all
from shared.errors import invalid
from shared.event_types import ASSESSMENT_RECORDED
from shared.events import publish
from shared.pagination import decode_cursor, page_of
from shared.policy import Policy

ASSESSMENT_KINDS = ("routine", "look_back")


@dataclass(frozen=True, slots=True)
class AssessmentRow:
    """An assessment as recorded (API.md `Assessment` without the line it is
    judged by, which `assessment_out` adds)."""

    assessment_id: uuid.UUID
    county_code: str
    object_id: uuid.UUID
    household_id: str
    assessed_on: date
    kind: AssessmentKind
    income_per_capita_yuan: Decimal
    rigid_expenditure_yuan: Decimal
    housing_secure: bool
    education_secure: bool
    medical_secure: bool
    drinking_water_secure: bool
    notes: str | None
    recorded_at: datetime


# The fields of AssessmentRow.
ASSESSMENT_COLUMNS = """
    a.assessment_id, a.county_code, a.object_id, a.household_id, a.assessed_on, a.kind,
    a.income_per_capita_yuan, a.rigid_expenditure_yuan, a.housing_secure,
    a.education_secure, a.medical_secure, a.drinking_water_secure, a.notes, a.recorded_at
"""


def monitoring_line(policy: Policy, day: date) -> Decimal:
    """The monitoring line (监测线) of `day`'s year, or the latest earlier year's."""
    return policy.figures_for(day).monitoring_line_yuan


def assessment_out(assessment: AssessmentRow, policy: Policy) -> AssessmentOut:
    """The assessment with the line of its year it was judged by and `above_line`."""
    line = monitoring_line(policy, assessment.assessed_on)
    return AssessmentOut(
        **_public(assessment),
        monitoring_line_yuan=line,
        above_line=assessment.income_per_capita_yuan > line,
    )


def _public(assessment: AssessmentRow) -> dict[str, Any]:
    fields = asdict(assessment)
    del fields["county_code"]
    return fields


# One assessment, as recorded: the actor is kept for the audit trail.
_INSERT = text(
    "INSERT INTO assessments (assessment_id, county_code, object_id, household_id,"
    " assessed_on, kind, income_per_capita_yuan, rigid_expenditure_yuan,"
    " housing_secure, education_secure, medical_secure, drinking_water_secure, notes,"
    " actor, recorded_at) VALUES (:assessment_id, :county_code, :object_id,"
    " :household_id, :assessed_on, :kind, :income_per_capita_yuan,"
    " :rigid_expenditure_yuan, :housing_secure, :education_secure, :medical_secure,"
    " :drinking_water_secure, :notes, :actor, :recorded_at)"
)


async def record_assessment(
    session: AsyncSession,
    *,
    obj: ObjectRow,
    assessed_on: date,
    kind: AssessmentKind,
    income_per_capita_yuan: Decimal,
    rigid_expenditure_yuan: Decimal,
    housing_secure: bool,
    education_secure: bool,
    medical_secure: bool,
    drinking_water_secure: bool,
    notes: str | None,
    actor: str,
    policy: Policy,
    today: date,
    now: datetime,
) -> AssessmentOut:
    """Record an assessment of `obj`; audited, `assessment.recorded`.

    422 `invalid_date` when `assessed_on` is in the future or before the
    object's inclusion; 409 `object_removed` for a removed object.
    """
    if obj.status == "removed":
        raise ObjectRemoved("The monitoring object was removed (清退); it is not assessed.")
    if kind not in ASSESSMENT_KINDS:
        raise invalid("kind", "invalid_code", "kind must be one of " + ", ".join(ASSESSMENT_KINDS))
    if assessed_on > today:
        raise invalid("assessed_on", "invalid_date", "assessed_on is in the future")
    if assessed_on < obj.included_on:
        raise invalid("assessed_on", "invalid_date", "assessed_on is before the inclusion")
    assessment = AssessmentRow(
        assessment_id=uuid.uuid4(),
        county_code=obj.county_code,
        object_id=obj.object_id,
        household_id=obj.household_id,
        assessed_on=assessed_on,
        kind=kind,
        income_per_capita_yuan=income_per_capita_yuan,
        rigid_expenditure_yuan=rigid_expenditure_yuan,
        housing_secure=housing_secure,
        education_secure=education_secure,
        medical_secure=medical_secure,
        drinking_water_secure=drinking_water_secure,
        notes=notes,
        recorded_at=now,
    )
    await session.execute(_INSERT, asdict(assessment) | {"actor": actor})
    recorded = assessment_out(assessment, policy)
    assessment_id, object_id = str(assessment.assessment_id), str(obj.object_id)
    # Notes are free text and stay out of the event and the audit details.
    await publish(
        session,
        type=ASSESSMENT_RECORDED,
        aggregate=("monitoring_object", object_id),
        county_code=obj.county_code,
        actor=actor,
        payload={
            "assessment_id": assessment_id,
            "object_id": object_id,
            "household_id": obj.household_id,
            "kind": kind,
            "assessed_on": assessed_on.isoformat(),
            "above_line": recorded.above_line,
        },
    )
    await audit.record(
        session,
        actor=actor,
        action=ASSESSMENT_RECORDED,
        target_type="assessment",
        target_id=assessment_id,
        county_code=obj.county_code,
        details={
            "object_id": object_id,
            "kind": kind,
            "assessed_on": assessed_on.isoformat(),
            "above_line": recorded.above_line,
        },
    )
    return recorded


async def list_assessments(
    session: AsyncSession,
    *,
    obj: ObjectRow,
    policy: Policy,
    cursor: str | None,
    limit: int,
) -> tuple[list[AssessmentOut], str | None]:
    """The object's assessments, newest first (by assessed_on, then recording), by keyset."""
    clauses = ["a.county_code = :county_code", "a.object_id = :object_id"]
    params: dict[str, Any] = {
        "county_code": obj.county_code,
        "object_id": obj.object_id,
        "limit": limit + 1,
    }
    if cursor is not None:
        assessed_on, recorded_at, assessment_id = decode_cursor(cursor, (date, datetime, uuid.UUID))
        clauses.append("(a.assessed_on, a.recorded_at, a.assessment_id) < (:on, :at, :id)")
        params |= {"on": assessed_on, "at": recorded_at, "id": assessment_id}
    statement = text(
        f"SELECT {ASSESSMENT_COLUMNS} FROM assessments a WHERE {' AND '.join(clauses)}"
        " ORDER BY a.assessed_on DESC, a.recorded_at DESC, a.assessment_id DESC"
        " LIMIT :limit"
    )
    rows = await fetch_all(session, statement, params, into=AssessmentRow)
    page, next_cursor = page_of(
        rows, limit, lambda row: [row.assessed_on, row.recorded_at, row.assessment_id]
    )
    return [assessment_out(row, policy) for row in page], next_cursor
