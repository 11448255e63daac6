"""The registry readers (shared.registry.files): CSV layouts and NDJSON, and
broken records reported at their index."""

from __future__ import annotations

import io

import orjson
import pytest

from tests.shared.registry.registry_helpers import (
    MEMBER_ROWS_CSV,
    VILLAGE,
    codes,
    household,
    load,
    member,
    person,
)


def test_the_member_per_row_csv_groups_consecutive_rows_into_households():
    from shared.registry.files import csv_households

    a, b, c = person(81), person(82), person(83)
    data = MEMBER_ROWS_CSV.format(v=VILLAGE, a=a, b=b, c=c).encode()
    records = list(csv_households(io.BytesIO(data)))
    assert [r["household_id"] for r in records] == ["H-1", "H-2"]
    assert records[0]["members"][1] == {
        "id_number": b,
        "name": "李,四",
        "relation": "child",
        "labour_capacity": "none",
        "disability_grade": 2,
        "in_school": True,
    }
    # Cells that are not a grade or a flag stay as they are, for the load to reject.
    assert records[1]["members"][0]["disability_grade"] == "x"
    assert records[1]["members"][0]["in_school"] == "maybe"


def test_the_members_column_csv_and_ndjson_report_broken_records_at_their_index():
    from shared.registry import BadRecord
    from shared.registry.files import csv_households, ndjson_records

    members = orjson.dumps([member(person(84))]).decode().replace('"', '""')
    data = (
        "household_id,region_code,category,head_name,members\n"
        f'H-1,{VILLAGE},general,张三,"{members}"\n'
        f"H-2,{VILLAGE},general,张三,[not json\n"
    ).encode()
    records = list(csv_households(io.BytesIO(data)))
    assert records[0]["members"][0]["relation"] == "head"
    assert isinstance(records[1], BadRecord)
    assert records[1].errors[0].code == "invalid_json"
    lines = orjson.dumps(household("H-1", member(person(85)))) + b"\n{broken\n\n" + b"[]\n"
    parsed = list(ndjson_records(io.BytesIO(lines)))
    assert len(parsed) == 3 and isinstance(parsed[1], BadRecord) and parsed[2] == []


def test_a_csv_without_the_needed_columns_is_refused_at_once():
    from shared.registry.files import UnsupportedFile, csv_households, csv_regions

    with pytest.raises(UnsupportedFile, match="region_code"):
        csv_households(io.BytesIO(b"household_id,category\nH-1,general\n"))
    with pytest.raises(UnsupportedFile, match="name"):
        csv_regions(io.BytesIO(b"code\n610326000000\n"))


async def test_a_broken_ndjson_line_is_rejected_with_invalid_json(session, protector):
    from shared.registry.files import ndjson_records_async

    async def chunks():
        body = orjson.dumps(household("H-1", member(person(86)))) + b"\nnot json\n"
        body += orjson.dumps(household("H-2", member(person(87))))
        for start in range(0, len(body), 7):  # lines split across chunks
            yield body[start : start + 7]

    result = await load(session, ndjson_records_async(chunks()), protector)
    assert (result.upserted, result.rejected) == (2, 1)
    assert codes(result) == {1: [("body", "invalid_json")]}
