"""Regions, households, campaigns, screenings, monitoring objects and problems
for the spot-check and problem-ledger tests, written directly with SQL (the
campaign and screening endpoints have their own tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.regions import parent_code, region_level
from tests.services.warning_ingest.ingest_helpers import staff_headers

COUNTY = "610326000000"
TOWN = "610326100000"
OTHER_TOWN = "610326101000"
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)  # 10:00 on 20 May in Shanghai
TODAY = date(2026, 5, 20)
CAMPAIGNS = "/identification/v1/campaigns"
PROBLEMS = "/identification/v1/problems"

__all__ = [
    "CAMPAIGNS",
    "COUNTY",
    "NOW",
    "OTHER_TOWN",
    "PROBLEMS",
    "TODAY",
    "TOWN",
    "add_campaign",
    "add_households",
    "add_object",
    "add_problem",
    "add_regions",
    "add_screening",
    "screening_record",
    "staff_headers",
    "village",
]


def village(town: str, number: int) -> str:
    """The code of village `number` (201, 202, ...) of `town`."""
    return town[:9] + f"{number:03d}"


async def add_regions(session: AsyncSession, codes: list[str]) -> None:
    """The regions (named after their codes), with the county and towns above them."""
    wanted: set[str] = set()
    for code in codes:
        current: str | None = code
        while current is not None and region_level(current) not in ("province", "city"):
            wanted.add(current)
            current = parent_code(current)
    await session.execute(
        text(
            "INSERT INTO regions (code, name, level, parent_code)"
            " SELECT t.code, '区划' || t.code, t.level, t.parent"
            " FROM unnest(CAST(:codes AS text[]), CAST(:levels AS text[]),"
            "             CAST(:parents AS text[])) AS t(code, level, parent)"
            " ON CONFLICT (code) DO NOTHING"
        ),
        {
            "codes": sorted(wanted),
            "levels": [region_level(c) for c in sorted(wanted)],
            "parents": [parent_code(c) for c in sorted(wanted)],
        },
    )


async def add_households(session: AsyncSession, region: str, count: int) -> list[str]:
    """`count` registered households of the village `region` (ids `H<village>-<n>`)."""
    ids = [f"H{region[6:]}-{n:02d}" for n in range(1, count + 1)]
    await session.execute(
        text(
            "INSERT INTO households (county_code, household_id, region_code, category, head_name)"
            " SELECT :county, t.id, :region, 'general', '张三'"
            " FROM unnest(CAST(:ids AS text[])) AS t(id)"
        ),
        {"county": region[:6], "region": region, "ids": ids},
    )
    return ids


async def add_campaign(session: AsyncSession, region: str = COUNTY, year: int = 2026) -> uuid.UUID:
    campaign_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO campaigns (campaign_id, county_code, region_code, name, year, starts_on,"
            " phases, created_by) VALUES (:id, :county, :region, '2026年集中排查', :year,"
            " :starts_on, CAST(:phases AS jsonb), 'test')"
        ),
        {
            "id": campaign_id,
            "county": region[:6],
            "region": region,
            "year": year,
            "starts_on": date(year, 1, 1),
            "phases": orjson.dumps(
                [{"name": "入户排查", "kind": "household_screening", "due_on": f"{year}-05-21"}]
            ).decode(),
        },
    )
    return campaign_id


def screening_record(household_id: str, **fields: Any) -> dict[str, Any]:
    """A valid record of the screening shape (a village's or a checker's)."""
    record: dict[str, Any] = {
        "household_id": household_id,
        "screened_on": "2026-05-10",
        "screener": "李四",
        "residence": "in_village",
        "housing": "own_safe",
        "schooling": "none",
        "drinking_water": "tap_safe",
        "insured": "all",
        "uninsured_members": 0,
        "income_band": "above_10000",
        "rigid_expenditure": False,
        "civil_affairs_support": "none",
        "needs_inclusion": "no",
    }
    record.update(fields)
    return record


async def add_screening(
    session: AsyncSession, campaign_id: uuid.UUID, household_id: str, region: str, **fields: Any
) -> None:
    """The village's screening record of a household."""
    record = screening_record(household_id, **fields)
    record["screened_on"] = date.fromisoformat(record["screened_on"])
    record.setdefault("rigid_expenditure_reason", None)
    await session.execute(
        text(
            "INSERT INTO screenings (campaign_id, county_code, household_id, region_code,"
            " screened_on, screener, residence, housing, schooling, drinking_water, insured,"
            " uninsured_members, income_band, rigid_expenditure, rigid_expenditure_reason,"
            " civil_affairs_support, needs_inclusion, recorded_by) VALUES (:campaign_id,"
            " :county, :household_id, :region, :screened_on, :screener, :residence, :housing,"
            " :schooling, :drinking_water, :insured, :uninsured_members, :income_band,"
            " :rigid_expenditure, :rigid_expenditure_reason, :civil_affairs_support,"
            " :needs_inclusion, 'test')"
        ),
        {**record, "campaign_id": campaign_id, "county": region[:6], "region": region},
    )


async def add_object(
    session: AsyncSession, household_id: str, region: str, *, status: str = "risk_not_eliminated"
) -> None:
    """A monitoring object of a registered household."""
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
            " monitoring_type, risk_types, status, included_on, case_id)"
            " VALUES (:id, :county, :household, :region, 'marginal', ARRAY['illness'], :status,"
            " :included_on, :case_id)"
        ),
        {
            "id": uuid.uuid4(),
            "county": region[:6],
            "household": household_id,
            "region": region,
            "status": status,
            "included_on": date(2026, 1, 5),
            "case_id": uuid.uuid4(),
        },
    )


async def add_problem(
    session: AsyncSession,
    region: str,
    *,
    campaign_id: uuid.UUID | None = None,
    found_on: date = date(2026, 5, 1),
    due_on: date = date(2026, 6, 1),
    status: str = "open",
) -> uuid.UUID:
    problem_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO problems (problem_id, county_code, campaign_id, region_code, type,"
            " description, found_on, due_on, responsible, status, created_by)"
            " VALUES (:id, :county, :campaign_id, :region, 'data_quality', '数据不一致',"
            " :found_on, :due_on, '王五', :status, 'test')"
        ),
        {
            "id": problem_id,
            "county": region[:6],
            "campaign_id": campaign_id,
            "region": region,
            "found_on": found_on,
            "due_on": due_on,
            "status": status,
        },
    )
    return problem_id
