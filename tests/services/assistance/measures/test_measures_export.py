"""`GET /assistance/v1/measures/export`: the measures ledger (帮扶措施台账) as
CSV and XLSX, the list's filters, national categories, reveal and audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from services.assistance.measures.ledger import HEADERS
from shared import clock
from tests.services.assistance.assist_helpers import MEASURES, add_object, register, staff_headers
from tests.services.ledger_files import by_header, csv_rows, export_audits, xlsx_rows
from tests.services.warning_ingest.ingest_helpers import person

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
EXPORT = MEASURES + "/export"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def county(client, session) -> dict[str, str]:
    headers = await staff_headers(session, "county_staff")
    await register(session, "H-1", [1, 2])
    object_id = await add_object(session, "H-1")
    # H-1's second member is in school and 10 years old: education aid is compulsory-stage.
    await session.execute(
        text(
            "UPDATE members SET in_school = true, birth_date = '2016-09-01'"
            " WHERE household_id = 'H-1' AND relation <> 'head'"
        )
    )
    for category, amount in (("industry", 3000), ("education_aid", 500), ("microcredit", None)):
        response = await client.post(
            MEASURES,
            json={
                "object_id": str(object_id),
                "category": category,
                "planned_on": "2026-11-01",
                **({"amount_yuan": amount} if amount else {}),
            },
            headers=headers,
        )
        assert response.status_code == 201, response.text
    return headers


async def test_measures_ledger_csv(client, county):
    rows = csv_rows(await client.get(EXPORT, headers=county))

    assert rows[0] == list(HEADERS)
    ledger = {row["措施类别"]: row for row in by_header(rows)}
    assert set(ledger) == {"产业帮扶", "教育资助", "小额信贷"}
    assert ledger["产业帮扶"]["国家帮扶措施类别"] == "产业帮扶"
    assert ledger["教育资助"]["国家帮扶措施类别"] == "义务教育保障"
    assert ledger["小额信贷"]["国家帮扶措施类别"] == "金融帮扶"
    assert ledger["产业帮扶"]["金额(元)"] == "3000.00"
    assert ledger["产业帮扶"]["状态"] == "计划"
    assert ledger["产业帮扶"]["户主身份证号"] != person(1)


async def test_measures_ledger_xlsx_with_a_filter_and_reveal(client, session, county):
    response = await client.get(
        EXPORT, headers=county, params={"format": "xlsx", "category": "industry", "reveal": "true"}
    )

    rows = xlsx_rows(response)
    assert rows[0] == list(HEADERS)
    [row] = by_header(rows)
    assert row["户主身份证号"] == person(1)
    assert float(row["金额(元)"]) == 3000
    [audit] = await export_audits(session)
    assert audit["details"]["filters"] == {"category": "industry"}
    assert (audit["details"]["rows"], audit["details"]["revealed"]) == (1, True)


async def test_measures_ledger_refusals(client, session, county):
    village = await staff_headers(session, "village_staff", "610326100201")
    viewer = await staff_headers(session, "viewer")

    assert (await client.get(EXPORT, headers=village, params={"reveal": "true"})).status_code == 403
    assert (await client.get(EXPORT, headers=viewer)).status_code == 403
    assert (
        await client.get(EXPORT, headers=village, params={"region": "610326101201"})
    ).status_code == 404
    assert (await client.get(EXPORT, headers=county, params={"format": "ods"})).status_code == 422
    assert (await client.get(EXPORT, headers=county, params={"status": "x"})).status_code == 422
