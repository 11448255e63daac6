"""Red flags of a region (SPEC §6; API.md `GET /red_flags`). Counts and region
codes only: no household id leaves this module.

- `zero_object_villages`: the villages inside the region (itself, if a
  village) without a monitoring object that is not removed (spot-check
  targets), by code.
- `high_ratio_regions`: the towns and villages inside the region (itself
  included) where monitoring objects with status `risk_not_eliminated` over
  the registered persons (`members` of the place's households) exceed the
  policy's `red_flags.high_ratio`; a place with no registered person has no
  ratio. The ratio is a fraction rounded to four decimals.
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
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import INCOME_BAND_UPPER_YUAN, OFF_SYSTEM_SUPPORT
from shared.policy import get_policy
from shared.regions import scope_range


def _in_scope(column: str) -> str:
    # A range, not LIKE: a prepared statement's generic plan bounds its index
    # scans by a range of parameters, but scans the whole table for a pattern.
    return f"{column} >= CAST(:scope_from AS text) AND {column} < CAST(:scope_to AS text)"


_ZERO_OBJECT_VILLAGES = text(
    f"""
SELECT r.code AS region_code, r.name AS region_name
FROM regions r
WHERE {_in_scope("r.code")} AND r.level = 'village'
  AND NOT EXISTS (SELECT 1 FROM monitoring_objects o
                  WHERE o.region_code = r.code AND o.status <> 'removed')
ORDER BY r.code
"""
)

# Objects at risk and persons are counted per village once, then summed per
# town (every household lives in a village, so a town's rows are its villages').
_HIGH_RATIO = text(
    f"""
WITH objects AS (
    SELECT region_code, count(*) AS n FROM monitoring_objects
    WHERE {_in_scope("region_code")} AND status = 'risk_not_eliminated'
    GROUP BY region_code
), persons AS (
    SELECT region_code, sum(n) AS n FROM summary_persons
    WHERE {_in_scope("region_code")}
    GROUP BY region_code
), villages AS (
    SELECT region_code AS code, COALESCE(o.n, 0) AS at_risk, COALESCE(p.n, 0) AS persons
    FROM objects o FULL JOIN persons p USING (region_code)
), places AS (
    SELECT code, at_risk, persons FROM villages
    UNION ALL
    SELECT left(code, 9) || '000', sum(at_risk), sum(persons) FROM villages GROUP BY 1
)
SELECT r.code AS region_code, r.name AS region_name,
       CAST(round(CAST(x.at_risk AS numeric) / x.persons, 4) AS float8) AS ratio
FROM places x
JOIN regions r ON r.code = x.code AND r.level IN ('town', 'village')
WHERE {_in_scope("r.code")} AND x.persons > 0
  AND CAST(x.at_risk AS numeric) / x.persons > CAST(:high_ratio AS numeric)
ORDER BY r.code
"""
)

# Bands with an upper end; the open-ended top band never lies under a line.
_BAND_UPPERS = {band: upper for band, upper in INCOME_BAND_UPPER_YUAN.items() if upper is not None}

_HOUSEHOLD_COUNTS = text(
    f"""
