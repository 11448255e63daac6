"""`POST /ingest/v1/batches` with bad records: every one is a field-level
rejection in the receipt (or a problem+json), never a 500, and the database
holds exactly what the receipt says. The body forms are in test_batch_formats."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from shared import clock
from shared.idcard import compose_id_number
from shared.registry import load_regions
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    VILLAGE,
    department_headers,
    person,
    record,
    staff_headers,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 2026-11-23 in Asia/Shanghai
STORED_TABLES = ("warnings", "warning_sources", "ingest_batches", "feed_pushes")


@pytest.fixture(autouse=True)
def _frozen():
    with clock.frozen_at(NOW):
        yield


async def rows(session, sql: str, **params: Any) -> list[Any]:
    return list((await session.execute(text(sql), params)).all())


async def count(session, table: str) -> int:
    [(n,)] = await rows(session, f"SELECT count(*) FROM {table}")
    return int(n)


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["type"]
    if slug is not None:
        assert problem["type"].endswith(slug), problem
    if status == 422:
        assert isinstance(problem.get("errors"), list), problem
    return problem


async def assert_nothing_stored(session) -> None:
    for table in STORED_TABLES:
        assert await count(session, table) == 0, table


async def assert_stored(session, *receipts: dict) -> None:
    """The database holds exactly what these receipts (all of the test's) say."""
    accepted = sum(r["accepted"] for r in receipts)
    assert await count(session, "warnings") == accepted
    assert await count(session, "warning_sources") == accepted
    batches = await rows(
        session,
        "SELECT batch_id::text, record_count, accepted, duplicates, rejected FROM ingest_batches",
    )
    assert sorted(batches) == sorted(
        (r["batch_id"], r["record_count"], r["accepted"], r["duplicates"], r["rejected"])
        for r in receipts
    )
    for r in receipts:
        assert r["accepted"] + r["duplicates"] + r["rejected"] == r["record_count"]
        stored = {
            str(w)
            for (w,) in await rows(
                session, "SELECT warning_id FROM warnings WHERE batch_id = :b", b=r["batch_id"]
            )
        }
        assert len(stored) == r["accepted"]
        indexes = [e["index"] for e in r["records"]]
        assert indexes == sorted(set(indexes))
        if r["record_count"] > 10_000:
            continue
        statuses = Counter(e["status"] for e in r["records"])
        assert (
            statuses
            == Counter(
                {"accepted": r["accepted"], "duplicate": r["duplicates"], "rejected": r["rejected"]}
            )
            - Counter()
        )
        assert {e["warning_id"] for e in r["records"] if e["status"] == "accepted"} == stored


async def push(client, headers, records: list[Any], **options: Any) -> httpx.Response:
    return await client.post(BATCHES, json={"records": records, **options}, headers=headers)


async def receipt_of(client, session, records: list[Any], department: str = "civil_affairs"):
    headers = await department_headers(session, department)
    response = await push(client, headers, records)
    assert response.status_code == 201, response.text
    receipt = response.json()
    await assert_stored(session, receipt)
    return receipt, response


GOOD = {
    "civil_affairs": lambda: record(900),
    "emergency_management": lambda: record(900, "disaster", event_date="2026-11-20"),
    "medical_insurance": lambda: record(900, "high_medical_expense", amount_yuan=20000),
}


async def rejected(client, session, bad: Any, department: str = "civil_affairs") -> list[dict]:
    """Push a good record then `bad`; the good one is stored, `bad` rejected at
    index 1 and its errors returned. No ID number appears in the receipt."""
    receipt, response = await receipt_of(client, session, [GOOD[department](), bad], department)
    assert (receipt["accepted"], receipt["rejected"]) == (1, 1), receipt
    entry = receipt["records"][1]
    assert entry["index"] == 1 and entry["status"] == "rejected"
    assert entry["warning_id"] is None
    assert person(900) not in response.text
    return entry["errors"]


def codes(errors: list[dict]) -> list[tuple[str, str]]:
    return [(e["field"], e["code"]) for e in errors]


async def stored_one(session, *columns: str) -> tuple:
    [row] = await rows(session, f"SELECT {', '.join(columns)} FROM warnings ORDER BY batch_index")
    return tuple(row)


# --- ID numbers ---------------------------------------------------------------

_P = person(5)


@pytest.mark.parametrize(
    "id_number",
    [
        _P[:17] + ("0" if _P[17] != "0" else "1"),  # wrong check character
        _P[:17],
        _P + "1",
        f" {_P}",
        _P[:6] + "\uff11" + _P[7:],  # a full-width digit
        _P[:10] + "X" + _P[11:],
        compose_id_number("610326", date(2099, 1, 1), 1, sex="male"),  # born in the future
        610326198001010011,
        "",
    ],
    ids=["checksum", "17", "19", "space", "fullwidth", "x-inside", "future", "number", "empty"],
)
async def test_bad_id_number_is_rejected_without_echoing_it(client, session, id_number):
    errors = await rejected(client, session, {**record(5), "id_number": id_number})
    expected = "missing_field" if id_number == "" else "invalid_id_number"
    assert codes(errors) == [("id_number", expected)]
    if len(str(id_number)) >= 17:
        assert str(id_number).strip()[:17] not in orjson.dumps(errors).decode()


def _person_with_x_check() -> str:
    return next(p for n in range(1, 1000, 2) if (p := person(n)).endswith("X"))


async def test_lower_case_x_check_character_is_accepted_and_stored_as_upper_case(client, session):
    number = _person_with_x_check()
    receipt, response = await receipt_of(
        client, session, [{**record(1), "id_number": number[:17] + "x"}]
    )
    assert receipt["accepted"] == 1
    assert await stored_one(session, "id_masked") == (number[:6] + "********" + number[14:],)
    assert number[:17] not in response.text


# --- region codes -------------------------------------------------------------


async def test_region_code_unknown_to_the_loaded_registry_is_rejected(client, session):
    result = await load_regions(
        session, [{"code": COUNTY, "name": "县"}, {"code": VILLAGE, "name": "村"}], actor="test"
    )
    assert result.rejected == 0
    errors = await rejected(client, session, record(2, region_code="610326100299"))
    assert codes(errors) == [("region_code", "invalid_region_code")]
    assert await stored_one(session, "source_record_id") == ("R-900",)


async def test_known_region_code_is_accepted_once_regions_are_loaded(client, session):
    await load_regions(session, [{"code": VILLAGE, "name": "村"}], actor="test")
    receipt, _ = await receipt_of(client, session, [record(2, region_code=VILLAGE)])
    assert receipt["accepted"] == 1
    assert await stored_one(session, "reported_region_code") == (VILLAGE,)


@pytest.mark.parametrize(
    "code",
    [
        "61032610020",
        "6103261002011",
        "61032610020a",
        "６１０３２６１００２０１",
        "000326100201",
        610326100201,
        " 610326100201",
        "610326-100201",
    ],
)
async def test_malformed_region_code_is_rejected(client, session, code):
    errors = await rejected(client, session, record(2, region_code=code))
    assert codes(errors) == [("region_code", "invalid_region_code")]


# --- dates ----------------------------------------------------------------------


async def test_event_date_in_the_future_is_rejected(client, session):
    bad = record(2, "disaster", event_date="2026-11-24")
    errors = await rejected(client, session, bad, "emergency_management")
    assert codes(errors) == [("event_date", "event_date_in_future")]


@pytest.mark.parametrize(
    "value",
    [
        "2023-02-30",
        "2023/01/01",
        20230101,
        "20230101",
        "2023-1-1",
        "2023-01-01T00:00:00",
        "2023-W01-1",
        "２０２３-01-01",
        True,
        [2023, 1, 1],
        {"date": "2023-01-01"},
    ],
)
async def test_event_date_that_is_not_a_date_is_invalid_date(client, session, value):
    bad = record(2, "disaster", event_date=value)
    errors = await rejected(client, session, bad, "emergency_management")
    assert codes(errors) == [("event_date", "invalid_date")]


@pytest.mark.parametrize("value", [None, ""])
async def test_event_type_without_event_date_is_missing_field(client, session, value):
    errors = await rejected(
        client, session, record(2, "disaster", event_date=value), "emergency_management"
    )
    assert codes(errors) == [("event_date", "missing_field")]


# --- amounts ----------------------------------------------------------------


@pytest.mark.parametrize("value", [None, ""])
async def test_medical_expense_without_amount_is_amount_required(client, session, value):
    bad = record(2, "high_medical_expense", amount_yuan=value)
    errors = await rejected(client, session, bad, "medical_insurance")
    assert codes(errors) == [("amount_yuan", "amount_required")]


@pytest.mark.parametrize(
    "value",
    [
        -1,
        -0.01,
        "abc",
        "12,000",
        True,
        False,
        [1],
        {"yuan": 1},
        12.345,
        "1e12",
        1e12,
        "NaN",
        "Infinity",
        "-0.001",
        "0x10",
        "1_000",
        "１２３",
        0.1234567890123456789,
    ],
)
async def test_amount_that_is_not_yuan_is_invalid_amount(client, session, value):
    bad = record(2, "high_medical_expense", amount_yuan=value)
    errors = await rejected(client, session, bad, "medical_insurance")
    assert codes(errors) == [("amount_yuan", "invalid_amount")]


async def test_amount_written_with_twenty_decimals_is_invalid_amount(client, session):
    headers = await department_headers(session, "medical_insurance")
    good = orjson.dumps(GOOD["medical_insurance"]()).decode()
    bad = orjson.dumps(record(2, "high_medical_expense")).decode()[:-1]
    body = f'{{"records": [{good}, {bad}, "amount_yuan": 123.45678901234567890123}}]}}'
    response = await client.post(
        BATCHES, content=body, headers={**headers, "Content-Type": "application/json"}
    )
    receipt = response.json()
    assert response.status_code == 201 and receipt["rejected"] == 1, response.text
    assert codes(receipt["records"][1]["errors"]) == [("amount_yuan", "invalid_amount")]
    await assert_stored(session, receipt)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("123.45", Decimal("123.45")),
        (" 123.45 ", Decimal("123.45")),
        (123.45, Decimal("123.45")),
        (0, Decimal("0.00")),
        ("999999999999.99", Decimal("999999999999.99")),
    ],
)
async def test_amount_as_number_or_numeric_string_is_stored_faithfully(
    client, session, value, stored
):
    receipt, _ = await receipt_of(
        client, session, [record(2, "high_medical_expense", amount_yuan=value)], "medical_insurance"
    )
    assert receipt["accepted"] == 1
    assert await stored_one(session, "amount_yuan") == (stored,)


