"""Every nasty value (tests/hostile/nasty.py) through every field of the ingest
formats: JSON, NDJSON and CSV pushes on `POST /ingest/v1/batches` (registry
loads: test_nasty_registry.py).

One push per format and value carries one record per field, each record with
the value in that field and valid values elsewhere. Each record must come out
either rejected, with an error naming the field, or accepted and read back
(`GET /ingest/v1/warnings/{id}`) exactly as sent, less surrounding
whitespace. Only a value that makes the body unreadable as a whole may be
refused for the whole body, and then with the problem hand-worked below.
Never a 500, and the value never appears in an error: it may be an ID
number or a name.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.idcard import mask_id_number
from tests.hostile.nasty import (
    BY_NAME,
    FULLWIDTH_ID,
    NASTY,
    Nasty,
    csv_body,
    csv_cell,
    ndjson_body,
    to_json,
)
from tests.hostile.nasty_helpers import (
    DEPARTMENT,
    MEDIA,
    RECORD_FIELDS,
    app_client,
    assert_not_echoed,
    assert_refused_whole,
    cases,
    whole_body_refusal,
    wire_value,
)
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    VILLAGE,
    department_headers,
    person,
    staff_headers,
)

pytestmark = pytest.mark.usefixtures("push_path")


@pytest.fixture
async def client(session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(session) as c:
        yield c


def _good_record(seq: int) -> dict[str, Any]:
    return {
        "source_record_id": f"R-{seq}",
        "warning_type": "high_medical_expense",
        "id_number": person(seq),
        "name": "张三",
        "region_code": VILLAGE,
        "event_date": "2026-11-01",
        "amount_yuan": "1234.50",
        "details": {"hospital": "县医院"},
    }


def _push_body(form: str, records: list[dict[str, Any]]) -> bytes:
    if form == "json":
        return to_json({"records": records})
    if form.startswith("ndjson"):
        return ndjson_body(records)
    return csv_body(
        RECORD_FIELDS,
        [
            {
                **r,
                "details": to_json(r["details"]).decode()
                if isinstance(r["details"], dict)
                else r["details"],
            }
            for r in records
        ],
    )


async def _stored_details(session: AsyncSession, warning_id: str) -> Any:
    return await session.scalar(
        text("SELECT details FROM warnings WHERE warning_id = :id"), {"id": warning_id}
    )


# What an optional field sent empty (or blank) is stored as: absent.
_ABSENT = {"region_code": ("reported_region_code", None), "event_date": ("event_date", None)}


async def _assert_round_trip(
    session: AsyncSession, stored: dict[str, Any], field: str, sent: Any
) -> None:
    """`stored` (the warning as GET /warnings answers) holds `sent` in `field`."""
    blank = isinstance(sent, str) and not sent.strip()
    if field == "details":
        expected = None if blank else json.loads(sent) if isinstance(sent, str) else sent
        assert await _stored_details(session, stored["warning_id"]) == expected
    elif blank:
        key, absent = _ABSENT.get(field, (field, None))
        assert stored[key] == absent, field
    elif field == "id_number":
        assert stored["id_number"] == mask_id_number(sent.strip().upper())
    elif field == "amount_yuan":
        assert Decimal(str(stored["amount_yuan"])) == Decimal(str(sent).strip())
    elif field in ("source_record_id", "name"):
        assert stored[field] == sent.strip()
    else:
        assert stored[field] == sent


@pytest.mark.parametrize(("form", "nasty"), list(cases(("json", "ndjson", "ndjson_raw", "csv"))))
async def test_a_nasty_value_in_any_pushed_field_is_rejected_by_name_or_kept_as_sent(
    client: Any, session: AsyncSession, form: str, nasty: Nasty
) -> None:
    value = wire_value(nasty, form)
    records = []
    for n, field in enumerate(RECORD_FIELDS):
        record = _good_record(n + 1)
        record[field] = value
        records.append(record)
    pusher = await department_headers(session, DEPARTMENT)
    response = await client.post(
        BATCHES,
        content=_push_body(form, records),
        headers={**pusher, "Content-Type": MEDIA[form]},
    )
    refusal = whole_body_refusal(nasty, form)
    if refusal is not None:
        assert_refused_whole(response, refusal, nasty)
        return
    assert response.status_code == 201, response.text
    receipt = response.json()
    # The receipt names each record's own source_record_id: the department's key, not personal data.
    assert_not_echoed(receipt, nasty, skip_keys=frozenset({"source_record_id"}))
    assert [r["index"] for r in receipt["records"]] == list(range(len(RECORD_FIELDS)))
    staff = await staff_headers(session, "county_staff", COUNTY)
    listed = await client.get("/ingest/v1/warnings", params={"limit": 50}, headers=staff)
    assert listed.status_code == 200, listed.text
    warnings = {w["warning_id"]: w for w in listed.json()["items"]}
    for field, row in zip(RECORD_FIELDS, receipt["records"], strict=True):
        if row["status"] == "rejected":
            named = {e["field"] for e in row["errors"]}
            # A line that is not JSON at all cannot say which field broke it.
            assert field in named or (form.startswith("ndjson") and named == {"record"}), (
                field,
                row["errors"],
            )
            continue
        assert row["status"] == "accepted", (field, row)
        sent = csv_cell(value) if form == "csv" else value
        await _assert_round_trip(session, warnings[row["warning_id"]], field, sent)


# -- hand-worked expectations for the values the issue names ------------------------


async def _push_one(client: Any, session: AsyncSession, **fields: Any) -> dict[str, Any]:
    record = {**_good_record(1), **fields}
    response = await client.post(
        BATCHES,
        content=to_json({"records": [record]}),
        headers={**await department_headers(session, DEPARTMENT), "Content-Type": MEDIA["json"]},
    )
    assert response.status_code == 201, response.text
    return dict(response.json()["records"][0])


@pytest.mark.parametrize(
    ("field", "nasty", "code"),
    [
        ("event_date", "feb_30", "invalid_date"),
        ("event_date", "month_13", "invalid_date"),
        ("amount_yuan", "amount_20_decimals", "invalid_amount"),
        ("amount_yuan", "amount_20_decimals_text", "invalid_amount"),
        ("id_number", "fullwidth_id", "invalid_id_number"),
        ("name", "nul", "invalid_value"),
        ("name", "long_10k", "too_long"),
        ("name", "integer", "invalid_value"),
        ("source_record_id", "long_10k_cjk", "too_long"),
    ],
)
async def test_named_nasty_values_are_rejected_with_their_rule(
    client: Any, session: AsyncSession, field: str, nasty: str, code: str
) -> None:
    row = await _push_one(client, session, **{field: BY_NAME[nasty].value})
    assert row["status"] == "rejected"
    assert [(e["field"], e["code"]) for e in row["errors"]] == [(field, code)]


@pytest.mark.parametrize(
    "nasty", ["sql_drop", "csv_injection", "rtl_override", "zwj", "emoji", "bom_inside"]
)
async def test_a_name_with_sql_formulas_or_invisible_characters_is_kept_exactly(
    client: Any, session: AsyncSession, nasty: str
) -> None:
    value = BY_NAME[nasty].value
    row = await _push_one(client, session, name=value)
    assert row["status"] == "accepted", row
    staff = await staff_headers(session, "county_staff", COUNTY)
    stored = (await client.get(f"/ingest/v1/warnings/{row['warning_id']}", headers=staff)).json()
    assert stored["name"] == value
    # The SQL fragment did what data does: nothing.
    assert await session.scalar(text("SELECT count(*) FROM warnings")) >= 1


async def test_a_bom_in_the_middle_of_a_csv_is_text_not_a_new_file(
    client: Any, session: AsyncSession
) -> None:
    """Two exports glued together: the second file's BOM and header are a data
    row (rejected), the rows around it go in."""
    first = _push_body("csv", [_good_record(1)])
    second = _push_body("csv", [_good_record(2)])
    body = b"\xef\xbb\xbf" + first + b"\xef\xbb\xbf" + second
    response = await client.post(
        BATCHES,
        content=body,
        headers={**await department_headers(session, DEPARTMENT), "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    rows = response.json()["records"]
    assert [r["status"] for r in rows] == ["accepted", "rejected", "accepted"]
    # "\ufeffsource_record_id" and "name" are acceptable text; no other header is a value.
    assert {e["field"] for e in rows[1]["errors"]} == {
        "warning_type",
        "id_number",
        "region_code",
        "event_date",
        "amount_yuan",
        "details",
    }


# -- registry loads ------------------------------------------------------------------


def test_the_table_holds_the_values_the_issue_names() -> None:
    values = {n.value for n in NASTY if isinstance(n.value, str)}
    for required in (
        "'; DROP TABLE warnings; --",
        "=cmd|' /C calc'!A0",
        "2023-02-30",
        "2023-13-01",
        FULLWIDTH_ID,
    ):
        assert required in values
    assert any("\u202e" in v for v in values) and any("\u200d" in v for v in values)
    assert any("\u0000" in v for v in values) and any("\ud800" in v for v in values)
    assert any(len(v) == 10_000 for v in values)
    assert any(n.raw is not None and b"\xed\xa0\x80" in n.raw for n in NASTY)
