"""How each table spreads across nodes when one PostgreSQL is no longer enough
(SPEC §10; deploy/SCALE.md explains the whole road).

- `DISTRIBUTED`: the table is split by the named column. Every primary and
  unique key holds that column, so each key is checked inside one shard; rows
  that join (a county's cases, steps, warnings, objects) share the column and
  sit together. `tests/shared/test_distribution.py` reads the catalog of a
  migrated database and fails on a table that breaks this.
- `REFERENCE`: small catalogs every node needs for its joins (the regions tree,
  the principals that tokens resolve to), copied whole to each node.
- `COORDINATOR`: bookkeeping of the processes themselves (consumer positions,
  job runs, migrations) and the department-side feed records, a few thousand
  rows a year, kept on the coordinator only.
"""

from __future__ import annotations

DISTRIBUTED: dict[str, str] = {
    # Place-bound: everything about a household lives in its county's shard.
    "households": "county_code",
    "members": "county_code",
    "warnings": "county_code",
    "cases": "county_code",
    "case_steps": "county_code",
    "case_warnings": "county_code",
    "monitoring_objects": "county_code",
    "object_requests": "county_code",
    "measures": "county_code",
    "assessments": "county_code",
    "gap_notices": "county_code",
    "household_visits": "county_code",
    "household_gap_notices": "county_code",
    "campaigns": "county_code",
    "screenings": "county_code",
    "spot_checks": "county_code",
    "spot_check_households": "county_code",
    "problems": "county_code",
    "weekly_snapshots": "county_code",
    "summary_warnings": "county_code",
    "summary_cases": "county_code",
    "summary_open_cases": "county_code",
    "summary_objects": "county_code",
    "summary_object_events": "county_code",
    "summary_object_risks": "county_code",
    "summary_measures": "county_code",
    "summary_persons": "county_code",
    "red_flag_households": "county_code",
    "summary_red_flags": "county_code",
    "summary_red_flag_villages": "county_code",
    "events": "county_code",
    "audit_log": "county_code",
    # A department's record ids are unique across counties, so this key table
    # is split by department instead (see deploy/SCALE.md on its ten values).
    "warning_sources": "department",
}

REFERENCE: frozenset[str] = frozenset({"regions", "principals"})

COORDINATOR: frozenset[str] = frozenset(
    {
        "alembic_version",
        "consumer_positions",
        "job_runs",
        "ingest_batches",
        "feed_pushes",
        "feed_late_notices",
        # A department's webhooks and their delivery queue: not place-bound
        # (an item goes to a department, whatever the county), claimed with
        # row locks across the whole queue.
        "webhook_subscriptions",
        "webhook_deliveries",
    }
)