# --- details ------------------------------------------------------------------


async def test_details_of_exactly_8_kib_are_kept(client, session):
    fits = {"n": "x" * (8192 - len('{"n":""}'))}
    receipt, _ = await receipt_of(client, session, [record(1, details=fits)])
    assert receipt["accepted"] == 1
    assert await stored_one(session, "details") == (fits,)


@pytest.mark.parametrize("size", [8193 - len('{"n":""}'), 10_240])
async def test_details_over_8_kib_are_too_long(client, session, size):
    errors = await rejected(client, session, record(2, details={"n": "x" * size}))
    assert codes(errors) == [("details", "too_long")]


def _nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "details",
    [
        [1, 2],
        "text",
        5,
        True,
        '"a JSON string"',
        "[1]",
        {"nul": "a\u0000b"},
        {"a\u0000": 1},
        _nested(300),
    ],
    ids=["list", "text", "number", "bool", "json-string", "json-list", "nul", "nul-key", "deep"],
)
async def test_details_that_are_not_a_storable_object_are_rejected(client, session, details):
    errors = await rejected(client, session, record(2, details=details))
    assert codes(errors) == [("details", "invalid_value")]


async def test_details_with_a_backslash_before_u0000_text_are_not_mistaken_for_nul(client, session):
    details = {"path": "C:\\u0000\\data", "quote": "\\\\u0000"}
    receipt, _ = await receipt_of(client, session, [record(1, details=details)])
    assert receipt["accepted"] == 1
    assert await stored_one(session, "details") == (details,)


