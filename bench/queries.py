"""Read queries at scale: `python bench/queries.py [--size province|county|tiny]`.

What it measures: the latency of the reads people wait for, on the data set
of bench/reporting_data.py (written by its generator with INSERT ... SELECT,
then counted into the reporting summaries by `refresh_all`, then VACUUM
ANALYZE; with `--reuse` and DATABASE_URL, the data a previous run left there):

- the pending-case pages `GET /identification/v1/cases` of a county's staff
  (`state=open` and `state=overdue`: one request in four the first page, the
  others deep pages by cursors spread over the whole list) and of a town's
  staff (`state=open`);
- the household view `GET /identification/v1/households/{id}` of households
  spread over the county, each with members, a monitoring object, a case and
  (most of them) warnings;
- the reporting endpoints for a viewer of the province: `/overview` of the
  province and of a county, `/regions?level=county` of the province and
  `?level=town` of a county, `/feeds`, `/red_flags` and `/trend`.

Sizes: `province` (the default: 10 cities of 10 counties, 3M households,
10M persons, 5M warnings, 300k objects; the generator takes a long while),
`county` (100k households; a quick run) and `tiny` (5k households; a smoke run).
Each query is timed over `--requests` requests (after a few untimed ones),
one at a time, through the ASGI app in this process, so the figures are the
app's and the database's time without a network; the per-user rate limit is
turned off, since one bench user calls faster than any person.

Baseline, measured in the same run the same way: `GET /reporting/v1/healthz`.

Target: p95 under 200 ms for every query on the province data set on a
2-core machine (pending pages under 50 ms, as bench/pending_cases.py asks for
a county). The last line printed is one JSON object: a key per query with its
`p50_ms`, `p95_ms` (and `max_ms`), the baseline under `healthz`, and the
data set's counts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import httpx
from harness import run, summary, timed
from reporting_data import SIZES, Size, load_data_set, vacuum_analyze
from sqlalchemy import text

from shared.auth import issue_token
from shared.db import Database, use_database
from shared.migrate import migrate
from shared.pagination import encode_cursor

ALL_SIZES: dict[str, Size] = {**SIZES, "tiny": Size(1, 1, 5_000, 500, 7_500)}
CASES = "/identification/v1/cases"
HOUSEHOLDS = "/identification/v1/households/"
REPORTING = "/reporting/v1"
PROVINCE = "610000000000"
WARM_UP = 5


async def cursors(db: Database, county: str, count: int) -> list[str]:
    """Cursors spread evenly over the county's open cases, in deadline order."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        total = await driver.fetchval(
            "SELECT count(*) FROM cases WHERE county_code = $1 AND state = 'open'", county
        )
        rows = await driver.fetch(
            "SELECT deadline, case_id FROM ("
            "  SELECT deadline, case_id, row_number() OVER (ORDER BY deadline, case_id) AS n"
            "  FROM cases WHERE county_code = $1 AND state = 'open') x"
            " WHERE n % $2 = 0 ORDER BY n",
            county,
            max(1, total // count),
        )
    return [encode_cursor([r["deadline"], r["case_id"]]) for r in rows][:count] or [""]


def page_params(deep: list[str], extra: dict[str, str], requests: int) -> list[dict[str, Any]]:
    """One in four a first page, the others deep pages by cursor."""
    return [
        dict(extra) if i % 4 == 0 or not deep[0] else {**extra, "cursor": deep[i % len(deep)]}
        for i in range(requests)
    ]


async def household_ids(db: Database, county: str, count: int) -> list[str]:
    """Households spread over the county that have a monitoring object (and so,
    in this data set, a case and warnings too)."""
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT household_id FROM ("
                    "  SELECT household_id, row_number() OVER (ORDER BY household_id) AS n,"
                    "         count(*) OVER () AS total"
                    "  FROM monitoring_objects WHERE county_code = :county) x"
                    " WHERE n % GREATEST(1, total / :count) = 0 ORDER BY n LIMIT :count"
                ),
                {"county": county, "count": count},
            )
        ).all()
    return [r[0] for r in rows]


async def timed_paths(
    client: httpx.AsyncClient, paths: list[str], headers: dict[str, str], *, warm_up: int
) -> list[float]:
    """Milliseconds of one GET per path, after `warm_up` untimed ones."""
    for path in paths[:warm_up]:
        (await client.get(path, headers=headers)).raise_for_status()
    times = []
    for path in paths:
        started = time.perf_counter()
        response = await client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


