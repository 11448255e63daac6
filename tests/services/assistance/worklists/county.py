"""A hand-built county for the worklists: each object written straight into
the tables, named by what it shows, so that a list's membership is read
against the rules, criterion by criterion. Today is 2026-11-23; the line is
6900 (the 2022 figures, in force since)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

COUNTY_CODE = "610326"
VILLAGE = "610326100201"
OTHER_VILLAGE = "610326101201"
SECURE = {"housing": True, "education": True, "medical": True, "water": True}
# Above the line, 213 days apart, none below in between.
STABLE = (("2026-03-01", 7000), ("2026-10-01", 8000))


async def add(
    session: AsyncSession,
    name: str,
    *,
    status: str = "risk_not_eliminated",
    included_on: str = "2026-01-05",
    eliminated_on: str | None = None,
    assessments: tuple[tuple[str, float], ...] = STABLE,
    latest: dict[str, bool] | None = None,
    measures: tuple[tuple[str, str | None], ...] = (("in_progress", "2026-02-10"),),
    no_labour: bool = False,
    region: str = VILLAGE,
) -> uuid.UUID:
    """An object of household `name`; `latest` overrides the latest assessment's
    guarantees; `measures` are (status, started_on)."""
    object_id = uuid.uuid5(uuid.NAMESPACE_URL, name)
    key = {"county": COUNTY_CODE, "household": name, "object_id": object_id}
    await session.execute(
        text(
            "INSERT INTO households (county_code, household_id, region_code, category, head_name)"
            " VALUES (:county, :household, :region, 'general', '户主')"
        ),
        key | {"region": region},
    )
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
            " monitoring_type, risk_types, status, included_on, case_id, eliminated_on,"
            " whole_household_no_labour) VALUES (:object_id, :county, :household, :region,"
            " 'marginal', ARRAY['illness'], :status, :included_on, :case_id, :eliminated_on,"
            " :no_labour)"
        ),
        key
        | {
            "region": region,
            "status": status,
            "included_on": date.fromisoformat(included_on),
            "case_id": uuid.uuid4(),
            "eliminated_on": date.fromisoformat(eliminated_on) if eliminated_on else None,
            "no_labour": no_labour,
        },
    )
    for i, (day, income) in enumerate(assessments):
        flags = SECURE | (latest or {}) if i == len(assessments) - 1 else SECURE
        await _assess(session, key, day, income, flags)
    for status_, started in measures:
        await session.execute(
            text(
                "INSERT INTO measures (measure_id, county_code, object_id, household_id,"
                " region_code, category, development, responsible_department, status,"
                " planned_on, started_on, created_by) VALUES (:id, :county, :object_id,"
                " :household, :region, 'industry', true, 'agriculture', :status, '2026-02-01',"
                " :started, 'test')"
            ),
            key
            | {
                "id": uuid.uuid4(),
                "region": region,
                "status": status_,
                "started": date.fromisoformat(started) if started else None,
            },
        )
    return object_id


async def _assess(
    session: AsyncSession, key: dict[str, Any], day: str, income: float, flags: dict[str, bool]
) -> None:
    await session.execute(
        text(
            "INSERT INTO assessments (assessment_id, county_code, object_id, household_id,"
            " assessed_on, kind, income_per_capita_yuan, rigid_expenditure_yuan,"
            " housing_secure, education_secure, medical_secure, drinking_water_secure,"
            " actor, recorded_at) VALUES (:id, :county, :object_id, :household, :day,"
            " 'look_back', :income, 0, :housing, :education, :medical, :water, 'test', now())"
        ),
        key | flags | {"id": uuid.uuid4(), "day": date.fromisoformat(day), "income": income},
    )