# --- text fields ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["x" * 51, "张" * 51, " " + "张" * 51 + " "])
async def test_name_over_50_characters_is_too_long(client, session, name):
    errors = await rejected(client, session, record(2, name=name))
    assert codes(errors) == [("name", "too_long")]


async def test_name_of_exactly_50_characters_is_accepted(client, session):
    receipt, _ = await receipt_of(client, session, [record(1, name="张" * 50)])
    assert receipt["accepted"] == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "张\u0000三"),
        ("name", "\u0000"),
        ("name", "张\u0007三"),
        ("source_record_id", "R-\u00002"),
        ("source_record_id", "\u0000"),
    ],
)
async def test_control_characters_in_text_are_rejected_not_a_500(client, session, field, value):
    errors = await rejected(client, session, {**record(2), field: value})
    assert codes(errors) == [(field, "invalid_value")]


@pytest.mark.parametrize(
    "value",
    [
        "'); DROP TABLE warnings; --",
        "Robert'); DELETE FROM warning_sources; --",
        "\\x00 \\N \\. $1 %s :name",
        "张\u200f三",
        "\u202e三张",
        "𠮷野家",
        'Zoë "Q" <script>',
    ],
    ids=["sql", "sql-delete", "copy-escapes", "rlm", "rlo", "astral", "quotes-html"],
)
async def test_hostile_but_valid_text_round_trips_faithfully(client, session, value):
    receipt, _ = await receipt_of(
        client, session, [record(1, name=value[:50], source_record_id=value[:64])]
    )
    assert receipt["accepted"] == 1
    assert receipt["records"][0]["source_record_id"] == value[:64]
    assert await stored_one(session, "name", "source_record_id") == (value[:50], value[:64])
    [(wsid,)] = await rows(session, "SELECT source_record_id FROM warning_sources")
    assert wsid == value[:64]


