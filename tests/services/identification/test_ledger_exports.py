"""Ledgers (台账) of identification: cases, monitoring objects and problems as
CSV and XLSX, with the lists' filters, masked or revealed ID numbers, one audit
row per export, and the refusals (SPEC §12, LEDGERS.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from services.identification.cases.ledger import HEADERS as CASE_HEADERS
from services.identification.objects.ledger import HEADERS as OBJECT_HEADERS
from services.identification.problems.export import HEADERS as PROBLEM_HEADERS
from shared import clock
from tests.services.assistance.assist_helpers import add_object
from tests.services.identification.id_helpers import (
    COUNTY,
    OTHER_TOWN_VILLAGE,
    TOWN,
    VILLAGE,
    open_case,
    person,
    register,
    staff_headers,
)
from tests.services.identification.ledger_helpers import add_problem
from tests.services.ledger_files import (
    by_header,
    csv_rows,
    export_audits,
    name_regions,
    xlsx_rows,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ID = "/identification/v1"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
async def county(session) -> dict[str, str]:
    await name_regions(
        session,
        {
            COUNTY: ("眉县", "county", None),
            TOWN: ("首善镇", "town", COUNTY),
            VILLAGE: ("=第一村", "village", TOWN),
        },
    )
    await register(session, "H-1", [1, 2], name="张三")
    await register(session, "H-2", [3], name="李四")
    return await staff_headers(session, "county_staff")


async def _measure(session, object_id, household_id, category, status) -> None:
    await session.execute(
        text(
            "INSERT INTO measures (measure_id, county_code, object_id, household_id, region_code,"
            " category, development, responsible_department, status, planned_on, created_by)"
            " VALUES (:id, '610326', :object_id, :household, :region, :category,"
            " :development, 'agriculture', :status, '2026-02-01', 't')"
        ),
        {
            "id": uuid.uuid4(),
            "object_id": object_id,
            "household": household_id,
            "region": VILLAGE,
            "category": category,
            "development": category in ("industry", "employment"),
            "status": status,
        },
    )


# ------------------------------------------------------------------ cases


async def test_cases_ledger_csv_has_chinese_headers_and_a_row_per_case(client, session, county):
    await open_case(client, session, "H-1", found_on=date(2026, 11, 1), headers=county)
    await open_case(client, session, "H-2", source="cadre_screening", headers=county)

    rows = csv_rows(await client.get(f"{ID}/cases/export", headers=county))

    assert rows[0] == list(CASE_HEADERS)
    ledger = {row["户编号"]: row for row in by_header(rows)}
    assert set(ledger) == {"H-1", "H-2"}
    first = ledger["H-1"]
    assert first["户主姓名"] == "张三"
    assert first["户主身份证号"] != person(1) and "*" in first["户主身份证号"]
    assert (first["所在乡镇"], first["所在村"]) == ("首善镇", "'=第一村")  # neutralised
    assert (first["线索来源"], first["发现日期"], first["办结时限"]) == (
        "农户自主申报",
        "2026-11-01",
        "2026-11-16",
    )
    assert first["是否超期"] == "是"
    assert ledger["H-2"]["线索来源"] == "干部排查"
    assert ledger["H-2"]["是否超期"] == "否"


async def test_cases_ledger_xlsx_opens_with_the_same_rows(client, session, county):
    await open_case(client, session, "H-1", headers=county)

    response = await client.get(f"{ID}/cases/export", headers=county, params={"format": "xlsx"})

    rows = xlsx_rows(response)
    assert rows[0] == list(CASE_HEADERS)
    assert len(rows) == 2
    assert rows[1][0] == "H-1"
    assert rows[1][4] == "'=第一村"
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"


async def test_cases_ledger_keeps_the_list_filters(client, session, county):
    await open_case(client, session, "H-1", headers=county)
    await open_case(client, session, "H-2", source="cadre_screening", headers=county)

    response = await client.get(
        f"{ID}/cases/export", headers=county, params={"source": "cadre_screening"}
    )

    assert [row["户编号"] for row in by_header(csv_rows(response))] == ["H-2"]
    bad = await client.get(f"{ID}/cases/export", headers=county, params={"state": "lost"})
    assert bad.status_code == 422


async def test_county_staff_reveal_ids_and_every_export_is_audited(client, session, county):
    await open_case(client, session, "H-1", headers=county)

    masked = await client.get(f"{ID}/cases/export", headers=county)
    revealed = await client.get(f"{ID}/cases/export", headers=county, params={"reveal": "true"})

    assert by_header(csv_rows(masked))[0]["户主身份证号"] != person(1)
    assert by_header(csv_rows(revealed))[0]["户主身份证号"] == person(1)
    audits = await export_audits(session)
    assert [(a["target_id"], a["details"]["revealed"], a["details"]["rows"]) for a in audits] == [
        ("cases", False, 1),
        ("cases", True, 1),
    ]
    assert audits[1]["details"]["format"] == "csv"
    assert person(1) not in str(audits) and "张三" not in str(audits)


@pytest.mark.parametrize(
    "path", ["/cases/export", "/monitoring_objects/export", "/problems/export"]
)
async def test_refusals(client, session, county, path):
    township = await staff_headers(session, "township_staff", TOWN)
    viewer = await staff_headers(session, "viewer", COUNTY)

    reveal = await client.get(ID + path, headers=township, params={"reveal": "true"})
    as_viewer = await client.get(ID + path, headers=viewer)
    elsewhere = await client.get(ID + path, headers=township, params={"region": "610326101000"})
    pdf = await client.get(ID + path, headers=county, params={"format": "pdf"})

    assert (reveal.status_code, as_viewer.status_code) == (403, 403)
    assert elsewhere.status_code == 404
    assert pdf.status_code == 422
    assert await export_audits(session) == []


# ------------------------------------------------------------------ monitoring objects


async def test_objects_ledger_has_the_national_columns_and_measures(client, session, county):
    object_id = await add_object(session, "H-1", included_on=date(2026, 3, 9))
    await _measure(session, object_id, "H-1", "industry", "in_progress")
    await _measure(session, object_id, "H-1", "insurance_subsidy", "planned")
    await _measure(session, object_id, "H-1", "medical_assistance", "completed")
    await _measure(session, object_id, "H-1", "dibao", "cancelled")
    await add_object(session, "H-2", status="risk_eliminated")
    await session.execute(
        text(
            "UPDATE monitoring_objects SET eliminated_on = '2026-10-08' WHERE household_id = 'H-2'"
        )
    )

    rows = csv_rows(await client.get(f"{ID}/monitoring_objects/export", headers=county))

    assert rows[0] == list(OBJECT_HEADERS)
    ledger = {row["户编号"]: row for row in by_header(rows)}
    first = ledger["H-1"]
    assert first["家庭人口数"] == "2"
    assert first["监测对象类别"] == "边缘易致贫户"
    assert (first["是否脱贫户"], first["整户无劳动能力"]) == ("否", "否")
    assert (first["致贫/返贫风险1"], first["致贫/返贫风险2"]) == ("因病", "")
    assert first["识别监测时间"] == "202603"
    assert (first["风险是否已消除"], first["风险消除方式"]) == ("否", "")
    assert first["是否已实施开发式帮扶"] == "已实施"
    assert first["产业帮扶"] == "产业帮扶"
    assert set(first["健康帮扶"].split("、")) == {"医保参保资助", "医疗救助"}
    assert first["综合保障"] == ""  # the cancelled dibao is not a measure
    second = ledger["H-2"]
    assert (second["风险是否已消除"], second["风险消除方式"], second["消除监测时间"]) == (
        "是",
        "帮扶消除",
        "202610",
    )
    assert second["是否已实施开发式帮扶"] == "尚未实施"


async def test_objects_ledger_filters_and_xlsx(client, session, county):
    await add_object(session, "H-1")
    await add_object(session, "H-2", status="risk_eliminated")

    response = await client.get(
        f"{ID}/monitoring_objects/export",
        headers=county,
        params={"status": "risk_eliminated", "format": "xlsx"},
    )

    rows = xlsx_rows(response)
    assert rows[0] == list(OBJECT_HEADERS)
    assert [row[0] for row in rows[1:]] == ["H-2"]


async def test_objects_ledger_reveals_the_heads_id_number(client, session, county):
    await add_object(session, "H-1")

    response = await client.get(
        f"{ID}/monitoring_objects/export", headers=county, params={"reveal": "true"}
    )

    assert by_header(csv_rows(response))[0]["户主身份证号"] == person(1)
    [audit] = await export_audits(session)
    assert audit["details"]["ledger"] == "monitoring_objects"
    assert audit["details"]["rows"] == 1


# ------------------------------------------------------------------ problems


async def test_problems_ledger(client, session, county):
    await add_problem(session, VILLAGE, due_on=date(2026, 6, 1))
    await add_problem(session, OTHER_TOWN_VILLAGE)
    township = await staff_headers(session, "township_staff", TOWN)

    rows = csv_rows(await client.get(f"{ID}/problems/export", headers=township))

    assert rows[0] == list(PROBLEM_HEADERS)
    [problem] = by_header(rows)
    assert problem["问题类型"] == "数据质量问题"
    assert problem["所在区域"] == "首善镇=第一村"
    assert (problem["责任人"], problem["整改情况"]) == ("王五", "逾期未整改")
