"""The red flags' household counts as they were decided on every request
before the summaries (services/reporting/red_flags/summary.py): the oracle the
summaries must agree with. Test code only."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import INCOME_BAND_UPPER_YUAN, OFF_SYSTEM_SUPPORT
from shared.policy import get_policy
from shared.regions import scope_range


def _in_scope(column: str) -> str:
    return f"{column} >= CAST(:scope_from AS text) AND {column} < CAST(:scope_to AS text)"


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


async def oracle_counts(session: AsyncSession, *, region_code: str, today: date) -> tuple[int, int]:
    """(off_system_households, should_include_households) decided from the tables."""
    policy = get_policy()
    scope_from, scope_to = scope_range(region_code)
    years = sorted(policy.years)
    row = (
        await session.execute(
            _HOUSEHOLD_COUNTS,
            {
                "scope_from": scope_from,
                "scope_to": scope_to,
                "since": today - timedelta(days=365),
                "years": years,
                "lines": [policy.years[y].monitoring_line_yuan for y in years],
                "bands": list(_BAND_UPPERS),
                "band_uppers": list(_BAND_UPPERS.values()),
                "off_system_support": sorted(OFF_SYSTEM_SUPPORT),
            },
        )
    ).one()
    return row.off_system_households, row.should_include_households