WITH lines AS (
    SELECT * FROM unnest(CAST(:years AS integer[]), CAST(:lines AS numeric[])) AS l(year, line)
), bands AS (
    SELECT * FROM unnest(CAST(:bands AS text[]), CAST(:band_uppers AS numeric[])) AS b(band, upper)
), at_risk AS (
    SELECT DISTINCT county_code, household_id FROM monitoring_objects
    WHERE {_in_scope("region_code")} AND status = 'risk_not_eliminated'
), off_system AS (
    SELECT DISTINCT h.county_code, h.household_id
    FROM warnings w
    JOIN households h ON h.county_code = w.county_code AND h.household_id = w.household_id
    WHERE {_in_scope("h.region_code")} AND w.status = 'matched'
      AND w.department = 'civil_affairs'
      AND w.warning_type IN ('dibao', 'tekun', 'temporary_assistance')
      AND w.received_on > CAST(:since AS date)
      AND NOT EXISTS (SELECT 1 FROM at_risk a
                      WHERE a.county_code = h.county_code AND a.household_id = h.household_id)
      AND NOT EXISTS (SELECT 1 FROM cases c
                      WHERE c.county_code = h.county_code AND c.household_id = h.household_id
                        AND ((c.state = 'open' AND c.decided_on IS NULL)
                             OR c.decided_on > CAST(:since AS date)))
), latest_visits AS (
    SELECT DISTINCT ON (c.county_code, c.household_id)
           c.county_code, c.household_id, s.done_on,
           CAST(s.form ->> 'income_per_capita_yuan' AS numeric) AS income
    FROM case_steps s
    JOIN cases c ON c.county_code = s.county_code AND c.case_id = s.case_id
    JOIN households h ON h.county_code = c.county_code AND h.household_id = c.household_id
    WHERE s.step = 'household_visit' AND {_in_scope("h.region_code")}
    ORDER BY c.county_code, c.household_id, s.done_on DESC, s.recorded_at DESC
), should_include AS (
    SELECT v.county_code, v.household_id FROM latest_visits v
    WHERE v.income < COALESCE(
              (SELECT l.line FROM lines l WHERE l.year <= extract(year FROM v.done_on)
               ORDER BY l.year DESC LIMIT 1),
              (SELECT l.line FROM lines l ORDER BY l.year LIMIT 1))
      AND NOT EXISTS (SELECT 1 FROM at_risk a
                      WHERE a.county_code = v.county_code AND a.household_id = v.household_id)
), latest_screenings AS (
    SELECT DISTINCT ON (s.county_code, s.household_id)
           s.county_code, s.household_id, s.screened_on, s.housing, s.drinking_water,
           s.schooling, s.income_band, s.civil_affairs_support
    FROM screenings s
    JOIN campaigns p ON p.campaign_id = s.campaign_id
    JOIN households h ON h.county_code = s.county_code AND h.household_id = s.household_id
    WHERE {_in_scope("h.region_code")}
    ORDER BY s.county_code, s.household_id, p.year DESC, p.starts_on DESC,
             p.created_at DESC, p.campaign_id
), screened_flags AS (
    SELECT x.county_code, x.household_id,
           x.civil_affairs_support = ANY(CAST(:off_system_support AS text[])) AS off_system,
           x.housing = 'unsafe' OR x.drinking_water = 'unsafe'
             OR x.schooling = 'out_of_school'
             OR COALESCE(
                    (SELECT b.upper FROM bands b WHERE b.band = x.income_band)
                    <= COALESCE(
                        (SELECT l.line FROM lines l
                         WHERE l.year <= extract(year FROM x.screened_on)
                         ORDER BY l.year DESC LIMIT 1),
                        (SELECT l.line FROM lines l ORDER BY l.year LIMIT 1)),
                    false) AS should_include
    FROM latest_screenings x
    WHERE NOT EXISTS (SELECT 1 FROM at_risk a
                      WHERE a.county_code = x.county_code AND a.household_id = x.household_id)
)
SELECT (SELECT count(*) FROM (
            SELECT county_code, household_id FROM off_system
            UNION
            SELECT county_code, household_id FROM screened_flags WHERE off_system
        ) u) AS off_system_households,
       (SELECT count(*) FROM (
            SELECT county_code, household_id FROM should_include
            UNION
            SELECT county_code, household_id FROM screened_flags WHERE should_include
        ) u) AS should_include_households
"""
)


async def red_flags(session: AsyncSession, *, region_code: str, today: date) -> dict[str, Any]:
    """The red flags of `region_code` as of `today` (three statements)."""
    policy = get_policy()
    scope_from, scope_to = scope_range(region_code)
    scope = {"scope_from": scope_from, "scope_to": scope_to}
    villages = await session.execute(_ZERO_OBJECT_VILLAGES, scope)
    high = await session.execute(_HIGH_RATIO, scope | {"high_ratio": policy.red_flags.high_ratio})
    years = sorted(policy.years)
    counts = (
        await session.execute(
            _HOUSEHOLD_COUNTS,
            scope
            | {
                "since": today - timedelta(days=365),
                "years": years,
                "lines": [policy.years[y].monitoring_line_yuan for y in years],
                "bands": list(_BAND_UPPERS),
                "band_uppers": list(_BAND_UPPERS.values()),
                "off_system_support": sorted(OFF_SYSTEM_SUPPORT),
            },
        )
    ).one()
    return {
        "zero_object_villages": [dict(r) for r in villages.mappings()],
        "high_ratio_regions": [dict(r) for r in high.mappings()],
        "off_system_households": counts.off_system_households,
        "should_include_households": counts.should_include_households,
    }
