"""`POST /ingest/v1/batches`: bodies that cannot be read and the CSV form. Each
test also checks that the database holds exactly what the receipt (or problem)
says. NDJSON, the body limit and big receipts are in test_batch_ndjson_and_size."""

from __future__ import annotations

import orjson
import pytest

from tests.services.warning_ingest.batches.batch_helpers import (
    _frozen,  # noqa: F401 (the autouse clock)
    assert_nothing_stored,
    assert_problem,
    codes,
    rows,
)
from tests.services.warning_ingest.batches.format_helpers import (
    HEADER,
    NDJSON,
    chunked,
    csv_row,
    csv_text,
    post,
    receipt,
    statuses,
)
from tests.services.warning_ingest.batches.push_paths import push_path  # noqa: F401
from tests.services.warning_ingest.ingest_helpers import record

pytestmark = pytest.mark.usefixtures("push_path")

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