async def tokens(county: str) -> dict[str, dict[str, str]]:
    """A viewer of the province, a county's staff and a town's staff."""
    from shared.db import get_database

    async with get_database().transaction() as session:
        made = {}
        for key, role, region in (
            ("viewer", "viewer", PROVINCE),
            ("county", "county_staff", county),
            ("town", "township_staff", county[:6] + "100000"),
        ):
            _, token = await issue_token(
                session, kind="user", role=role, region_code=region, name=key
            )
            made[key] = {"Authorization": f"Bearer {token}"}
    return made


async def _holds_data(db: Database) -> bool:
    async with db.engine.connect() as conn:
        return bool(await conn.scalar(text("SELECT EXISTS (SELECT 1 FROM households)")))


async def _first_county(db: Database) -> str:
    async with db.engine.connect() as conn:
        code = await conn.scalar(text("SELECT min(county_code) FROM households"))
    return f"{code}000000"


async def _counts(db: Database) -> dict[str, Any]:
    tables = ("households", "members", "warnings", "cases", "monitoring_objects")
    async with db.engine.connect() as conn:
        return {t: await conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in tables}


async def bench(
    url: str, size_name: str, requests: int, reuse: bool = False, only: set[str] | None = None
) -> dict[str, Any]:
    size = ALL_SIZES[size_name]
    db = Database(url, pool_size=5)
    use_database(db)
    try:
        await migrate(db.engine)
        if reuse and await _holds_data(db):
            print("reusing the data set already in the database", file=sys.stderr, flush=True)
            counts, county = await _counts(db), await _first_county(db)
        else:
            counts, county = await load_data_set(db, size, size_name)
        await vacuum_analyze(db)
        who = await tokens(county)
        deep = await cursors(db, county[:6], requests)
        households = await household_ids(db, county[:6], requests)
        if not households:
            raise SystemExit("the data set has no monitoring objects in the county")
        household_paths = [HOUSEHOLDS + households[i % len(households)] for i in range(requests)]

        from services.app import create_app

        pages = {
            "cases_open_county": ("county", {"state": "open"}),
            "cases_overdue_county": ("county", {"state": "overdue"}),
            "cases_open_town": ("town", {"state": "open"}),
        }
        reports = {
            "overview_province": ("/overview", {}),
            "overview_county": ("/overview", {"region": county}),
            "regions_county_level_province": ("/regions", {"level": "county"}),
            "regions_town_level_county": ("/regions", {"level": "town", "region": county}),
            "feeds_province": ("/feeds", {}),
            "red_flags_province": ("/red_flags", {}),
            "trend_province": ("/trend", {"interval": "week"}),
        }
        results: dict[str, Any] = {}
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def each(params: list[dict[str, Any]], path: str, who_: str) -> dict[str, float]:
                return summary(await timed(client, path, who[who_], params, warm_up=WARM_UP))

            health = await each([{}] * requests, REPORTING + "/healthz", "viewer")
            for name, (role, extra) in pages.items():
                if only is None or name in only:
                    print(f"timing {name}", file=sys.stderr, flush=True)
                    results[name] = await each(page_params(deep, extra, requests), CASES, role)
            if only is None or "household" in only:
                print("timing household", file=sys.stderr, flush=True)
                results["household"] = summary(
                    await timed_paths(client, household_paths, who["county"], warm_up=WARM_UP)
                )
            for name, (path, params) in reports.items():
                if only is not None and name not in only:
                    continue
                print(f"timing {name}", file=sys.stderr, flush=True)
                results[name] = await each([params] * requests, REPORTING + path, "viewer")
    finally:
        await db.dispose()
    return {
        "size": size_name,
        "requests": requests,
        **counts,
        **results,
        "healthz": health,
        "target_p95_ms": 200,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=sorted(ALL_SIZES), default="province")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per query")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with DATABASE_URL: time the data set a previous run left there (if any)",
    )
    parser.add_argument("--only", help="time only these queries (comma-separated names)")
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    # One bench user calls faster than any person: no per-user rate limit here.
    os.environ["WARNEX_USER_RATE_LIMIT"] = ""
    only = set(args.only.split(",")) if args.only else None
    run(lambda url: bench(url, args.size, args.requests, args.reuse, only))


if __name__ == "__main__":
    main()
