"""Issue 21, finding 8: a small screenings upload of a hundred thousand rows
costs no more than a full one. Reading stops at the first record past
MAX_RECORDS (or after MAX_ROWS_READ rows, blank ones too) with a 422 that
writes nothing, and an XLSX may not expand past the bulk body limit."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

import orjson
import pytest
from openpyxl import Workbook
from sqlalchemy import text

from services.identification.screenings.forms import (
    MAX_RECORDS,
    MAX_ROWS_READ,
    MalformedBody,
    read_upload,
)
from services.identification.screenings.record import FIELDS
from shared import clock
from shared.settings import reset_settings
from tests.services.identification.screening_helpers import (
    CSV,
    DURING,
    XLSX,
    create_campaign,
    load_registry,
    screening,
    upload,
)
from tests.services.warning_ingest.ingest_helpers import staff_headers


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(DURING):
        yield


def _xlsx(rows: int, *, blank: bool = False) -> bytes:
    """A write-only workbook: the header, then `rows` rows of one short cell
    (or of nothing but a styled blank)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("排查表")
    sheet.append(list(FIELDS))
    for n in range(rows):
        sheet.append([" "] if blank else [f"H{n}"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    writer.writerows([f"H{n}"] for n in range(rows))
    return out.getvalue().encode()


async def _nothing_stored(session) -> None:
    assert (await session.execute(text("SELECT count(*) FROM screenings"))).scalar() == 0


@pytest.mark.parametrize("form", ["json", "csv", "xlsx"])
async def test_an_upload_past_the_record_cap_is_422_and_stores_nothing(client, session, form):
    await load_registry(session)
    campaign = await create_campaign(client, session)
    rows = MAX_RECORDS + 1
    body: bytes | dict = {
        "json": lambda: {"records": [screening(f"H{n}") for n in range(rows)]},
        "csv": lambda: _csv(rows),
        "xlsx": lambda: _xlsx(rows),
    }[form]()
    content_type = {"json": "application/json", "csv": CSV, "xlsx": XLSX}[form]
    answer = await upload(
        client, campaign["campaign_id"], body, await staff_headers(session), content_type
    )
    assert answer.status_code == 422, answer.text[:300]
    [error] = answer.json()["errors"]
    assert (error["field"], error["code"]) == ("records", "too_many_records")
    await _nothing_stored(session)


def _counting(rows: Iterator[list[str]], seen: list[int]) -> Iterator[list[str]]:
    for row in rows:
        seen[0] += 1
        yield row


def test_reading_stops_at_the_cap_not_at_the_end_of_a_hundred_thousand_rows(monkeypatch):
    from services.identification.screenings import forms as screening_forms

    seen = [0]
    original = screening_forms._csv_rows
    monkeypatch.setattr(
        screening_forms, "_csv_rows", lambda body, charset: _counting(original(body, charset), seen)
    )
    with pytest.raises(Exception, match="at most"):
        read_upload(CSV, _csv(103_000))
    # The header, the records, the one too many and the row that finds it so.
    assert seen[0] <= MAX_RECORDS + 3


def test_a_sheet_of_blank_rows_stops_after_the_rows_read_cap():
    with pytest.raises(Exception, match="at most") as refused:
        read_upload(XLSX, _xlsx(MAX_ROWS_READ + 10, blank=True))
    assert refused.value.errors[0].code == "too_many_records"  # type: ignore[attr-defined]


def test_an_xlsx_that_expands_past_the_body_limit_is_refused(monkeypatch):
    monkeypatch.setenv("WARNEX_BULK_BODY_LIMIT_BYTES", str(256 * 1024))
    reset_settings()
    try:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/worksheets/sheet1.xml", b"<row/>" * 100_000)  # 600 kB
        assert len(out.getvalue()) < 256 * 1024
        with pytest.raises(MalformedBody, match="expands"):
            read_upload(XLSX, out.getvalue())
    finally:
        monkeypatch.undo()
        reset_settings()


def test_json_records_are_counted_before_any_is_checked():
    body = orjson.dumps({"records": [{}] * (MAX_RECORDS + 1)})
    with pytest.raises(Exception, match="at most"):
        read_upload("application/json", body)
