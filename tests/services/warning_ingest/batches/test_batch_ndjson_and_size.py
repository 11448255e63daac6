"""`POST /ingest/v1/batches`: the NDJSON form and its query options, the body
limit and big receipts. Each test also checks that the database holds exactly
what the receipt (or problem) says."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from shared.settings import get_settings
from tests.services.warning_ingest.batches.batch_helpers import (
    _frozen,  # noqa: F401 (the autouse clock)
    assert_nothing_stored,
    assert_problem,
    assert_stored,
    codes,
    count,
    rows,
)
from tests.services.warning_ingest.batches.format_helpers import (
    NDJSON,
    chunked,
    ndjson,
    post,
    receipt,
    statuses,
)
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import BATCHES, department_headers, person, record

pytestmark = pytest.mark.usefixtures("push_path")

# --- NDJSON ---------------------------------------------------------------------


async def test_ndjson_broken_line_is_rejected_at_its_line_index(client, session):
    body = ndjson(
        record(1), b'{"source_record_id": "R-2", "name": ', record(3), b"[1, 2]", record(5)
    )
    result = await receipt(await post(client, session, body, NDJSON), session)
    assert statuses(result) == [
        (0, "accepted"),
        (1, "rejected"),
        (2, "accepted"),
        (3, "rejected"),
        (4, "accepted"),
    ]
    assert codes(result["records"][1]["errors"]) == [("record", "invalid_json")]
    assert codes(result["records"][3]["errors"]) == [("record", "invalid_value")]


async def test_ndjson_blank_lines_keep_their_line_numbers(client, session):
    body = ndjson(
        b"", record(1), b"", b"   \r", orjson.dumps(record(2)) + b"\r", b"\t", record(3), b""
    )
    result = await receipt(await post(client, session, body, NDJSON), session)
    assert statuses(result) == [(1, "accepted"), (4, "accepted"), (6, "accepted")]
    assert result["record_count"] == 3


async def test_ndjson_period_end_query_parameter_dates_the_push(client, session):
    response = await post(client, session, b"", NDJSON, params={"period_end": "2026-11-15"})
    result = await receipt(response, session)
    assert (result["record_count"], result["period_end"]) == (0, "2026-11-15")
    ends = {e for (e,) in await rows(session, "SELECT period_end::text FROM feed_pushes")}
    assert ends == {"2026-11-15"}


@pytest.mark.parametrize("flag", ["true", "1", "TRUE"])
async def test_ndjson_atomic_query_parameter_with_a_bad_line_stores_nothing(client, session, flag):
    body = ndjson(record(1), b"{not json", record(3))
    response = await post(client, session, body, NDJSON, params={"atomic": flag})
    problem = assert_problem(response, 422, "atomic_batch_rejected")
    assert codes(problem["errors"]) == [("records[1].record", "invalid_json")]
    await assert_nothing_stored(session)


async def test_ndjson_atomic_false_stores_the_good_lines(client, session):
    body = ndjson(record(1), b"{not json", record(3))
    response = await post(client, session, body, NDJSON, params={"atomic": "false"})
    assert (await receipt(response, session))["accepted"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period_end": "2026-13-01"}, "period_end"),
        ({"period_end": "20261101"}, "period_end"),
        ({"atomic": "yes"}, "atomic"),
        ({"atomic": ""}, "atomic"),
    ],
)
async def test_ndjson_query_option_that_is_not_valid_is_422(client, session, params, field):
    response = await post(client, session, ndjson(record(1)), NDJSON, params=params)
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    await assert_nothing_stored(session)


async def test_ndjson_same_idempotency_key_and_body_replays_the_first_receipt(client, session):
    body, key = ndjson(record(1), b"{bad", record(3)), {"Idempotency-Key": "nd-1"}
    first = await post(client, session, body, NDJSON, headers=key)
    again = await post(client, session, chunked(body, 3), NDJSON, headers=key)
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()
    await assert_stored(session, first.json())


@pytest.mark.parametrize(
    ("body", "params"),
    [
        (ndjson(record(1), record(4)), None),
        (ndjson(record(1), record(3)), {"atomic": "true"}),
        (ndjson(record(1), record(3)), {"period_end": "2026-11-20"}),
    ],
)
async def test_same_idempotency_key_with_another_body_or_options_is_422(
    client, session, body, params
):
    key = {"Idempotency-Key": "nd-1"}
    first = await post(client, session, ndjson(record(1), record(3)), NDJSON, headers=key)
    response = await post(client, session, body, NDJSON, params=params, headers=key)
    assert_problem(response, 422, "idempotency_key_reused")
    await assert_stored(session, first.json())


async def test_reused_idempotency_key_is_named_in_the_errors(client, session):
    key = {"Idempotency-Key": "nd-1"}
    await post(client, session, ndjson(record(1)), NDJSON, headers=key)
    response = await post(client, session, ndjson(record(2)), NDJSON, headers=key)
    problem = assert_problem(response, 422, "idempotency_key_reused")
    assert [e["code"] for e in problem["errors"]] == ["idempotency_key_reused"]


# --- size ---------------------------------------------------------------------

_MIB = 1024 * 1024


async def _oversized(records: bytes, total: int, filler: bytes) -> AsyncIterator[bytes]:
    """`records`, then `filler` until `total` bytes have been sent."""
    yield records
    sent = len(records)
    while sent < total:
        yield filler
        sent += len(filler)


@pytest.mark.parametrize(
    ("declared", "filler"),
    [
        (False, b" " * (_MIB - 1) + b"\n"),
        # One endless line in the chunks a server passes on: must not take quadratic time.
        (False, b" " * (64 * 1024)),
        (True, b" " * (_MIB - 1) + b"\n"),
    ],
    ids=["streamed", "streamed-one-line", "content-length"],
)
async def test_body_over_the_bulk_limit_is_413_and_stores_nothing(
    client, session, declared, filler
):
    limit = get_settings().bulk_body_limit_bytes
    total = 65 * _MIB
    assert total > limit
    # More than one staging chunk of good records first, so that a COPY has run.
    records = ndjson(*(record(n) for n in range(6000))) + b"\n"
    headers = {"Content-Length": str(total + len(records))} if declared else {}
    content = _oversized(records, total, filler)
    response = await post(client, session, content, NDJSON, headers=headers)
    problem = assert_problem(response, 413, "payload_too_large")
    assert str(limit) in problem["detail"]
    await assert_nothing_stored(session)


# --- receipts -----------------------------------------------------------------


async def test_receipt_lists_every_record_in_arrival_order(client, session):
    auth = await department_headers(session, "civil_affairs")
    first = (await client.post(BATCHES, json={"records": [record(3)]}, headers=auth)).json()
    batch = [
        record(1),
        {**record(2), "id_number": "x"},
        record(3),
        record(4),
        record(5, source_record_id="R-1"),
    ]
    second = (await client.post(BATCHES, json={"records": batch}, headers=auth)).json()
    assert statuses(second) == [
        (0, "accepted"),
        (1, "rejected"),
        (2, "duplicate"),
        (3, "accepted"),
        (4, "rejected"),
    ]
    assert [e["source_record_id"] for e in second["records"]] == ["R-1", "R-2", "R-3", "R-4", "R-1"]
    await assert_stored(session, first, second)


async def test_receipt_of_a_batch_over_ten_thousand_records_lists_only_the_rejected(
    client, session
):
    lines = [orjson.dumps(record(n)) for n in range(10_001)]
    lines[17] = b"{broken"
    lines[9_000] = orjson.dumps({**record(9_000), "warning_type": "unsafe_housing"})
    response = await post(client, session, chunked(b"\n".join(lines), 256 * 1024), NDJSON)
    result = await receipt(response, session)
    assert (result["record_count"], result["accepted"], result["rejected"]) == (10_001, 9_999, 2)
    assert statuses(result) == [(17, "rejected"), (9_000, "rejected")]
    assert await count(session, "warnings") == 9_999
    assert person(9_000) not in response.text
