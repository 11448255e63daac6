"""The reporting data set of the benches (bench/reporting_scale.py,
bench/queries.py): written with INSERT ... SELECT, not the API, into a
province 610000000000 of cities, counties of 12 towns with 15 villages each,
and in them households (3.3 members each), department warnings, cases,
monitoring objects with their measures and assessments, and feed pushes:

- county: one county, 100k households, 330k persons, 150k warnings, 10k objects;
- province: 10 cities of 10 counties, 3M households, 10M persons, 5M warnings,
  300k objects.

The rows carry no events, so `load_data_set` then recounts every county into
the reporting summaries (`refresh_all`).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from services.reporting.summaries import refresh_all
from shared import clock
from shared.catalog import MEASURE_CATEGORIES, WARNING_TYPES
from shared.db import Database

PROVINCE = "610000000000"
TOWNS = 12
VILLAGES = 15


@dataclass(frozen=True, slots=True)
class Size:
    cities: int
    counties_per_city: int
    households: int  # in all
    objects: int
    warnings: int

    @property
    def counties(self) -> int:
        return self.cities * self.counties_per_city


SIZES = {
    "county": Size(1, 1, 100_000, 10_000, 150_000),
    "province": Size(10, 10, 3_000_000, 300_000, 5_000_000),
}

_REGIONS = """
INSERT INTO regions (code, name, level, parent_code)
SELECT '610000000000', '陕西省', 'province', NULL
UNION ALL
SELECT '61' || lpad(c::text, 2, '0') || '00000000', '市' || c, 'city', '610000000000'
FROM generate_series(1, $1::int) c
UNION ALL
SELECT '61' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') || '000000', '县' || c || '-' || k,
       'county', '61' || lpad(c::text, 2, '0') || '00000000'
FROM generate_series(1, $1::int) c, generate_series(1, $2::int) k
UNION ALL
SELECT '61' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') || (100 + t)::text || '000',
       '镇' || t, 'town', '61' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') || '000000'
FROM generate_series(1, $1::int) c, generate_series(1, $2::int) k, generate_series(0, $3::int - 1) t
UNION ALL
SELECT '61' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') || (100 + t)::text
           || (200 + v)::text,
       '村' || v, 'village',
       '61' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') || (100 + t)::text || '000'
FROM generate_series(1, $1::int) c, generate_series(1, $2::int) k,
     generate_series(0, $3::int - 1) t, generate_series(0, $4::int - 1) v
"""

# Every county's code, for the statements below (a temporary table per connection).
_COUNTIES = """
CREATE TEMPORARY TABLE bench_counties AS
SELECT substr(code, 1, 6) AS county FROM regions WHERE level = 'county'
"""

# Household i of a county lives in village (i % 12, i / 12 % 15).
_VILLAGE = "c.county || (100 + i % 12)::text || (200 + (i / 12) % 15)::text"
_HOUSEHOLD_ID = "'H' || lpad(i::text, 8, '0')"

_HOUSEHOLDS = f"""
INSERT INTO households (county_code, household_id, region_code, category, head_name)
SELECT c.county, {_HOUSEHOLD_ID}, {_VILLAGE},
       CASE WHEN i % 5 = 0 THEN 'poverty_alleviated' ELSE 'general' END, '王某'
FROM bench_counties c CROSS JOIN generate_series(0, $1::int - 1) AS i
"""

# 3 members, a fourth in three households of ten.
_MEMBERS = f"""
INSERT INTO members (county_code, id_hash, household_id, id_sealed, id_masked, name, relation,
    labour_capacity, disability_grade, in_school, birth_date, sex)
SELECT c.county, decode(md5(c.county || ':' || i || ':' || k), 'hex'), {_HOUSEHOLD_ID},
       '\\x00'::bytea, '610326********' || lpad((k * 7)::text, 4, '0'), '李某',
       (ARRAY['head', 'spouse', 'child', 'parent'])[k + 1],
       (ARRAY['full', 'weak', 'partial', 'none'])[(i + k) % 4 + 1],
       CASE WHEN (i + k) % 17 = 0 THEN 2 END, k >= 2,
       DATE '1950-01-01' + (i * 7 + k * 3001) % 25000, CASE WHEN k % 2 = 0 THEN 'male'
       ELSE 'female' END
FROM bench_counties c CROSS JOIN generate_series(0, $1::int - 1) AS i
CROSS JOIN LATERAL generate_series(0, CASE WHEN i % 10 < 3 THEN 3 ELSE 2 END) AS k
"""

# Warning j of a county names household (j * 7) % N; received over the last
# 400 days. 80 % matched (the village), 8 % unmatched (the county), the rest
# below threshold or dismissed.
_WARNINGS = f"""
INSERT INTO warnings (warning_id, county_code, department, warning_type, source_record_id,
    batch_id, batch_index, id_hash, id_sealed, id_masked, name, reported_region_code,
    region_code, household_id, event_date, amount_yuan, details, received_at, received_on,
    status, late, name_mismatch)
