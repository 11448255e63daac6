"""Every nasty value (tests/hostile/nasty.py) through every field of the ingest
formats: JSON, NDJSON and CSV pushes on `POST /ingest/v1/batches`, and JSON and
NDJSON registry loads on `POST /ingest/v1/registry/households`.

One push per format and value carries one record per field, each record with
the value in that field and valid values elsewhere. Each record must come out
either rejected, with an error naming the field, or accepted and read back
(`GET /ingest/v1/warnings/{id}`, `GET /identification/v1/households/{id}`)
exactly as sent, less surrounding whitespace. Only a value that makes the
body unreadable as a whole may be refused for the whole body, and then with
the problem hand-worked below. Never a 500, and the value never appears in an
error: it may be an ID number or a name.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.idcard import mask_id_number
from shared.registry import load_regions
from tests.conftest import override_sessions
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
from tests.services.identification.id_helpers import TOWN
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    VILLAGE,
    department_headers,
    person,
    staff_headers,
)
from tests.services.warning_ingest.push_paths import push_path  # noqa: F401

pytestmark = pytest.mark.usefixtures("push_path")

HOUSEHOLDS = "/ingest/v1/registry/households"
PROBLEM_JSON = "application/problem+json"
# medical_insurance pushes high_medical_expense, the one type that takes an amount.
DEPARTMENT = "medical_insurance"
RECORD_FIELDS = (
    "source_record_id",
    "warning_type",
    "id_number",
    "name",
    "region_code",
    "event_date",
    "amount_yuan",
    "details",
)
MEMBER_FIELDS = (
    "id_number",
    "name",
    "relation",
    "labour_capacity",
    "disability_grade",
    "in_school",
)
HOUSEHOLD_FIELDS = (
    "household_id",
    "region_code",
    "category",
    "head_name",
    *(f"members[0].{f}" for f in MEMBER_FIELDS),
)
MEDIA = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "ndjson_raw": "application/x-ndjson",
    "csv": "text/csv",
}


@functools.cache
def _app() -> Any:
    from services.app import create_app

    return create_app()


@pytest.fixture
async def client(session: AsyncSession) -> AsyncIterator[httpx.AsyncClient]:
    """conftest's `client`, on one app for the module (hundreds of tests each
    building four apps would cost more than the requests)."""
    app = _app()
    override_sessions(app, session)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warnex.test") as c:
        yield c


def _wire_value(nasty: Nasty, form: str) -> Any:
    """What `form` sends: the raw bytes where the form is read as bytes and the
    value has any (NDJSON is pushed both ways: `ndjson` escapes, `ndjson_raw` bytes)."""
    if nasty.raw is not None and form in {"ndjson_raw", "csv"}:
        return nasty.raw
    return nasty.value


def _whole_body_refusal(nasty: Nasty, form: str) -> str | None:
    """The problem type a push in `form` must be refused with as a whole because
    of `nasty`, or None when the push must be answered record by record.

    JSON is parsed whole, and orjson refuses a lone surrogate escape (not a
    Unicode character) as malformed JSON; CSV is decoded whole, so bytes that
    are not UTF-8 make it unreadable. NDJSON reads line by line: a bad line
    is rejected in its row."""
    if form == "json" and nasty.text is not None and re.search("[\ud800-\udfff]", nasty.text):
        return "urn:warnex:problem:malformed_json"
    if form == "csv" and nasty.raw is not None:
        return "urn:warnex:problem:invalid_encoding"
    return None


def _cases(forms: tuple[str, ...]) -> Iterator[Any]:
    for form in forms:
        for nasty in NASTY:
            if form == "ndjson_raw" and nasty.raw is None:
                continue
            yield pytest.param(form, nasty, id=f"{form}-{nasty.name}")


def _strings(node: Any, skip_keys: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every string in a parsed JSON answer (keys in `skip_keys` left out)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if key not in skip_keys:
                yield from _strings(value, skip_keys)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, skip_keys)


def _assert_not_echoed(answer: Any, nasty: Nasty, *, skip_keys: frozenset[str]) -> None:
    """The value appears in no string of the answer. Short or digits-only
    values are left out: they may occur in any UUID or code by chance."""
    value = (nasty.text or "").strip()
    if len(value) < 4 or value.isdigit():
        return
    for string in _strings(answer, skip_keys):
        assert value not in string, f"the value is echoed in {string[:80]!r}"


def _assert_refused_whole(response: Any, problem_type: str, nasty: Nasty) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == problem_type
    assert body["status"] == 400 and body["title"]
    _assert_not_echoed(body, nasty, skip_keys=frozenset())


# -- warning pushes ----------------------------------------------------------------


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


@pytest.mark.parametrize(("form", "nasty"), list(_cases(("json", "ndjson", "ndjson_raw", "csv"))))
async def test_a_nasty_value_in_any_pushed_field_is_rejected_by_name_or_kept_as_sent(
    client: Any, session: AsyncSession, form: str, nasty: Nasty
) -> None:
    value = _wire_value(nasty, form)
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
    refusal = _whole_body_refusal(nasty, form)
    if refusal is not None:
        _assert_refused_whole(response, refusal, nasty)
        return
    assert response.status_code == 201, response.text
    receipt = response.json()
    # The receipt names each record's own source_record_id: the department's key, not personal data.
    _assert_not_echoed(receipt, nasty, skip_keys=frozenset({"source_record_id"}))
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


def _good_household(n: int) -> dict[str, Any]:
    return {
        "household_id": f"HX-{n}",
        "region_code": VILLAGE,
        "category": "general",
        "head_name": "张三",
        "members": [
            {
                "id_number": person(500 + n),
                "name": "张三",
                "relation": "head",
                "labour_capacity": "full",
                "disability_grade": 2,
                "in_school": False,
            }
        ],
    }


def _set(household: dict[str, Any], field: str, value: Any) -> None:
    if field.startswith("members[0]."):
        household["members"][0][field.removeprefix("members[0].")] = value
    else:
        household[field] = value


def _read_back(household: dict[str, Any], field: str) -> Any:
    if field.startswith("members[0]."):
        return household["members"][0][field.removeprefix("members[0].")]
    return household[field]


@pytest.mark.parametrize(("form", "nasty"), _cases(("json", "ndjson", "ndjson_raw")))
async def test_a_nasty_value_in_any_registry_field_is_rejected_by_name_or_kept_as_sent(
    client: Any, session: AsyncSession, form: str, nasty: Nasty
) -> None:
    await load_regions(
        session,
        [{"code": c, "name": n} for c, n in ((COUNTY, "眉县"), (TOWN, "镇"), (VILLAGE, "村"))],
    )
    value = _wire_value(nasty, form)
    households = []
    for n, field in enumerate(HOUSEHOLD_FIELDS):
        household = _good_household(n)
        _set(household, field, value)
        households.append(household)
    body = to_json({"households": households}) if form == "json" else ndjson_body(households)
    staff = await staff_headers(session, "county_staff", COUNTY)
    response = await client.post(
        HOUSEHOLDS, content=body, headers={**staff, "Content-Type": MEDIA[form]}
    )
    refusal = _whole_body_refusal(nasty, form)
    if refusal is not None:
        _assert_refused_whole(response, refusal, nasty)
        return
    assert response.status_code == 200, response.text
    answer = response.json()
    _assert_not_echoed(answer, nasty, skip_keys=frozenset())
    rejected = {row["index"]: row["errors"] for row in answer["errors"]}
    assert answer["upserted"] + answer["rejected"] == len(HOUSEHOLD_FIELDS)
    for n, field in enumerate(HOUSEHOLD_FIELDS):
        if n in rejected:
            named = {e["field"] for e in rejected[n]}
            # shared.registry.files names a line that is not JSON `body`.
            assert field in named or (form.startswith("ndjson") and named == {"body"}), (
                field,
                rejected[n],
            )
            continue
        household_id = value if field == "household_id" else f"HX-{n}"
        read = await client.get(f"/identification/v1/households/{household_id}", headers=staff)
        assert read.status_code == 200, (field, read.text)
        sent = value.decode() if isinstance(value, bytes) else value
        stored = _read_back(read.json(), field)
        if field.endswith("id_number"):
            assert stored == mask_id_number(sent.strip().upper())
        elif isinstance(sent, str):
            assert stored == sent.strip(), field
        else:
            assert stored == sent, field


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
