"""`POST /ingest/v1/batches` with bad records: ID numbers, region codes, dates, amounts
and details. Every one is a field-level rejection in the receipt (or a
problem+json), never a 500, and the database holds exactly what the receipt
says. Text fields, duplicates and auth are in test_batch_text_and_duplicates;
the body forms in test_batch_formats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import orjson
import pytest

from shared.idcard import compose_id_number
from shared.registry import load_regions
from tests.services.warning_ingest.batches.batch_helpers import (
    GOOD,
    _frozen,  # noqa: F401 (the autouse clock)
    assert_stored,
    codes,
    receipt_of,
    rejected,
    stored_one,
)
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    COUNTY,
    VILLAGE,
    department_headers,
    person,
    record,
)

pytestmark = pytest.mark.usefixtures("push_path")

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