SELECT gen_random_uuid(), c.county, ($3::text[])[j % $5 + 1], ($4::text[])[j % $5 + 1],
       'R' || c.county || lpad(j::text, 9, '0'), $6::uuid, j,
       decode(md5(c.county || ':' || i || ':0'), 'hex'), '\\x00'::bytea,
       '610326********0000', '李某', NULL,
       CASE WHEN s < 8 THEN c.county || '000000' ELSE {_VILLAGE} END,
       CASE WHEN s < 8 THEN NULL ELSE {_HOUSEHOLD_ID} END,
       NULL, NULL, NULL, $2::timestamptz - make_interval(days => j % 400),
       CAST($2::timestamptz - make_interval(days => j % 400) AS date),
       CASE WHEN s < 8 THEN 'unmatched' WHEN s < 15 THEN 'below_threshold'
            WHEN s < 20 THEN 'dismissed' ELSE 'matched' END,
       j % 23 = 0, false
FROM bench_counties c CROSS JOIN generate_series(0, $1::int - 1) AS j
CROSS JOIN LATERAL (SELECT (j * 7) % $7::int AS i, j % 100 AS s) x
"""

# Case j of a county is household 5j's; 30 % open, deadlines 15 days on.
_CASES = f"""
INSERT INTO cases (case_id, county_code, household_id, region_code, source, opened_on,
    deadline, state, completed, steps_done, outcome, reason, decided_on, opened_by)
SELECT gen_random_uuid(), c.county, {_HOUSEHOLD_ID}, {_VILLAGE},
       (ARRAY['department_warning', 'department_warning', 'self_report', 'cadre_screening'])
           [j % 4 + 1],
       $2::date - j % 400, $2::date - j % 400 + 15,
       CASE WHEN j % 10 < 3 THEN 'open' ELSE 'decided' END, j % 10 >= 3,
       CASE WHEN j % 10 < 3 THEN '{{}}'::varchar[]
            ELSE '{{household_visit,village_review,township_review,county_approval}}' END,
       CASE WHEN j % 10 >= 3 THEN 'included' END, NULL,
       CASE WHEN j % 10 >= 3 THEN $2::date - j % 400 + j % 23 END, 'bench'
FROM bench_counties c CROSS JOIN generate_series(0, $1::int - 1) AS j
CROSS JOIN LATERAL (SELECT 5 * j AS i) x
"""

# Object j of a county is household 10j's: half at risk, 40 % eliminated, 10 % removed.
_OBJECTS = f"""
INSERT INTO monitoring_objects (object_id, county_code, household_id, region_code,
    monitoring_type, risk_types, status, included_on, case_id, eliminated_on, removed_on,
    rolled_back_on, whole_household_no_labour, development_assistance)
SELECT gen_random_uuid(), c.county, {_HOUSEHOLD_ID}, {_VILLAGE},
       (ARRAY['unstable_alleviated', 'marginal', 'sudden_hardship'])[j % 3 + 1],
       CASE WHEN j % 11 = 0 THEN '{{epidemic}}'::varchar[]
            ELSE ARRAY[(ARRAY['illness', 'disability', 'schooling', 'lack_of_labour'])
                       [j % 4 + 1]]::varchar[] END,
       CASE WHEN j % 10 < 5 THEN 'risk_not_eliminated' WHEN j % 10 < 9 THEN 'risk_eliminated'
            ELSE 'removed' END,
       $2::date - j % 700, gen_random_uuid(),
       CASE WHEN j % 10 >= 5 THEN $2::date - j % 700 + 90 END,
       CASE WHEN j % 10 = 9 THEN $2::date - j % 700 + 120 END,
       CASE WHEN j % 17 = 0 AND j % 10 < 5 THEN $2::date - j % 200 END,
       j % 9 = 0, j % 3 <> 0
FROM bench_counties c CROSS JOIN generate_series(0, $1::int - 1) AS j
CROSS JOIN LATERAL (SELECT 10 * j AS i) x
"""

# Two measures per object, categories in turn (a development one for most).
_MEASURES = """
INSERT INTO measures (measure_id, county_code, object_id, case_id, household_id, region_code,
    category, development, responsible_department, status, planned_on, created_by)
SELECT gen_random_uuid(), o.county_code, o.object_id, o.case_id, o.household_id,
       o.region_code, ($1::text[])[n % $4 + 1], ($2::bool[])[n % $4 + 1],
       ($3::text[])[n % $4 + 1],
       (ARRAY['planned', 'in_progress', 'completed', 'cancelled'])[n % 4 + 1],
       o.included_on + 10 * k, 'bench'
