"""`POST /ingest/v1/batches`: bodies that cannot be read, the CSV and NDJSON
forms, their query options, the body limit and big receipts. Each test also
checks that the database holds exactly what the receipt (or problem) says."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from shared.settings import get_settings
from tests.services.warning_ingest.batches.test_batch_input import (
    _frozen,  # noqa: F401 (the autouse clock)
    assert_nothing_stored,
    assert_problem,
    assert_stored,
    codes,
    count,
    rows,
)
from tests.services.warning_ingest.ingest_helpers import BATCHES, department_headers, person, record

HEADER = ["source_record_id", "warning_type", "id_number", "name"]
NDJSON = "application/x-ndjson"


def csv_text(data: list[list[str]], header: list[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(data)
    return out.getvalue()


def csv_row(n: int, name: str = "张三") -> list[str]:
    return [f"R-{n}", "dibao", person(n), name]


def ndjson(*records: Any) -> bytes:
    return b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in records)


async def chunked(body: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def post(
    client, session, body: Any, content_type: str, *, params=None, headers=None
) -> httpx.Response:
    # One department client per test: an Idempotency-Key belongs to its client.
    if "auth" not in session.info:
        session.info["auth"] = await department_headers(session, "civil_affairs")
    auth = session.info["auth"]
    return await client.post(
        BATCHES,
        content=body,
        params=params,
        headers={**auth, "Content-Type": content_type, **(headers or {})},
    )


async def receipt(response: httpx.Response, session) -> dict:
    assert response.status_code == 201, response.text
    body = response.json()
    await assert_stored(session, body)
    return body


def statuses(body: dict) -> list[tuple[int, str]]:
    return [(e["index"], e["status"]) for e in body["records"]]


# --- bodies that cannot be read ---------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b'{"records": [', b"records", b"", b'{"records": ["\xff"]}', b"\xef\xbb\xbf{}", b"{'a': 1}"],
)
async def test_malformed_json_body_is_400(client, session, body):
    response = await post(client, session, body, "application/json")
    assert_problem(response, 400, "malformed_json")
    await assert_nothing_stored(session)


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/json; charset=gb18030",
        f"{NDJSON}; charset=gbk",
        "text/csv; charset=latin-1",
    ],
)
async def test_wrong_content_type_is_400(client, session, content_type):
    response = await post(client, session, orjson.dumps({"records": []}), content_type)
    assert_problem(response, 400, "unsupported_content_type")
    await assert_nothing_stored(session)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "records"),
        ({"record": [record(1)]}, "records"),
        ([record(1)], "records"),
        ("records", "records"),
        ({"records": {"0": record(1)}}, "records"),
        ({"records": None}, "records"),
        ({"records": [], "period_end": "2026-02-30"}, "period_end"),
        ({"records": [], "atomic": "yes"}, "atomic"),
    ],
)
async def test_json_body_without_a_records_list_is_422(client, session, body, field):
    response = await post(client, session, orjson.dumps(body), "application/json")
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]
    await assert_nothing_stored(session)


# --- CSV ----------------------------------------------------------------------


@pytest.mark.parametrize("missing", HEADER)
async def test_csv_header_without_a_required_column_stores_nothing(client, session, missing):
    header = [c for c in HEADER if c != missing]
    data = [[c for h, c in zip(HEADER, csv_row(1), strict=True) if h != missing]]
    response = await post(client, session, csv_text(data, header), "text/csv")
    problem = assert_problem(response, 422, "invalid_csv_header")
    assert codes(problem["errors"]) == [(missing, "missing_field")]
    await assert_nothing_stored(session)


@pytest.mark.parametrize(
    ("extra", "code"),
    [("nickname", "unknown_field"), ("", "unknown_field"), ("name", "duplicate_column")],
)
async def test_csv_header_with_an_unknown_or_repeated_column_is_422(client, session, extra, code):
    body = csv_text([[*csv_row(1), "x"]], [*HEADER, extra])
    problem = assert_problem(
        await post(client, session, body, "text/csv"), 422, "invalid_csv_header"
    )
    assert code in [e["code"] for e in problem["errors"]]
    await assert_nothing_stored(session)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("", ("body", "missing_field")),
        ("\r\n\r\n", ("body", "missing_field")),
        (
            "source_record_id,warning_type,id_number,na\rme\nR-1,dibao,x,y",
            ("header", "invalid_value"),
        ),
    ],
)
async def test_csv_without_a_readable_header_row_is_422(client, session, body, error):
    problem = assert_problem(await post(client, session, body, "text/csv"), 422)
    assert codes(problem["errors"]) == [error]
    await assert_nothing_stored(session)


@pytest.mark.parametrize("split", [None, 1, 2])
async def test_csv_byte_order_mark_does_not_hide_the_first_column(client, session, split):
    body = b"\xef\xbb\xbf" + csv_text([csv_row(1), csv_row(2)]).encode()
    content = body if split is None else chunked(body, split)
    response = await post(client, session, content, "text/csv")
    body = await receipt(response, session)
    assert [e["source_record_id"] for e in body["records"]] == ["R-1", "R-2"]


@pytest.mark.parametrize("chunk", [None, 7])
async def test_csv_quoted_cell_with_a_comma_and_a_line_break_round_trips(client, session, chunk):
    details = '{"note": "a, \\"b\\"",\r\n "n": 1}'
    data = [[*csv_row(1, "张,三"), details], [*csv_row(2, '"李四"'), ""], [*csv_row(3), "{}"]]
    body = csv_text(data, [*HEADER, "details"]).encode()
    response = await post(
        client, session, body if chunk is None else chunked(body, chunk), "text/csv"
    )
    assert statuses(await receipt(response, session)) == [(i, "accepted") for i in range(3)]
    stored = await rows(session, "SELECT name, details FROM warnings ORDER BY batch_index")
    assert stored == [("张,三", {"note": 'a, "b"', "n": 1}), ('"李四"', None), ("张三", {})]


async def test_csv_details_column_is_read_as_json_text(client, session):
    data = [
        [*csv_row(1), '{"家庭人口": 4, "病种": ["尿毒症"]}'],
        [*csv_row(2), "not json"],
        [*csv_row(3), "[1, 2]"],
        [*csv_row(4), '"a string"'],
    ]
    body = await receipt(
        await post(client, session, csv_text(data, [*HEADER, "details"]), "text/csv"), session
    )
    assert [codes(e["errors"] or []) for e in body["records"]] == [
        [],
        [("details", "invalid_value")],
        [("details", "invalid_value")],
        [("details", "invalid_value")],
    ]
    [(details,)] = await rows(session, "SELECT details FROM warnings")
    assert details == {"家庭人口": 4, "病种": ["尿毒症"]}


async def test_csv_row_with_the_wrong_number_of_cells_is_rejected_at_its_index(client, session):
    lines = [
        ",".join(HEADER),
        ",".join(csv_row(1)),
        ",".join(csv_row(2)[:3]),
        "",
        ",".join(csv_row(3)),
    ]
    lines += [",".join([*csv_row(4), "extra"]), ",".join(csv_row(5))]
    body = await receipt(await post(client, session, "\n".join(lines), "text/csv"), session)
    # The blank row is skipped: indexes count data rows.
    assert [(e["index"], e["source_record_id"], e["status"]) for e in body["records"]] == [
        (0, "R-1", "accepted"),
        (1, None, "rejected"),
        (2, "R-3", "accepted"),
        (3, None, "rejected"),
        (4, "R-5", "accepted"),
    ]
    assert codes(body["records"][1]["errors"]) == [("record", "invalid_value")]


@pytest.mark.parametrize("charset", ["gb18030", "GBK", '"GB18030"'])
async def test_gb18030_csv_with_chinese_names_round_trips(client, session, charset):
    names = ["张三", "欧阳𠮷", "买买提·吐尔逊"]
    data = [csv_row(n, name) for n, name in enumerate(names, 1)]
    body = ("\ufeff" + csv_text(data)).encode("gb18030")
    response = await post(client, session, chunked(body, 5), f"text/csv; charset={charset}")
    assert (await receipt(response, session))["accepted"] == 3
    stored = [n for (n,) in await rows(session, "SELECT name FROM warnings ORDER BY batch_index")]
    assert stored == names


@pytest.mark.parametrize(
    ("tail", "charset"),
    [
        (b"R-9,dibao,x,\xff\xfe\r\n", "utf-8"),
        ("R-9,dibao,x,张三\r\n".encode("gb18030"), "utf-8"),
        (b"R-9,dibao,x,\xe5\xbc", "utf-8"),  # cut in the middle of a character
        (b"R-9,dibao,x,\x81\x20\r\n", "gb18030"),
    ],
)
async def test_csv_bytes_not_in_the_declared_charset_are_400_and_store_nothing(
    client, session, tail, charset
):
    # Enough good rows before the bad bytes that some were already copied to staging.
    good = csv_text([csv_row(n) for n in range(1, 6002)]).encode(charset)
    content = chunked(good + tail, 64 * 1024)
    response = await post(client, session, content, f"text/csv; charset={charset}")
    assert_problem(response, 400, "invalid_encoding")
    await assert_nothing_stored(session)


async def test_csv_cell_that_breaks_quoting_is_read_like_csv_and_never_a_500(client, session):
    lines = [
        ",".join(HEADER),
        ",".join(csv_row(1, 'O"Neil')),  # a quote inside an unquoted cell is a character
        ",".join(csv_row(2, "张\r三")),  # a bare carriage return inside a cell
        ",".join(csv_row(3)),
        ",".join(csv_row(4, '"李四"x')),  # text after a closing quote
        ",".join(csv_row(5, "x" * 140_000)),  # longer than Python's csv field limit
        ",".join(csv_row(6)),
    ]
    body = await receipt(await post(client, session, "\n".join(lines), "text/csv"), session)
    assert [(e["index"], e["source_record_id"], e["status"]) for e in body["records"]] == [
        (0, "R-1", "accepted"),
        (1, None, "rejected"),
        (2, "R-3", "accepted"),
        (3, "R-4", "accepted"),
        (4, None, "rejected"),
        (5, "R-6", "accepted"),
    ]
    names = [n for (n,) in await rows(session, "SELECT name FROM warnings ORDER BY batch_index")]
    assert names == ['O"Neil', "张三", "李四x", "张三"]


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