@pytest.mark.parametrize("filler", ["x", "9", "张"])
@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("source_record_id", "too_long"),
        ("name", "too_long"),
        ("warning_type", "unknown_warning_type"),
        ("id_number", "invalid_id_number"),
        ("region_code", "invalid_region_code"),
        ("event_date", "invalid_date"),
        ("amount_yuan", "invalid_amount"),
        ("details", "invalid_value"),
    ],
)
async def test_ten_thousand_characters_in_any_field_is_a_field_error(
    client, session, field, code, filler
):
    bad = {**record(2, "high_medical_expense", amount_yuan=20000), field: filler * 10_000}
    errors = await rejected(client, session, bad, "medical_insurance")
    assert (field, code) in codes(errors)


async def test_unknown_field_is_named_unless_it_could_be_a_value(client, session):
    bad = {**record(2), "nickname": "x", person(7): "x", "备注": "x"}
    receipt, response = await receipt_of(client, session, [record(1), bad])
    assert receipt["accepted"] == 1
    assert codes(receipt["records"][1]["errors"]) == [
        ("nickname", "unknown_field"),
        ("record", "unknown_field"),
        ("record", "unknown_field"),
    ]
    assert person(7) not in response.text


@pytest.mark.parametrize("value", [1, "R-1", None, [], [record(2)], True, 1.5])
async def test_record_that_is_not_an_object_is_rejected(client, session, value):
    errors = await rejected(client, session, value)
    assert codes(errors) == [("record", "invalid_value")]


# --- types and duplicates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("DIBAO", "unknown_warning_type"),
        ("dibao ", "unknown_warning_type"),
        ("no_such_type", "unknown_warning_type"),
        (7, "unknown_warning_type"),
        (["dibao"], "unknown_warning_type"),
        (None, "missing_field"),
        ("unsafe_housing", "warning_type_not_allowed"),
        ("high_medical_expense", "warning_type_not_allowed"),
    ],
)
async def test_warning_type_outside_the_departments_catalog_is_rejected(
    client, session, value, code
):
    errors = await rejected(client, session, {**record(2), "warning_type": value})
    assert ("warning_type", code) in codes(errors)


async def test_later_record_repeating_an_id_is_duplicate_in_batch_even_if_the_first_failed(
    client, session
):
    records = [
        {**record(1), "id_number": "bad"},
        record(2),
        record(3, source_record_id="R-1"),
        record(4, source_record_id="R-2"),
    ]
    receipt, _ = await receipt_of(client, session, records)
    assert [(e["status"], codes(e["errors"] or [])) for e in receipt["records"]] == [
        ("rejected", [("id_number", "invalid_id_number")]),
        ("accepted", []),
        ("rejected", [("source_record_id", "duplicate_in_batch")]),
        ("rejected", [("source_record_id", "duplicate_in_batch")]),
    ]


async def test_record_pushed_again_in_a_later_batch_points_at_the_first_warning(client, session):
    headers = await department_headers(session, "civil_affairs")
    first = (await push(client, headers, [record(1), record(2)])).json()
    again = await client.post(
        BATCHES,
        content=b"\n".join(orjson.dumps(r) for r in [record(2, name="李四"), record(3)]),
        headers={**headers, "Content-Type": "application/x-ndjson"},
    )
    second = again.json()
    assert (second["accepted"], second["duplicates"]) == (1, 1)
    assert second["records"][0]["status"] == "duplicate"
    assert second["records"][0]["warning_id"] == first["records"][1]["warning_id"]
    await assert_stored(session, first, second)
    [(name,)] = await rows(session, "SELECT name FROM warnings WHERE source_record_id = 'R-2'")
    assert name == "张三"


# --- personal data and auth ------------------------------------------------------


async def test_no_id_number_appears_in_a_receipt_or_a_problem(client, session):
    headers = await department_headers(session, "civil_affairs")
    bad = [
        {**record(11), "id_number": person(11)[:17] + "?"},
        {**record(12), "warning_type": person(12)},
        record(13, region_code=person(13)),
        record(14, name=person(14) * 3),
        record(15, event_date=person(15)),
        record(16, amount_yuan=person(16)),
        record(17, details=person(17)),
        {**record(18), person(18): person(18)},
        {**record(19), "id_number": person(19) + " "},
        record(20, "unsafe_housing"),
    ]
    response = await push(client, headers, [record(10), *bad])
    assert response.json()["rejected"] == len(bad)
    atomic = await push(client, headers, [record(30), *bad], atomic=True)
    assert_problem(atomic, 422, "atomic_batch_rejected")
    for n in range(10, 21):
        assert person(n)[:17] not in response.text + atomic.text


async def test_push_without_a_token_is_401_and_with_a_staff_token_403(client, session):
    body = {"records": [record(1)]}
    assert_problem(await client.post(BATCHES, json=body), 401)
    bogus = {"Authorization": "Bearer not-a-token"}
    assert_problem(await client.post(BATCHES, json=body, headers=bogus), 401)
    staff = await staff_headers(session)
    assert_problem(await client.post(BATCHES, json=body, headers=staff), 403)
    await assert_nothing_stored(session)
