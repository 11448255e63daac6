"""Pending-case list benchmark: `python bench/pending_cases.py [--households 1000000]`.

Starts a fresh embedded PostgreSQL in a temporary directory (or uses
DATABASE_URL as it is), migrates, and writes with INSERT ... SELECT (not the
API): N households in ten counties, 100k open cases in county 610326 (deadlines
from 15 days ago to 15 days ahead, half of them department warnings with a
warning attached, a third with their visit done), 50k decided cases in the
same county and 20k open cases in each other county. Then it times 200
requests of `GET /identification/v1/cases?state=open` for a county staff
through the ASGI app in this process: one in four the first page, the others
deep pages reached by cursors spread over the whole list. As a baseline it
times `GET /identification/v1/healthz` the same way, and it also reports the
other filters and a township's list. The plan of a deep page goes to stderr.

Target: p95 < 50 ms for a county with 100k open cases. The last line printed
is one JSON object.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

import httpx
from harness import run, summary, timed
from sqlalchemy import event

from shared import clock
from shared.auth import issue_token
from shared.db import Database, use_database
from shared.migrate import migrate
from shared.pagination import encode_cursor

CASES = "/identification/v1/cases"
COUNTY = "610326"
COUNTIES = [f"6103{n:02d}" for n in range(21, 31)]
OPEN_IN_COUNTY = 100_000
DECIDED_IN_COUNTY = 50_000
OPEN_PER_OTHER_COUNTY = 20_000
REQUESTS = 200
WARM_UP = 20

_HOUSEHOLDS = """
INSERT INTO households (county_code, household_id, region_code, category, head_name)
SELECT c.county, 'H' || lpad(i::text, 7, '0'),
       c.county || (100 + i % 12)::text || (200 + i % 25)::text,
       CASE WHEN i % 5 = 0 THEN 'poverty_alleviated' ELSE 'general' END, '王某'
FROM unnest($1::text[]) WITH ORDINALITY AS c(county, n)
CROSS JOIN generate_series(0, $2::int - 1) AS i
"""

# Open cases: household i of a county, opened i % 31 days before today
# minus 15, so deadlines run from 15 days ago to 15 days ahead.
_OPEN_CASES = """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
    deadline, state, steps_done, opened_by)
SELECT gen_random_uuid(), h.county_code, h.household_id, h.region_code,
       CASE WHEN n % 2 = 0 THEN 'department_warning' WHEN n % 4 = 1 THEN 'self_report'
            ELSE 'cadre_screening' END,
       $2::date - 15 - (n % 31), $2::date - (n % 31), 'open',
       CASE WHEN n % 3 = 0 THEN '{household_visit}'::varchar[] ELSE '{}' END, 'bench'
FROM (SELECT h.*, row_number() OVER (ORDER BY household_id)::int AS n
      FROM households h WHERE county_code = $1) h
WHERE n <= $3
"""

_DECIDED_CASES = """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
    deadline, state, steps_done, outcome, reason, decided_on, completed, opened_by)
SELECT gen_random_uuid(), h.county_code, h.household_id, h.region_code, 'department_warning',
       $2::date - 60 - (n % 300), $2::date - 45 - (n % 300), 'decided',
       '{household_visit,village_review,township_review,county_approval}', 'not_included',
       '收入稳定', $2::date - 50 - (n % 300), true, 'bench'
FROM (SELECT h.*, row_number() OVER (ORDER BY household_id DESC)::int AS n
      FROM households h WHERE county_code = $1) h
WHERE n <= $3
"""

_WARNINGS = """
INSERT INTO case_warnings (warning_id, county_code, case_id, warning_type)
SELECT gen_random_uuid(), county_code, case_id, 'dibao' FROM cases
WHERE source = 'department_warning'
"""

_VISITS = """
INSERT INTO case_steps (case_id, county_code, step, done_on, actor, recorded_at, form)
SELECT case_id, county_code, 'household_visit', opened_on + 1, 'bench', now(),
       '{"visited_on": "x", "eligible": true, "income_per_capita_yuan": 5200}'::jsonb
FROM cases WHERE 'household_visit' = ANY(steps_done)
"""


async def generate(db: Database, households_per_county: int) -> dict[str, int]:
    today = clock.today()
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        started = time.perf_counter()
        await driver.execute(_HOUSEHOLDS, COUNTIES, households_per_county)
        await driver.execute(_OPEN_CASES, COUNTY, today, OPEN_IN_COUNTY)
        await driver.execute(_DECIDED_CASES, COUNTY, today, DECIDED_IN_COUNTY)
        for county in COUNTIES:
            if county != COUNTY:
                await driver.execute(_OPEN_CASES, county, today, OPEN_PER_OTHER_COUNTY)
        await driver.execute(_WARNINGS)
        await driver.execute(_VISITS)
        await driver.execute("VACUUM ANALYZE")
        print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        households = await driver.fetchval("SELECT count(*) FROM households")
        open_cases = await driver.fetchval(
            "SELECT count(*) FROM cases WHERE county_code = $1 AND state = 'open'", COUNTY
        )
        all_cases = await driver.fetchval("SELECT count(*) FROM cases")
    return {"households": households, "open_in_county": open_cases, "cases": all_cases}


async def cursors(db: Database, count: int) -> list[str]:
    """Cursors spread evenly over the county's open cases, deadline order."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        rows = await driver.fetch(
            "SELECT deadline, case_id FROM ("
            "  SELECT deadline, case_id, row_number() OVER (ORDER BY deadline, case_id) AS n"
            "  FROM cases WHERE county_code = $1 AND state = 'open') x"
            " WHERE n % $2 = 0 ORDER BY n",
            COUNTY,
            max(1, OPEN_IN_COUNTY // count),
        )
    return [encode_cursor([r["deadline"], r["case_id"]]) for r in rows][:count]


