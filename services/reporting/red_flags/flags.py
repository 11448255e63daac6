"""Red flags of a region (SPEC §6; API.md `GET /red_flags`). Counts and region
codes only: no household id leaves this module.

- `zero_object_villages`: the villages inside the region (itself, if a
  village) without a monitoring object that is not removed (spot-check
  targets), by code.
- `high_ratio_regions`: the towns and villages inside the region (itself
  included) where the persons of monitoring objects with status
  `risk_not_eliminated` (the `members` of their households) over the
  registered persons (`members` of the place's households) exceed the
  policy's `red_flags.high_ratio` (SPEC §12: the 2% rule is in persons); a
  place with no registered person has no ratio. The ratio is a fraction
  rounded to four decimals.
- `no_alleviated_villages`: the villages inside the region with registered
  households but no `poverty_alleviated` one (a key area for screening), by code.
- `key_area_regions`: the regions inside the region (itself included) that
  a regions load gave key-area `attributes` (REGION_ATTRIBUTES), by code.
- `off_system_households` (体外循环): the region's households flagged by either
  rule below, each counted once:
  - warnings: a matched civil-affairs `dibao`, `tekun` or
    `temporary_assistance` warning received in the last 365 days
    (received_on > today - 365), no `risk_not_eliminated` monitoring object and
    no case that is open or was decided in those 365 days;
  - screening: the household's latest screening record (below) names
    civil-affairs support in `OFF_SYSTEM_SUPPORT` (dibao, tekun, temporary
    assistance) and it has no `risk_not_eliminated` monitoring object.
- `should_include_households` (应纳未纳): the region's households flagged by
  either rule below, each counted once:
  - household visits: the latest `household_visit` (by done_on, over all their
    cases) found an income per capita below the monitoring line of the visit's
    year, and no `risk_not_eliminated` monitoring object;
  - screening: the latest screening record has `housing` or `drinking_water`
    `unsafe`, `schooling` `out_of_school`, or an income band lying wholly
    under the monitoring line of the screening's year (`screened_on`): the
    band's upper end (`INCOME_BAND_UPPER_YUAN`, exclusive) is at or under the
    line; and no `risk_not_eliminated` monitoring object.

A household's latest screening record is its record in its most recent
campaign: by the campaign's `year`, then `starts_on` (then its creation, so
that the choice is stable). An older campaign's record never flags a household
screened again since. A year's monitoring line is the policy's figures for it
(a year without figures uses the latest earlier year's, as `figures_for`).

A household belongs to the region of its `households.region_code`.

The household rules are decided per household by the reporting consumer
(summary.py) and counted per village; a request adds up the villages of its
scope range, the off-system ones by the days each is off-system.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.policy import get_policy
from shared.regions import scope_range


def _in_scope(column: str) -> str:
    # A range, not LIKE: a prepared statement's generic plan bounds its index
    # scans by a range of parameters, but scans the whole table for a pattern.
    return f"{column} >= CAST(:scope_from AS text) AND {column} < CAST(:scope_to AS text)"


_ZERO_OBJECT_VILLAGES = f"""
SELECT r.code AS region_code, r.name AS region_name
FROM regions r
WHERE {_in_scope("r.code")} AND r.level = 'village'
  AND NOT EXISTS (SELECT 1 FROM monitoring_objects o
                  WHERE o.region_code = r.code AND o.status <> 'removed')
"""

_NO_ALLEVIATED_VILLAGES = f"""
SELECT r.code AS region_code, r.name AS region_name
FROM summary_red_flag_villages v
JOIN regions r ON r.code = v.region_code AND r.level = 'village'
WHERE {_in_scope("v.region_code")} AND v.households > 0 AND v.poverty_alleviated = 0
"""

_KEY_AREAS = f"""
SELECT code AS region_code, name AS region_name, attributes
FROM regions
WHERE {_in_scope("code")} AND cardinality(attributes) > 0
"""

# Persons at risk and persons are counted per village once, then summed per
# town (every household lives in a village, so a town's rows are its villages').
_HIGH_RATIO = f"""
WITH at_risk AS (
    SELECT region_code, sum(persons_at_risk) AS n FROM summary_red_flags
    WHERE {_in_scope("region_code")} AND persons_at_risk > 0
    GROUP BY region_code
), persons AS (
    SELECT region_code, sum(n) AS n FROM summary_persons
    WHERE {_in_scope("region_code")}
    GROUP BY region_code
), villages AS (
    SELECT region_code AS code, COALESCE(o.n, 0) AS at_risk, COALESCE(p.n, 0) AS persons
    FROM at_risk o FULL JOIN persons p USING (region_code)
), places AS (
    SELECT code, at_risk, persons FROM villages
    UNION ALL
    SELECT left(code, 9) || '000', sum(at_risk), sum(persons) FROM villages GROUP BY 1
), flagged AS MATERIALIZED (
    -- Materialized: a generic plan, guessing one row, would otherwise add the
    -- towns up again for every region it joins.
    SELECT code, CAST(round(CAST(at_risk AS numeric) / persons, 4) AS float8) AS ratio
    FROM places
    WHERE persons > 0 AND CAST(at_risk AS numeric) / persons > CAST(:high_ratio AS numeric)
)
SELECT r.code AS region_code, r.name AS region_name, x.ratio
FROM flagged x
JOIN regions r ON r.code = x.code AND r.level IN ('town', 'village')
WHERE {_in_scope("r.code")}
"""

_HOUSEHOLD_COUNTS = f"""
SELECT CAST(COALESCE(sum(households) FILTER (
           WHERE off_system_from <= CAST(:today AS date)
             AND CAST(:today AS date) < off_system_until), 0) AS bigint) AS off_system_households,
       CAST(COALESCE(sum(households) FILTER (WHERE should_include), 0) AS bigint)
           AS should_include_households
FROM summary_red_flags
WHERE {_in_scope("region_code")} AND persons_at_risk = 0
"""


# The five parts in one statement, each list built as JSON by the database in
# code order: a province's answer lists some 30,000 villages, and building a
# dict, a model and JSON per row in Python cost more than the queries.
def _json_list(sql: str) -> str:
    return f"SELECT coalesce(json_agg(x ORDER BY x.region_code), '[]')::text FROM ({sql}) x"


_RED_FLAGS = text(
    f"""
SELECT ({_json_list(_ZERO_OBJECT_VILLAGES)}) AS zero_object_villages,
       ({_json_list(_HIGH_RATIO)}) AS high_ratio_regions,
       counts.off_system_households, counts.should_include_households,
       ({_json_list(_NO_ALLEVIATED_VILLAGES)}) AS no_alleviated_villages,
       ({_json_list(_KEY_AREAS)}) AS key_area_regions
FROM ({_HOUSEHOLD_COUNTS}) counts
"""
)
_LISTS = (
    "zero_object_villages",
    "high_ratio_regions",
    "no_alleviated_villages",
    "key_area_regions",
)


async def red_flags(session: AsyncSession, *, region_code: str, today: date) -> dict[str, Any]:
    """The red flags of `region_code` as of `today`, in one statement; the
    lists come as JSON fragments (`orjson.Fragment`) for the answer to embed."""
    scope_from, scope_to = scope_range(region_code)
    row = (
        await session.execute(
            _RED_FLAGS,
            {
                "scope_from": scope_from,
                "scope_to": scope_to,
                "high_ratio": get_policy().red_flags.high_ratio,
                "today": today,
            },
        )
    ).one()
    flags = row._asdict()
    return flags | {name: orjson.Fragment(flags[name]) for name in _LISTS}
