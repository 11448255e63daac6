"""Registry load benchmark: `python bench/registry_load.py [--households 100000]`.

Writes N households with three members each (valid ID numbers) to an NDJSON
file, starts a fresh embedded PostgreSQL in a temporary directory (or uses
DATABASE_URL as it is), migrates, and times `load_households` end to end:
parse, validate, hash and seal, COPY, upserts and commit. As a floor it then
times a plain COPY of the same member rows into an unindexed table of the
members' shape. The last line printed is one JSON object.

Target (SPEC §10, one county): 100k households with 300k members in under
60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import orjson
from database import bench_database

from shared.db import Database
from shared.idcard import compose_id_number, mask_id_number, parse_id_number
from shared.migrate import migrate
from shared.pii import PiiProtector
from shared.registry import load_households
from shared.registry.files import ndjson_records

TODAY = date(2026, 11, 23)
COUNTY = "610326"
RELATIONS = ("head", "spouse", "child", "parent", "grandchild")
LABOUR = ("full", "weak", "partial", "none")
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞"
_BIRTH_DAYS = 25_000  # 1940-01-01 onwards: distinct (day, sequence) give distinct numbers


def _name(n: int) -> str:
    return SURNAMES[n % 10] + GIVEN[(n // 10) % 20] + GIVEN[(n // 200) % 20]


def _number(n: int) -> str:
    born = date(1940, 1, 1) + timedelta(days=n % _BIRTH_DAYS)
    sequence = n // _BIRTH_DAYS
    return compose_id_number(COUNTY, born, sequence, sex="male" if sequence % 2 else "female")


def write_households(path: Path, households: int, members_each: int) -> int:
    """Write the NDJSON file; return the number of members."""
    member = 0
    with path.open("wb") as out:
        for h in range(households):
            village = f"{COUNTY}{100 + h % 12:03d}{200 + h % 25:03d}"
            people = []
            for position in range(members_each):
                people.append(
                    {
                        "id_number": _number(member),
                        "name": _name(member),
                        "relation": RELATIONS[position % len(RELATIONS)],
                        "labour_capacity": LABOUR[member % 4],
                        "disability_grade": (member % 4) + 1 if member % 17 == 0 else None,
                        "in_school": position >= 2,
                    }
                )
                member += 1
            household = {
                "household_id": f"H{h:07d}",
                "region_code": village,
                "category": "poverty_alleviated" if h % 5 == 0 else "general",
                "head_name": people[0]["name"],
                "members": people,
            }
            out.write(orjson.dumps(household) + b"\n")
    return member


async def time_load(db: Database, path: Path, protector: PiiProtector) -> tuple[float, int, int]:
    started = time.perf_counter()
    with path.open("rb") as handle:
        async with db.transaction() as session:
            result = await load_households(
                session,
                ndjson_records(handle),
                protector=protector,
                actor="bench",
                today=TODAY,
                max_errors=10,
            )
    seconds = time.perf_counter() - started
    if result.rejected:
        raise SystemExit(f"the bench data was rejected: {result.errors[:3]}")
    return seconds, result.upserted, result.members


def member_rows(path: Path, protector: PiiProtector) -> list[tuple[object, ...]]:
    """The member rows the load stored, built outside any timing."""
    rows: list[tuple[object, ...]] = []
    with path.open("rb") as handle:
        for line in handle:
            household = orjson.loads(line)
            numbers = [m["id_number"] for m in household["members"]]
            for m, key, sealed in zip(
                household["members"],
                protector.match_keys(numbers),
                protector.seal_many(numbers),
                strict=True,
            ):
                resident = parse_id_number(m["id_number"], today=TODAY)
                rows.append(
                    (COUNTY, key, household["household_id"], sealed,
                     mask_id_number(resident.number), m["name"], m["relation"],
                     m["labour_capacity"], m["disability_grade"], m["in_school"],
                     resident.birth_date, resident.sex)
                )  # fmt: skip
    return rows


async def time_floor(db: Database, rows: list[tuple[object, ...]]) -> float:
    """A plain COPY of the member rows into an unindexed table of the same shape."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(
            "DROP TABLE IF EXISTS bench_members_floor; "
            "CREATE TABLE bench_members_floor "
            "(LIKE members INCLUDING DEFAULTS EXCLUDING INDEXES EXCLUDING CONSTRAINTS)"
        )
        started = time.perf_counter()
        async with driver.transaction():
            await driver.copy_records_to_table("bench_members_floor", records=rows)
        seconds = time.perf_counter() - started
        await driver.execute("DROP TABLE bench_members_floor")
    return seconds


async def bench(households: int, members_each: int, workdir: Path, url: str) -> dict[str, object]:
    data = workdir / "households.ndjson"
    print(f"writing {households} households to {data}", file=sys.stderr)
    write_households(data, households, members_each)
    db = Database(url, pool_size=2)
    try:
        await migrate(db.engine)
        protector = PiiProtector.from_secret(secrets.token_bytes(32))
        print("loading", file=sys.stderr)
        seconds, upserted, members = await time_load(db, data, protector)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("timing the COPY floor", file=sys.stderr)
        floor = await time_floor(db, member_rows(data, protector))
    finally:
        await db.dispose()
    return {
        "households": upserted,
        "members": members,
        "seconds": round(seconds, 2),
        "households_per_s": round(upserted / seconds),
        "floor_seconds": round(floor, 2),
        "ratio_to_floor": round(seconds / floor, 1),
        "peak_rss_mb": round(peak_rss_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=3, help="members per household")
    args = parser.parse_args()
    with bench_database() as (workdir, url):
        outcome = asyncio.run(bench(args.households, args.members, workdir, url))
    print(orjson.dumps(outcome).decode())


if __name__ == "__main__":
    main()