def page_params(deep: list[str], extra: dict[str, str]) -> list[dict[str, Any]]:
    """One in four a first page, the others deep pages by cursor."""
    return [
        dict(extra) if i % 4 == 0 else {**extra, "cursor": deep[i % len(deep)]}
        for i in range(REQUESTS)
    ]


class PlanCapture:
    """Keeps the last list statement the app ran, to EXPLAIN it afterwards."""

    def __init__(self, db: Database) -> None:
        self.statement: tuple[str, Any] | None = None
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "ORDER BY c.deadline, c.case_id" in statement:
            self.statement = (statement, params)

    async def plan_of(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        params: dict[str, str],
        deep: list[str],
        db: Database,
    ) -> str:
        """The plan of a deep page in the middle of the list (also printed to stderr)."""
        middle = {**params, "cursor": deep[len(deep) // 2]}
        (await client.get(CASES, headers=headers, params=middle)).raise_for_status()
        plan = await self.explain(db)
        print(f"plan of {params}:\n{plan}", file=sys.stderr)
        return plan

    async def explain(self, db: Database) -> str:
        assert self.statement is not None
        statement, params = self.statement
        async with db.engine.connect() as conn:
            driver = (await conn.get_raw_connection()).driver_connection
            assert driver is not None
            rows = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
        return "\n".join(r[0] for r in rows)


async def bench(url: str, households: int) -> dict[str, Any]:
    db = Database(url, pool_size=5)
    use_database(db)
    try:
        await migrate(db.engine)
        print(f"generating {households} households and their cases", file=sys.stderr)
        counts = await generate(db, households // len(COUNTIES))
        async with db.transaction() as session:
            _, county_token = await issue_token(
                session, kind="user", name="县", role="county_staff", region_code=COUNTY + "000000"
            )
            _, town_token = await issue_token(
                session, kind="user", name="乡", role="township_staff", region_code="610326100000"
            )
        deep = await cursors(db, REQUESTS)
        county = {"Authorization": f"Bearer {county_token}"}
        town = {"Authorization": f"Bearer {town_token}"}
        capture = PlanCapture(db)

        from services.app import create_app

        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            health = await timed(
                client, "/identification/v1/healthz", {}, [{}] * REQUESTS, warm_up=WARM_UP
            )
            main = await timed(
                client, CASES, county, page_params(deep, {"state": "open"}), warm_up=WARM_UP
            )
            plan = await capture.plan_of(client, county, {"state": "open"}, deep, db)
            others = {}
            for name, headers, extra in (
                ("overdue_county", county, {"state": "overdue"}),
                ("due_soon_county", county, {"state": "due_soon"}),
                ("step_visit_county", county, {"step": "household_visit"}),
                ("source_county", county, {"state": "open", "source": "self_report"}),
                ("open_town", town, {"state": "open"}),
                ("open_county_limit_500", county, {"state": "open", "limit": "500"}),
                ("all_states_county", county, {}),
                ("decided_county", county, {"state": "decided"}),
            ):
                others[name] = summary(
                    await timed(client, CASES, headers, page_params(deep, extra), warm_up=WARM_UP)
                )
            all_plan = await capture.plan_of(client, county, {}, deep, db)
            decided_plan = await capture.plan_of(client, county, {"state": "decided"}, deep, db)
    finally:
        await db.dispose()
    result = summary(main)
    baseline = summary(health)
    return {
        **counts,
        "requests": REQUESTS,
        "p50_ms": result["p50_ms"],
        "p95_ms": result["p95_ms"],
        "max_ms": result["max_ms"],
        "baseline_healthz_p50_ms": baseline["p50_ms"],
        "baseline_healthz_p95_ms": baseline["p95_ms"],
        "p95_minus_baseline_ms": round(result["p95_ms"] - baseline["p95_ms"], 2),
        "plan_indexes": sorted(set(re.findall(r"using (\w+)", plan))),
        "all_states_plan_indexes": sorted(set(re.findall(r"using (\w+)", all_plan))),
        "decided_plan_indexes": sorted(set(re.findall(r"using (\w+)", decided_plan))),
        "others": others,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    args = parser.parse_args()
    run(lambda url: bench(url, args.households))


if __name__ == "__main__":
    main()
