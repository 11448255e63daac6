"""`POST /ingest/v1/batches` with bad records: text fields, warning types and
duplicates, personal data and auth. Every one is a field-level rejection in the
receipt (or a problem+json), never a 500, and the database holds exactly what
the receipt says."""

from __future__ import annotations

import orjson
import pytest

from tests.services.warning_ingest.batches.batch_helpers import (
    _frozen,  # noqa: F401 (the autouse clock)
    assert_nothing_stored,
    assert_problem,
    assert_stored,
    codes,
    push,
    receipt_of,
    rejected,
    rows,
    stored_one,
)
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import (
    BATCHES,
    department_headers,
    person,
    record,
    staff_headers,
)

pytestmark = pytest.mark.usefixtures("push_path")

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
