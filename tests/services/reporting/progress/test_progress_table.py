"""`GET /reporting/v1/progress_table` (集中排查工作进度统计表) against the hand-checked
campaign of `campaign_dataset.py`, in JSON, CSV and XLSX."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, text

from services.reporting.progress.table import COLUMNS
from shared import clock
from tests.services.reporting.campaign_dataset import (
    CAMPAIGN,
    CAMPAIGN_2025,
    CAMPAIGN_NAME,
    NEW_HOUSEHOLD_IDS,
    NEW_PERSON_NAMES,
    SCREENER,
    VILLAGE_B2,
    WINDOW,
)
from tests.services.reporting.campaign_figures import COUNTY_ROWS, EXPECTED, FIGURE_CODES, REPORTED
from tests.services.reporting.dataset import (
    COUNTY,
    HOUSEHOLD_IDS,
    PERSON_NAMES,
    TOWN_A,
    TOWN_B,
    VILLAGE_A1,
    VILLAGE_A2,
    VILLAGE_B1,
)
from tests.services.reporting.progress.conftest import TABLE, figures, table, user_headers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEVEL_LABELS = {"town": "乡镇", "village": "村", "total": "合计"}


async def test_county_table_has_every_town_and_village_then_the_total(session, client, data):
    body = await table(client, await user_headers(session))
    assert (body["campaign_id"], body["region"], body["period"]) == (CAMPAIGN, COUNTY, WINDOW)
    codes = [c["code"] for c in body["columns"]]
    assert codes == ["region_code", "region_name", "level", *FIGURE_CODES]
    assert [(r["region_code"], r["region_name"], r["level"]) for r in body["rows"]] == [
        (code, "眉县" if level == "total" else name, level) for code, name, level in COUNTY_ROWS
    ]
    for row in body["rows"]:
        assert figures(row) == EXPECTED[row["region_code"]], row["region_code"]


async def test_columns_carry_the_chinese_headers(session, client, data):
    body = await table(client, await user_headers(session))
    labels = {c["code"]: c["label"] for c in body["columns"]}
    assert labels["households_screened_general"] == "其中：一般农户（户）"
    assert labels["households_screened_poverty_alleviated"] == "其中：脱贫户（户）"
    assert labels["households_screened_monitored"] == "其中：监测户（户）"
    assert labels["newly_included_marginal"] == "新纳入边缘易致贫户（户）"
    assert labels["newly_included_epidemic"] == "其中：因疫新纳入（户）"


async def test_a_township_viewer_sees_only_its_towns_rows(session, client, data):
    body = await table(client, await user_headers(session, "township_staff", TOWN_A))
    assert body["region"] == TOWN_A
    assert [(r["region_code"], r["level"]) for r in body["rows"]] == [
        (TOWN_A, "town"),
        (VILLAGE_A1, "village"),
        (VILLAGE_A2, "village"),
        (TOWN_A, "total"),
    ]
    # The county's reported figures are not the town's: null on its total too.
    for row in body["rows"]:
        assert figures(row) == EXPECTED[row["region_code"]]


async def test_region_narrows_the_table_to_one_village(session, client, data):
    body = await table(client, await user_headers(session), region=VILLAGE_B1)
    assert [(r["region_code"], r["level"]) for r in body["rows"]] == [
        (VILLAGE_B1, "village"),
        (VILLAGE_B1, "total"),
    ]
    assert figures(body["rows"][1]) == EXPECTED[VILLAGE_B1]


async def test_only_the_campaigns_screenings_count(session, client, data):
    # CP0 (2025) screened H4 alone: a general household (O7 was removed), 1 person.
    # Its window 2025-04-15..2025-06-12 holds one inclusion, O4 (sudden_hardship,
    # epidemic, 2025-05-30), and no look-back, rollback or problem.
    body = await table(client, await user_headers(session), campaign_id=CAMPAIGN_2025)
    assert body["period"] == {"date_from": "2025-04-15", "date_to": "2025-06-12"}
    total = body["rows"][-1]
    assert (total["households_screened"], total["households_screened_general"]) == (1, 1)
    assert (total["persons_screened"], total["households_registered"]) == (1, 13)
    assert total["coverage_rate"] == 0.0769  # 1/13
    newly = {c: total[c] for c in FIGURE_CODES if c.startswith("newly_included")}
    assert newly == {
        "newly_included_marginal": 0,
        "newly_included_unstable_alleviated": 0,
        "newly_included_sudden_hardship": 1,
        "newly_included_epidemic": 1,
    }
    assert total["look_backs"] == total["rollbacks"] == total["problems_found"] == 0
    # No reported figures entered: 0 on the total.
    assert (total["data_items_corrected"], total["staff_trained"]) == (0, 0)


async def test_window_ends_today_while_the_campaign_runs(session, client, data):
    # On 2026-05-20: O2 (04-21) and O23 (05-05) included, O22 (06-12) not yet;
    # rollback O5 (05-10); O23's removal (06-01) is later; look-backs SA, S2;
    # problems found P1 (05-10), P3 (05-12), P2 (05-20, today), none rectified yet.
    with clock.frozen_at(datetime(2026, 5, 20, 2, 0, tzinfo=UTC)):
        body = await table(client, await user_headers(session))
    assert body["period"] == {"date_from": "2026-04-15", "date_to": "2026-05-20"}
    total = body["rows"][-1]
    # In persons: O2 H2 1 (marginal, epidemic), O23 H23 3; O5 H8 1 rolled back.
    expected = {
        "newly_included_marginal": 1,
        "newly_included_unstable_alleviated": 1,
        "newly_included_sudden_hardship": 0,
        "newly_included_epidemic": 1,
        "persons_newly_included_marginal": 1,
        "persons_newly_included_unstable_alleviated": 3,
        "persons_newly_included_sudden_hardship": 0,
        "persons_newly_included_epidemic": 1,
        "look_backs": 2,
        "rollbacks": 1,
        "persons_rolled_back": 1,
        "removals": 0,
        "persons_removed": 0,
        "problems_found": 3,
        "problems_rectified": 0,
    }
    assert {c: total[c] for c in expected} == expected


async def test_csv_has_the_bom_the_chinese_headers_and_the_json_numbers(session, client, data):
    headers = await user_headers(session)
    body = await table(client, headers)
    response = await client.get(
        TABLE, params={"campaign_id": CAMPAIGN, "format": "csv"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="progress_table_610326000000_2026.csv"')
    assert "filename*=UTF-8''" in disposition
    assert response.content.startswith(b"\xef\xbb\xbf")

    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert lines[0] == [c["label"] for c in body["columns"]]
    assert lines[0][:4] == ["区划代码", "单位", "层级", "排查农户数（户）"]
    assert len(lines) == 1 + len(body["rows"])
    for line, row in zip(lines[1:], body["rows"], strict=True):
        assert line[:3] == [row["region_code"], row["region_name"], LEVEL_LABELS[row["level"]]]
        for cell, code in zip(line[3:], FIGURE_CODES, strict=True):
            assert cell == ("" if row[code] is None else str(row[code])), code
    county = lines[-1]
    assert county[2] == "合计"
    assert (county[3], county[-2], county[-1]) == ("9", "37", "120")
    # The persons, deployment and staff columns, by their Chinese headers.
    by_header = dict(zip(lines[0], county, strict=True))
    assert {
        header: by_header[header]
        for header in (
            "新纳入边缘易致贫户人数（人）",
            "新纳入脱贫不稳定户人数（人）",
            "新纳入突发严重困难户人数（人）",
            "其中：因疫新纳入人数（人）",
            "风险消除回退人数（人）",
            "清退人数（人）",
            "召开部署会议（场）",
            "投入排查人员（人）",
        )
    } == {
        "新纳入边缘易致贫户人数（人）": "1",
        "新纳入脱贫不稳定户人数（人）": "3",
        "新纳入突发严重困难户人数（人）": "1",
        "其中：因疫新纳入人数（人）": "2",
        "风险消除回退人数（人）": "1",
        "清退人数（人）": "3",
        "召开部署会议（场）": "6",
        "投入排查人员（人）": "85",
    }
    town_b = dict(zip(lines[0], lines[4], strict=True))
    assert (town_b["单位"], town_b["清退人数（人）"], town_b["投入排查人员（人）"]) == (
        "横渠镇",
        "3",
        "",  # reported figures only on the campaign region's total
    )


async def test_xlsx_has_the_chinese_headers_and_the_json_numbers(session, client, data):
    headers = await user_headers(session)
    body = await table(client, headers)
    response = await client.get(
        TABLE, params={"campaign_id": CAMPAIGN, "format": "xlsx"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="progress_table_610326000000_2026.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert CAMPAIGN_NAME in values[0][0] and "眉县" in values[0][0]
    assert list(values[1]) == [c.label for c in COLUMNS]  # row 2: the header row
    assert len(values) == 2 + len(body["rows"])
    for cells, row in zip(values[2:], body["rows"], strict=True):
        assert list(cells[:3]) == [
            row["region_code"],
            row["region_name"],
            LEVEL_LABELS[row["level"]],
        ]
        assert list(cells[3:]) == [row[code] for code in FIGURE_CODES]
    assert values[-1][3] == 9 and values[-1][12] == 0.6923
    county = dict(zip(values[1], values[-1], strict=True))
    assert (
        county["新纳入脱贫不稳定户人数（人）"],
        county["风险消除回退人数（人）"],
        county["清退人数（人）"],
        county["召开部署会议（场）"],
        county["投入排查人员（人）"],
    ) == (3, 1, 3, 6, 85)


@pytest.mark.parametrize("output", ["json", "csv", "xlsx"])
async def test_no_household_id_or_name_in_any_format(session, client, data, output):
    response = await client.get(
        TABLE,
        params={"campaign_id": CAMPAIGN, "format": output},
        headers=await user_headers(session),
    )
    assert response.status_code == 200
    if output == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        content = " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
    else:
        content = response.content.decode("utf-8-sig")
    secrets = [*HOUSEHOLD_IDS, *NEW_HOUSEHOLD_IDS, *PERSON_NAMES, *NEW_PERSON_NAMES]
    for secret in [*secrets, SCREENER, "HH-", "********", "责任人"]:
        assert secret not in content, secret


async def _measured(client, headers, db) -> tuple[dict, int]:
    """The table and the number of statements its request ran."""
    count = 0

    def counted(*_args, **_kwargs):
        nonlocal count
        count += 1

    event.listen(db.engine.sync_engine, "before_cursor_execute", counted)
    try:
        body = await table(client, headers)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", counted)
    return body, count


async def test_statements_do_not_grow_with_the_rows(session, client, data, db):
    headers = await user_headers(session)
    _, before = await _measured(client, headers, db)
    # Ten more villages in town B, each with a household screened in CP1.
    await session.execute(
        text(
            "INSERT INTO regions (code, name, level, parent_code)"
            " SELECT '610326101' || (300 + n), '新村' || n, 'village', '610326101000'"
            " FROM generate_series(1, 10) AS n"
        )
    )
    await session.execute(
        text(
            "INSERT INTO households (county_code, household_id, region_code, category, head_name)"
            " SELECT '610326', 'HH-610326-09' || (10 + n), '610326101' || (300 + n), 'general',"
            "        '某' FROM generate_series(1, 10) AS n"
        )
    )
    await session.execute(
        text(
            "INSERT INTO screenings (campaign_id, county_code, household_id, region_code,"
            " screened_on, screener, residence, housing, schooling, drinking_water, insured,"
            " uninsured_members, income_band, rigid_expenditure, civil_affairs_support,"
            " needs_inclusion, recorded_by)"
            " SELECT CAST(:campaign AS uuid), county_code, household_id, region_code,"
            " DATE '2026-05-01', 's', 'in_village', 'own_safe', 'none', 'tap_safe', 'all',"
            " 0, 'above_10000', false, 'none', 'no', 'test' FROM households"
            " WHERE household_id LIKE 'HH-610326-09%'"
        ),
        {"campaign": CAMPAIGN},
    )
    body, after = await _measured(client, headers, db)
    assert len(body["rows"]) == len(COUNTY_ROWS) + 10
    assert body["rows"][-1]["households_screened"] == 19
    assert before == after
    # token, campaign, places, screened, problems, figures_by_group's seven, savepoints
    assert after <= 14


async def test_a_village_without_households_has_no_coverage_rate(session, client, data):
    await session.execute(
        text(
            "INSERT INTO regions (code, name, level, parent_code)"
            " VALUES ('610326101203', '空村', 'village', '610326101000')"
        )
    )
    body = await table(client, await user_headers(session), region=TOWN_B)
    rows = {r["region_code"]: r for r in body["rows"] if r["level"] != "total"}
    assert list(rows) == [TOWN_B, VILLAGE_B1, VILLAGE_B2, "610326101203"]
    assert rows["610326101203"]["coverage_rate"] is None
    assert rows["610326101203"]["households_registered"] == 0


async def test_the_county_enters_its_deployment_and_staff_figures_for_the_table(
    session, client, data
):
    staff = await user_headers(session, "county_staff")
    figures = {"reported_figures": {"deployment_meetings": 9, "staff_deployed": 140}}
    response = await client.patch(
        f"/identification/v1/campaigns/{CAMPAIGN}", json=figures, headers=staff
    )
    assert response.status_code == 200, response.text
    total = (await table(client, staff))["rows"][-1]
    assert {c: total[c] for c in REPORTED} == {
        "deployment_meetings": 9,
        "staff_deployed": 140,
        "data_items_corrected": 37,  # kept from before
        "staff_trained": 120,
    }
    wrong = {"reported_figures": {"staff_deployed": -1}}
    response = await client.patch(
        f"/identification/v1/campaigns/{CAMPAIGN}", json=wrong, headers=staff
    )
    assert response.status_code == 422
