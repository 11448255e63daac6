"""Overdue scan: `python bench/scan.py [--cases 1000000] [--newly-due 100000]`.

What it measures: one run of the overdue scan (`warnex jobs run overdue-scan`:
`run_job` with `OVERDUE_SCAN`, its advisory lock, its `job_runs` claim, the
`scan_overdue` UPDATE and the `case.overdue` events, one transaction) over a
large cases table. It starts a fresh embedded PostgreSQL (or uses
DATABASE_URL as it is), migrates, and writes with INSERT ... SELECT (not the
API) N open cases in ten counties, one household each: `--newly-due` of them
past their deadline (1 to 10 days ago) and not yet announced, the others not
due (deadline today to 14 days ahead). After VACUUM ANALYZE it times one run
and checks that exactly `--newly-due` cases were marked and announced
(`case.overdue` events) and that a second run announces nothing.

Baseline, measured in the same run: after a VACUUM, a plain UPDATE of the
same rows (`SET overdue_at = now()` under the scan's WHERE, without the
events), so the ratio shows what the events and the job's bookkeeping cost.

Target (proposed; issue 6 sets no number): 1M cases with 100k newly due in
under 30 s on a 2-core machine, well inside the job's 15-minute period, and
at most 4 times the plain UPDATE. The last line printed is one JSON object
with `cases`, `newly_overdue`, `seconds` and the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from typing import Any

from harness import run
from sqlalchemy import text

from services.identification.jobs import OVERDUE_SCAN
from shared import clock
from shared.clock import local_date
from shared.db import Database, use_database
from shared.migrate import migrate
from shared.scheduler import run_job

COUNTIES = [f"6103{n:02d}" for n in range(21, 31)]

# Case i: county i % 10, household i / 10 of it (one open case per household).
# The first `$3` cases are due 1 to 10 days ago, the others today or later.
_CASES = """
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
    deadline, state, opened_by)
SELECT gen_random_uuid(), c.county, 'H' || lpad((i / 10)::text, 8, '0'),
       c.county || (100 + i % 12)::text || (200 + (i / 12) % 15)::text,
       CASE WHEN i % 2 = 0 THEN 'department_warning' ELSE 'self_report' END,
       d.deadline - 15, d.deadline, 'open', 'bench'
FROM generate_series(0, $1::int - 1) AS i
CROSS JOIN LATERAL (SELECT ($2::text[])[i % 10 + 1] AS county) c
CROSS JOIN LATERAL (
    SELECT CASE WHEN i < $3::int THEN $4::date - 1 - i % 10 ELSE $4::date + i % 15 END
        AS deadline) d
"""

_PLAIN_UPDATE = """
UPDATE cases SET overdue_at = now()
WHERE state = 'open' AND decided_on IS NULL AND deadline < $1
"""


async def generate(db: Database, cases: int, newly_due: int, today: Any) -> float:
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        started = time.perf_counter()
        await driver.execute(_CASES, cases, COUNTIES, newly_due, today)
        await driver.execute("VACUUM ANALYZE cases")
        await driver.execute("VACUUM ANALYZE events")
    return time.perf_counter() - started


async def count(db: Database, sql: str) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(text(sql)) or 0)


async def time_plain_update(db: Database, today: Any) -> tuple[float, int]:
    """The same rows by a bare UPDATE, on a vacuumed table, rolled back afterwards."""
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute("VACUUM ANALYZE cases")
        transaction = driver.transaction()
        await transaction.start()
        started = time.perf_counter()
        status = await driver.execute(_PLAIN_UPDATE, today)
        seconds = time.perf_counter() - started
        await transaction.rollback()
    return seconds, int(status.split()[-1])


async def bench(url: str, cases: int, newly_due: int) -> dict[str, Any]:
    if not 0 <= newly_due <= cases:
        raise SystemExit("--newly-due must lie between 0 and --cases")
    now = clock.now()
    today = local_date(now)
    db = Database(url, pool_size=2)
    use_database(db)
    try:
        await migrate(db.engine)
        print(f"writing {cases} cases, {newly_due} newly due", file=sys.stderr, flush=True)
        load_seconds = await generate(db, cases, newly_due, today)
        print("running the overdue scan", file=sys.stderr, flush=True)
        started = time.perf_counter()
        outcome = await run_job(db, OVERDUE_SCAN, now=now, manual=True)
        seconds = time.perf_counter() - started
        marked = await count(db, "SELECT count(*) FROM cases WHERE overdue_at IS NOT NULL")
        announced = await count(db, "SELECT count(*) FROM events WHERE type = 'case.overdue'")
        again = await run_job(db, OVERDUE_SCAN, now=now + timedelta(seconds=1), manual=True)
        announced_again = await count(db, "SELECT count(*) FROM events WHERE type = 'case.overdue'")
        if not (marked == announced == announced_again == newly_due):
            raise SystemExit(
                f"expected {newly_due} marked and announced once; got {marked} marked,"
                f" {announced} announced, {announced_again} after a second run ({again})"
            )
        print("timing the plain UPDATE baseline", file=sys.stderr, flush=True)
        baseline, updated = await time_plain_update(db, today)
        total = await count(db, "SELECT count(*) FROM cases")
    finally:
        await db.dispose()
    return {
        "cases": total,
        "newly_overdue": announced,
        "seconds": round(seconds, 3),
        "baseline_update_seconds": round(baseline, 3),
        "baseline_rows": updated,
        "ratio_to_update": round(seconds / baseline, 1) if baseline else None,
        "load_seconds": round(load_seconds, 1),
        "job_outcome": outcome,
        "target_seconds": 30,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000, help="open cases in all")
    parser.add_argument(
        "--newly-due", type=int, default=100_000, help="cases past their deadline, not announced"
    )
    args = parser.parse_args()
    run(lambda url: bench(url, args.cases, args.newly_due))


if __name__ == "__main__":
    main()
