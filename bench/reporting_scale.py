"""Reporting at scale: `python bench/reporting_scale.py [--size county|province]`.

Starts a fresh embedded PostgreSQL in a temporary directory (or uses
DATABASE_URL as it is), migrates, and writes with INSERT ... SELECT (not the
API) a province 610000000000 of cities, counties of 12 towns with 15 villages
each, and in them households (3.3 members each), department warnings, cases,
monitoring objects with their measures and assessments, and feed pushes:

- county: one county, 100k households, 330k persons, 150k warnings, 10k objects;
- province: 10 cities of 10 counties, 3M households, 10M persons, 5M warnings,
  300k objects.

The rows carry no events, so it then recounts every county into the reporting
summaries (`summary_refresh_seconds`, `refresh_all`). After `VACUUM ANALYZE` it times
30 requests (after a warm-up) through the ASGI app in this process, for a
viewer scoped to the province: the province's overview, a county's overview,
`/regions?level=county` for the province and `/regions?level=town` for a
county. As a baseline it times
`GET /reporting/v1/healthz` the same way. The plans of the figure statements
of the slowest request go to stderr. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import httpx
from harness import run, summary, timed
from reporting_data import PROVINCE, SIZES, load_data_set, vacuum_analyze
from sqlalchemy import event

from shared.auth import issue_token
from shared.db import Database, use_database
from shared.migrate import migrate

PREFIX = "/reporting/v1"
REQUESTS = 30
WARM_UP = 3


class StatementTimes:
    """The statements one request ran, with their times (to see which dominate)."""

    def __init__(self, db: Database) -> None:
        self.seen: list[tuple[str, Any, float]] = []
        self._started: float = 0.0
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        self.seen.append((statement, params, (time.perf_counter() - self._started) * 1000))

    async def of(
        self, client: httpx.AsyncClient, path: str, headers: dict[str, str], params: dict[str, str]
    ) -> list[tuple[str, Any, float]]:
        self.seen = []
        (await client.get(path, headers=headers, params=params)).raise_for_status()
        return list(self.seen)


def label(statement: str) -> str:
    for name, marker in (
        ("summary_warnings", "FROM summary_warnings"),
        ("summary_cases", "FROM summary_cases"),
        ("summary_open_cases", "FROM summary_open_cases"),
        ("summary_objects", "FROM summary_objects"),
        ("summary_object_events", "FROM summary_object_events"),
        ("summary_measures", "FROM summary_measures"),
        ("warnings", "FROM warnings"),
        ("cases", "FROM cases"),
        ("objects", "FROM monitoring_objects"),
        ("measures", "FROM measures"),
        ("feeds", "FROM feed_pushes"),
        ("children", "FROM regions WHERE code >="),
        ("region_name", "FROM regions WHERE code ="),
    ):
        if marker in statement:
            return name
    return "other"


async def explain(db: Database, statement: str, params: Any) -> str:
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        rows = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
    return "\n".join(r[0] for r in rows)


async def bench(url: str, size_name: str) -> dict[str, Any]:
    size = SIZES[size_name]
    db = Database(url, pool_size=5)
    use_database(db)
    try:
        await migrate(db.engine)
        counts, county = await load_data_set(db, size, size_name)
        await vacuum_analyze(db)
        async with db.transaction() as session:
            _, token = await issue_token(
                session, kind="user", role="viewer", region_code=PROVINCE, name="省"
            )
        headers = {"Authorization": f"Bearer {token}"}
        capture = StatementTimes(db)

        from services.app import create_app

        queries = {
            "overview_province": ("/overview", {}),
            "overview_county": ("/overview", {"region": county}),
            "regions_county_level_province": ("/regions", {"level": "county"}),
            "regions_town_level_county": ("/regions", {"level": "town", "region": county}),
        }
        results: dict[str, Any] = {}
        statements: dict[str, dict[str, float]] = {}
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            health = await timed(client, PREFIX + "/healthz", {}, [{}] * REQUESTS, warm_up=WARM_UP)
            for name, (path, params) in queries.items():
                print(f"timing {name}", file=sys.stderr, flush=True)
                results[name] = summary(
                    await timed(
                        client, PREFIX + path, headers, [params] * REQUESTS, warm_up=WARM_UP
                    )
                )
                seen = await capture.of(client, PREFIX + path, headers, params)
                statements[name] = {}
                for statement, _, ms in seen:
                    key = label(statement)
                    statements[name][key] = round(statements[name].get(key, 0.0) + ms, 1)
            # The plans of the province overview's statements, slowest first.
            seen = await capture.of(client, PREFIX + "/overview", headers, {})
        for statement, params, ms in sorted(seen, key=lambda s: -s[2])[:2]:
            plan = await explain(db, statement, params)
            print(f"--- {label(statement)} ({ms:.0f} ms):\n{plan}", file=sys.stderr)
    finally:
        await db.dispose()
    return {
        "size": size_name,
        **counts,
        **results,
        "healthz": summary(health),
        "statement_ms": statements,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="county")
    args = parser.parse_args()
    # One bench user calls faster than any person: no per-user rate limit here.
    os.environ["WARNEX_USER_RATE_LIMIT"] = ""
    run(lambda url: bench(url, args.size))


if __name__ == "__main__":
    main()
