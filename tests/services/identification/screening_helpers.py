"""A small registry, a campaign, screening records and upload bodies for the
screening-campaign tests (and anyone who needs a campaign to test against).

The registry (`load_registry`), by town and village:

    610326000000 county
      610326100000 town A
        610326100201 VILLAGE        H-1 general, H-2 general, H-3 poverty_alleviated
        610326100202 VILLAGE_B      H-4 poverty_alleviated, H-5 general
      610326101000 OTHER_TOWN
        610326101201 OTHER_TOWN_VILLAGE   H-6 general, H-7 poverty_alleviated
        610326101202 EMPTY_VILLAGE  (no household)

Campaign dates lie in 2026 (the Meixian 2022 plan moved to 2026); freeze the
clock at `DURING` (before any due date) to upload, at a later day to see
phases late.
"""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.campaigns.schemas import XLSX_MEDIA_TYPE
from services.identification.screenings.record import FIELDS
from shared.pii import PiiProtector
from shared.registry import load_households, load_regions
from shared.settings import get_settings
from tests.services.warning_ingest.ingest_helpers import COUNTY, VILLAGE, person, staff_headers

CAMPAIGNS = "/identification/v1/campaigns"
TOWN = "610326100000"
VILLAGE_B = "610326100202"
OTHER_TOWN = "610326101000"
OTHER_TOWN_VILLAGE = "610326101201"
EMPTY_VILLAGE = "610326101202"
YEAR = 2026
# 8 May 2026, 10:00 in Shanghai: before every due date of `PHASES`.
DURING = datetime(2026, 5, 8, 2, 0, tzinfo=UTC)
SCREENED_ON = "2026-05-06"
CSV = "text/csv"
XLSX = XLSX_MEDIA_TYPE

PHASES: list[dict[str, Any]] = [
    {"name": "动员部署", "kind": "mobilisation", "due_on": "2026-04-30"},
    {"name": "入户排查", "kind": "household_screening", "due_on": "2026-05-21"},
    {"name": "交叉排查", "kind": "cross_screening", "due_on": "2026-05-26"},
    {"name": "暗访抽查", "kind": "spot_check", "due_on": "2026-05-31"},
    {"name": "数据录入", "kind": "data_entry", "due_on": "2026-06-09"},
    {"name": "总结报告", "kind": "summary", "due_on": "2026-06-12"},
]

REGIONS = [
    (COUNTY, "眉县"),
    (TOWN, "首善街道"),
    (VILLAGE, "第一村"),
    (VILLAGE_B, "第二村"),
    (OTHER_TOWN, "横渠镇"),
    (OTHER_TOWN_VILLAGE, "横渠村"),
    (EMPTY_VILLAGE, "空村"),
]
# household id -> (village, category)
HOUSEHOLDS: dict[str, tuple[str, str]] = {
    "H-1": (VILLAGE, "general"),
    "H-2": (VILLAGE, "general"),
    "H-3": (VILLAGE, "poverty_alleviated"),
    "H-4": (VILLAGE_B, "poverty_alleviated"),
    "H-5": (VILLAGE_B, "general"),
    "H-6": (OTHER_TOWN_VILLAGE, "general"),
    "H-7": (OTHER_TOWN_VILLAGE, "poverty_alleviated"),
}

__all__ = [
    "CAMPAIGNS",
    "COUNTY",
    "CSV",
    "DURING",
    "EMPTY_VILLAGE",
    "HOUSEHOLDS",
    "OTHER_TOWN",
    "OTHER_TOWN_VILLAGE",
    "PHASES",
    "SCREENED_ON",
    "TOWN",
    "VILLAGE",
    "VILLAGE_B",
    "XLSX",
    "YEAR",
    "create_campaign",
    "csv_body",
    "load_registry",
    "monitor",
    "screening",
    "staff_headers",
    "upload",
    "xlsx_body",
]


async def load_registry(session: AsyncSession) -> None:
    """Load the regions and households drawn in the module docstring."""
    regions = await load_regions(session, [{"code": c, "name": n} for c, n in REGIONS])
    assert regions.rejected == 0, regions.summary()
    households = [
        {
            "household_id": household_id,
            "region_code": village,
            "category": category,
            "head_name": "张三",
            "members": [
                {
                    "id_number": person(100 + n),
                    "name": "张三",
                    "relation": "head",
                    "labour_capacity": "full",
                }
            ],
        }
        for n, (household_id, (village, category)) in enumerate(HOUSEHOLDS.items())
    ]
    result = await load_households(
        session,
        households,
        protector=PiiProtector.from_secret(get_settings().secret_bytes()),
        actor="test",
        today=date(YEAR, 1, 1),
    )
    assert result.rejected == 0, result.summary()


async def monitor(
    session: AsyncSession, household_id: str, status: str = "risk_not_eliminated"
) -> None:
    """Make a household of `HOUSEHOLDS` a monitoring object (directly, no case flow)."""
    await session.execute(
        text(
            "INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,"
            " monitoring_type, risk_types, status, included_on, case_id)"
            " VALUES (gen_random_uuid(), '610326', :household_id, :region_code, 'marginal',"
            " '{illness}', :status, DATE '2025-06-01', gen_random_uuid())"
        ),
        {
            "household_id": household_id,
            "region_code": HOUSEHOLDS[household_id][0],
            "status": status,
        },
    )


async def create_campaign(
    client: Any,
    session: AsyncSession,
    *,
    region: str = COUNTY,
    name: str = "2026年防止返贫集中排查",
    phases: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Create a campaign over HTTP (as county staff unless `headers`) and return it."""
    headers = headers or await staff_headers(session, "county_staff")
    response = await client.post(
        CAMPAIGNS,
        json={"name": name, "region_code": region, "year": YEAR, "phases": phases or PHASES},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def screening(household_id: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid JSON screening record: a household with nothing wrong."""
    record: dict[str, Any] = {
        "household_id": household_id,
        "screened_on": SCREENED_ON,
        "screener": "李四",
        "residence": "in_village",
        "housing": "own_safe",
        "schooling": "none",
        "drinking_water": "tap_safe",
        "insured": "all",
        "uninsured_members": 0,
        "income_band": "from_6000_to_10000",
        "rigid_expenditure": False,
        "civil_affairs_support": "none",
        "needs_inclusion": "no",
    }
    record.update(overrides)
    return record


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else value


def csv_body(records: list[dict[str, Any]], *, encoding: str = "utf-8") -> bytes:
    """A village form as CSV: a header of every record field, one row per record."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for record in records:
        writer.writerow([_cell(record.get(field)) for field in FIELDS])
    return out.getvalue().encode(encoding)


def xlsx_body(records: list[dict[str, Any]]) -> bytes:
    """A village form as XLSX: first sheet, a header of every record field;
    dates as date cells, counts as numbers, booleans as boolean cells."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(FIELDS))
    for record in records:
        row = []
        for field in FIELDS:
            value = record.get(field)
            if field == "screened_on" and isinstance(value, str):
                with contextlib.suppress(ValueError):  # a bad date stays text
                    value = date.fromisoformat(value)
            row.append(value)
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def upload(
    client: Any,
    campaign_id: str,
    body: bytes | dict[str, Any],
    headers: dict[str, str],
    content_type: str = CSV,
) -> Any:
    """POST a screenings upload: a dict as JSON, bytes with `content_type`."""
    url = f"{CAMPAIGNS}/{campaign_id}/screenings"
    if isinstance(body, dict):
        return await client.post(url, json=body, headers=headers)
    return await client.post(url, content=body, headers={**headers, "Content-Type": content_type})