FROM (SELECT o.*, row_number() OVER () AS n0 FROM monitoring_objects o) o
CROSS JOIN generate_series(0, 1) AS k
CROSS JOIN LATERAL (SELECT (o.n0 * 3 + k * 5)::int AS n) x
"""

# Three assessments per object, the last a look-back.
_ASSESSMENTS = """
INSERT INTO assessments (assessment_id, county_code, object_id, household_id, assessed_on,
    kind, income_per_capita_yuan, rigid_expenditure_yuan, housing_secure, education_secure,
    medical_secure, drinking_water_secure, actor, recorded_at)
SELECT gen_random_uuid(), o.county_code, o.object_id, o.household_id,
       LEAST(o.included_on + 60 * (k + 1), $1::date),
       CASE WHEN k = 2 THEN 'look_back' ELSE 'routine' END, 6200, 1200,
       true, true, true, true, 'bench', now()
FROM monitoring_objects o CROSS JOIN generate_series(0, 2) AS k
"""

# Weekly pushes of every periodic type over the last year.
_FEED_PUSHES = """
INSERT INTO feed_pushes (batch_id, warning_type, department, pushed_at, period_end)
SELECT gen_random_uuid(), f.warning_type, f.department,
       $3::timestamptz - make_interval(days => CAST(7 * w + f.n AS int)),
       CAST($3::timestamptz - make_interval(days => CAST(7 * w + f.n + 1 AS int)) AS date)
FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS f(warning_type, department, n)
CROSS JOIN generate_series(0, 51) AS w
"""


async def generate(db: Database, size: Size) -> dict[str, Any]:
    today, now = clock.today(), clock.now()
    per_county = size.households // size.counties
    types = list(WARNING_TYPES.values())
    categories = list(MEASURE_CATEGORIES.values())
    periodic = [t for t in types if t.kind == "periodic"]
    async with db.engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        started = time.perf_counter()
        steps: list[tuple[str, str, tuple[Any, ...]]] = [
            ("regions", _REGIONS, (size.cities, size.counties_per_city, TOWNS, VILLAGES)),
            ("counties", _COUNTIES, ()),
            ("households", _HOUSEHOLDS, (per_county,)),
            ("members", _MEMBERS, (per_county,)),
            (
                "warnings",
                _WARNINGS,
                (
                    size.warnings // size.counties,
                    now,
                    [t.department for t in types],
                    [t.code for t in types],
                    len(types),
                    "00000000-0000-0000-0000-000000000001",
                    per_county,
                ),
            ),
            ("cases", _CASES, (per_county // 5, today)),
            ("objects", _OBJECTS, (size.objects // size.counties, today)),
            (
                "measures",
                _MEASURES,
                (
                    [m.code for m in categories],
                    [m.development for m in categories],
                    [m.department for m in categories],
                    len(categories),
                ),
            ),
            ("assessments", _ASSESSMENTS, (today,)),
            (
                "feed_pushes",
                _FEED_PUSHES,
                ([t.code for t in periodic], [t.department for t in periodic], now),
            ),
        ]
        for name, statement, args in steps:
            step = time.perf_counter()
            status = await driver.execute(statement, *args)
            print(
                f"{name}: {status} in {time.perf_counter() - step:.1f} s",
                file=sys.stderr,
                flush=True,
            )
        step = time.perf_counter()
        await driver.execute("ANALYZE")
        print(f"ANALYZE in {time.perf_counter() - step:.1f} s", file=sys.stderr)
        load_seconds = round(time.perf_counter() - started, 1)
        counts = {
            table: await driver.fetchval(f"SELECT count(*) FROM {table}")
            for table in (
                "households",
                "members",
                "warnings",
                "monitoring_objects",
                "cases",
                "measures",
                "assessments",
            )
        }
        first_county = await driver.fetchval("SELECT min(county) FROM bench_counties")
    return {
        "households": counts["households"],
        "persons": counts["members"],
        "warnings": counts["warnings"],
        "objects": counts["monitoring_objects"],
        "cases": counts["cases"],
        "measures": counts["measures"],
        "assessments": counts["assessments"],
        "load_seconds": load_seconds,
        "county": first_county + "000000",
    }


async def load_data_set(db: Database, size: Size, size_name: str) -> tuple[dict[str, Any], str]:
    """Generate the data set of `size` and count it into the summaries (rows
    written by SQL carry no events), timing that recount; its counts and the
    code of its first county."""
    print(f"generating the {size_name} data set", file=sys.stderr, flush=True)
    counts = await generate(db, size)
    county = counts.pop("county")
    print("recounting the summaries", file=sys.stderr, flush=True)
    started = time.perf_counter()
    async with db.transaction() as session:
        await refresh_all(session)
    counts["summary_refresh_seconds"] = round(time.perf_counter() - started, 1)
    return counts, county


async def vacuum_analyze(db: Database) -> None:
    """What autovacuum does in a while: statistics, and the visibility map that
    lets the summaries' covering indexes answer without the heap."""
    async with db.engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))
