"""The red flags' summaries (SPEC §6, §12), kept by the `reporting.summaries`
consumer so that `GET /red_flags` adds up a few rows per village instead of
deciding every household of a province on each request.

- `red_flag_households`: one row per household with something to count (the
  rules are flags.py's docstring):
  - `persons_at_risk`: its members, when it has a `risk_not_eliminated`
    monitoring object (then nothing else is counted for it);
  - `[off_system_from, off_system_until)`: the days it is off-system (体外循环).
    The warnings rule holds on `today` when a matching warning was received
    after `today - 365` (until = the latest one's `received_on + 365`) and no
    case is open undecided (from = infinity) or was decided after
    `today - 365` (from = the latest `decided_on + 365`). A latest screening
    naming civil-affairs support makes the range all days. An empty range
    (`-infinity`, `-infinity`) when neither;
  - `should_include` (应纳未纳): by the latest household visit or screening.
- `summary_red_flags`: those rows counted per village and attributes.
- `summary_red_flag_villages`: households and poverty-alleviated households per village.

An event names the households it may change (warnings, cases, a case's
household visit, monitoring objects and their risk); those households are
decided again and their villages recounted. A registry load or a screening
upload recounts its county, as `refresh_all` recounts every county. The
monitoring lines are the policy's when the household was decided: a policy
changed under a running deployment shows after `refresh_all`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import INCOME_BAND_UPPER_YUAN, OFF_SYSTEM_SUPPORT
from shared.event_types import (
    CASE_DECIDED,
    CASE_OPENED,
    CASE_STEP_COMPLETED,
    HOUSEHOLDS_LOADED,
    MONITORING_OBJECT_INCLUDED,
    MONITORING_OBJECT_REMOVED,
    MONITORING_OBJECT_RISK_UPDATED,
    RISK_ELIMINATED,
    RISK_ROLLED_BACK,
    SCREENING_RECORDED,
    WARNING_EVENTS,
)
from shared.events import EventRecord
from shared.policy import get_policy

_OFF_SYSTEM_WARNINGS = ("dibao", "tekun", "temporary_assistance")
_HOUSEHOLD_EVENTS = frozenset(
    {
        CASE_OPENED,
        CASE_DECIDED,
        MONITORING_OBJECT_INCLUDED,
        MONITORING_OBJECT_RISK_UPDATED,
        MONITORING_OBJECT_REMOVED,
        RISK_ELIMINATED,
        RISK_ROLLED_BACK,
    }
)
_COUNTY_EVENTS = frozenset({HOUSEHOLDS_LOADED, SCREENING_RECORDED})
RED_FLAG_EVENTS = frozenset(
    WARNING_EVENTS | _HOUSEHOLD_EVENTS | _COUNTY_EVENTS | {CASE_STEP_COMPLETED}
)

_OF_COUNTIES = """
SELECT county_code, household_id, region_code FROM households
WHERE county_code = ANY(CAST(:counties AS text[]))
"""
# A probe per key (LIMIT 1), so that the planner counts one household per key:
# a plain join's estimate assumes 200 distinct counties among the keys and
# expects a handful of rows, and plans the rest for a handful.
_OF_HOUSEHOLDS = """
SELECT h.county_code, h.household_id, h.region_code
FROM unnest(CAST(:counties AS text[]), CAST(:households AS text[])) AS k(county_code, household_id)
CROSS JOIN LATERAL (
    SELECT h.county_code, h.household_id, h.region_code FROM households h
    WHERE h.county_code = k.county_code AND h.household_id = k.household_id
    LIMIT 1
) h
"""

# The households of `targets` decided as flags.py's docstring says. Every part
# is MATERIALIZED, computed once: should the planner misjudge the targets as
# a few rows, it joins the parts to them by nested loops, and an inlined part
# was computed again for every target (bench/soak.py: the reporting consumer,
# and every consumer behind it, held for up to 54 s).
_DECIDE = """
INSERT INTO red_flag_households (county_code, household_id, region_code, persons_at_risk,
    off_system_from, off_system_until, should_include)
WITH targets AS MATERIALIZED ({targets}),
lines AS (
    SELECT * FROM unnest(CAST(:years AS integer[]), CAST(:lines AS numeric[])) AS l(year, line)
), bands AS (
    SELECT * FROM unnest(CAST(:bands AS text[]), CAST(:band_uppers AS numeric[])) AS b(band, upper)
), at_risk AS (
    SELECT DISTINCT o.county_code, o.household_id FROM monitoring_objects o
    JOIN targets t ON t.county_code = o.county_code AND t.household_id = o.household_id
    WHERE o.status = 'risk_not_eliminated'
), persons AS MATERIALIZED (
    SELECT m.county_code, m.household_id, count(*) AS n FROM members m
    JOIN at_risk a ON a.county_code = m.county_code AND a.household_id = m.household_id
    GROUP BY 1, 2
), warned AS (
    SELECT w.county_code, w.household_id, max(w.received_on) + 365 AS until
    FROM warnings w
    JOIN targets t ON t.county_code = w.county_code AND t.household_id = w.household_id
    -- As ix_warnings_off_system's predicate (constants, so that it serves).
    WHERE w.status = 'matched' AND w.department = 'civil_affairs'
      AND w.warning_type IN ('dibao', 'tekun', 'temporary_assistance')
    GROUP BY 1, 2
), cased AS (
    SELECT c.county_code, c.household_id,
           CASE WHEN bool_or(c.state = 'open' AND c.decided_on IS NULL) THEN DATE 'infinity'
                ELSE COALESCE(max(c.decided_on) + 365, DATE '-infinity') END AS since
    FROM cases c
    JOIN warned w ON w.county_code = c.county_code AND w.household_id = c.household_id
    GROUP BY 1, 2
), latest_visits AS MATERIALIZED (
    SELECT DISTINCT ON (c.county_code, c.household_id)
           c.county_code, c.household_id, s.done_on,
           CAST(s.form ->> 'income_per_capita_yuan' AS numeric) AS income
    FROM case_steps s
    JOIN cases c ON c.county_code = s.county_code AND c.case_id = s.case_id
    JOIN targets t ON t.county_code = c.county_code AND t.household_id = c.household_id
    WHERE s.step = 'household_visit'
    ORDER BY c.county_code, c.household_id, s.done_on DESC, s.recorded_at DESC
), visited AS MATERIALIZED (
    SELECT v.county_code, v.household_id FROM latest_visits v
    WHERE v.income < COALESCE(
              (SELECT l.line FROM lines l WHERE l.year <= extract(year FROM v.done_on)
               ORDER BY l.year DESC LIMIT 1),
              (SELECT l.line FROM lines l ORDER BY l.year LIMIT 1))
), latest_screenings AS MATERIALIZED (
    SELECT DISTINCT ON (s.county_code, s.household_id)
           s.county_code, s.household_id, s.screened_on, s.housing, s.drinking_water,
           s.schooling, s.income_band, s.civil_affairs_support
    FROM screenings s
    JOIN campaigns p ON p.campaign_id = s.campaign_id
    JOIN targets t ON t.county_code = s.county_code AND t.household_id = s.household_id
    ORDER BY s.county_code, s.household_id, p.year DESC, p.starts_on DESC,
             p.created_at DESC, p.campaign_id
), screened AS MATERIALIZED (
    SELECT x.county_code, x.household_id,
           COALESCE(x.civil_affairs_support = ANY(CAST(:off_system_support AS text[])), false)
               AS off_system,
           COALESCE(x.housing = 'unsafe' OR x.drinking_water = 'unsafe'
             OR x.schooling = 'out_of_school'
             OR COALESCE(
                    (SELECT b.upper FROM bands b WHERE b.band = x.income_band)
                    <= COALESCE(
                        (SELECT l.line FROM lines l
                         WHERE l.year <= extract(year FROM x.screened_on)
                         ORDER BY l.year DESC LIMIT 1),
                        (SELECT l.line FROM lines l ORDER BY l.year LIMIT 1)),
                    false), false) AS should_include
    FROM latest_screenings x
), decided AS (
    SELECT t.county_code, t.household_id, t.region_code,
           CASE WHEN a.household_id IS NOT NULL THEN COALESCE(p.n, 0) ELSE 0 END AS persons,
           CASE WHEN a.household_id IS NOT NULL THEN DATE '-infinity'
                WHEN s.off_system THEN DATE '-infinity'
                WHEN w.until IS NOT NULL THEN COALESCE(c.since, DATE '-infinity')
                ELSE DATE '-infinity' END AS off_from,
           CASE WHEN a.household_id IS NOT NULL THEN DATE '-infinity'
                WHEN s.off_system THEN DATE 'infinity'
                ELSE COALESCE(w.until, DATE '-infinity') END AS off_until,
           a.household_id IS NULL
               AND (v.household_id IS NOT NULL OR COALESCE(s.should_include, false))
               AS should_include
    FROM targets t
    LEFT JOIN at_risk a ON a.county_code = t.county_code AND a.household_id = t.household_id
    LEFT JOIN persons p ON p.county_code = t.county_code AND p.household_id = t.household_id
    LEFT JOIN warned w ON w.county_code = t.county_code AND w.household_id = t.household_id
    LEFT JOIN cased c ON c.county_code = t.county_code AND c.household_id = t.household_id
    LEFT JOIN visited v ON v.county_code = t.county_code AND v.household_id = t.household_id
    LEFT JOIN screened s ON s.county_code = t.county_code AND s.household_id = t.household_id
)
SELECT county_code, household_id, region_code, persons, off_from, off_until, should_include
FROM decided
WHERE persons > 0 OR off_from < off_until OR should_include
"""
_DECIDE_COUNTIES = text(_DECIDE.format(targets=_OF_COUNTIES))
_DECIDE_HOUSEHOLDS = text(_DECIDE.format(targets=_OF_HOUSEHOLDS) + " RETURNING region_code")

_FORGET_COUNTIES = text(
    "DELETE FROM red_flag_households WHERE county_code = ANY(CAST(:counties AS text[]))"
)
_FORGET_HOUSEHOLDS = text(
    """
DELETE FROM red_flag_households f
USING unnest(CAST(:counties AS text[]), CAST(:households AS text[])) AS k(county_code, household_id)
WHERE f.county_code = k.county_code AND f.household_id = k.household_id
RETURNING f.region_code
"""
)

_COUNT = """
INSERT INTO summary_red_flags (county_code, region_code, off_system_from, off_system_until,
    should_include, households, persons_at_risk)
SELECT county_code, region_code, off_system_from, off_system_until, should_include,
       count(*), sum(persons_at_risk)
FROM red_flag_households WHERE {where}
GROUP BY 1, 2, 3, 4, 5
"""
_IN_COUNTIES = "county_code = ANY(CAST(:counties AS text[]))"
_IN_VILLAGES = "region_code = ANY(CAST(:villages AS text[]))"
_RECOUNT_COUNTIES = (
    text(f"DELETE FROM summary_red_flags WHERE {_IN_COUNTIES}"),
    text(_COUNT.format(where=_IN_COUNTIES)),
    text(f"DELETE FROM summary_red_flag_villages WHERE {_IN_COUNTIES}"),
    text(
        f"""
INSERT INTO summary_red_flag_villages (county_code, region_code, households, poverty_alleviated)
SELECT county_code, region_code, count(*), count(*) FILTER (WHERE category = 'poverty_alleviated')
FROM households WHERE {_IN_COUNTIES}
GROUP BY 1, 2
"""
    ),
)
# A village's code starts with its county's: the villages alone pick the rows.
_RECOUNT_VILLAGES = (
    text(f"DELETE FROM summary_red_flags WHERE {_IN_VILLAGES}"),
    text(_COUNT.format(where=_IN_VILLAGES)),
)


def _policy_params() -> dict[str, object]:
    policy = get_policy()
    years = sorted(policy.years)
    bands = {b: upper for b, upper in INCOME_BAND_UPPER_YUAN.items() if upper is not None}
    return {
        "years": years,
        "lines": [policy.years[y].monitoring_line_yuan for y in years],
        "bands": list(bands),
        "band_uppers": list(bands.values()),
        "off_system_support": sorted(OFF_SYSTEM_SUPPORT),
    }


async def recount_counties(session: AsyncSession, *, counties: Iterable[str]) -> None:
    """Decide every household of `counties` again and recount their villages."""
    params = {"counties": sorted(set(counties))}
    if not params["counties"]:
        return
    await session.execute(_FORGET_COUNTIES, params)
    await session.execute(_DECIDE_COUNTIES, params | _policy_params())
    for statement in _RECOUNT_COUNTIES:
        await session.execute(statement, params)


async def refresh_households(session: AsyncSession, *, households: set[tuple[str, str]]) -> None:
    """Decide `households` ((county_code, household_id)) again and recount
    the villages they were and are counted in."""
    if not households:
        return
    keys = sorted(households)
    params = {"counties": [k[0] for k in keys], "households": [k[1] for k in keys]}
    before = (await session.scalars(_FORGET_HOUSEHOLDS, params)).all()
    after = (await session.scalars(_DECIDE_HOUSEHOLDS, params | _policy_params())).all()
    villages = {"villages": sorted({*before, *after})}
    if villages["villages"]:
        for statement in _RECOUNT_VILLAGES:
            await session.execute(statement, villages)


_HOUSEHOLDS_OF_CASES = text(
    """
SELECT c.county_code, c.household_id
FROM unnest(CAST(:counties AS text[]), CAST(:cases AS uuid[])) AS k(county_code, case_id)
JOIN cases c ON c.county_code = k.county_code AND c.case_id = k.case_id
"""
)


async def on_events(session: AsyncSession, events: list[EventRecord]) -> None:
    """Keep the summaries current after `events` (the reporting consumer's hook)."""
    counties: set[str] = set()
    households: set[tuple[str, str]] = set()
    visited_cases: list[tuple[str, str]] = []
    for event in events:
        p = event.payload
        if event.type in _COUNTY_EVENTS:
            counties.add(event.county_code)
        elif event.type in WARNING_EVENTS:
            if (
                p.get("household_id")
                and p.get("department") == "civil_affairs"
                and p.get("warning_type") in _OFF_SYSTEM_WARNINGS
            ):
                households.add((p["county_code"], p["household_id"]))
        elif event.type in _HOUSEHOLD_EVENTS and p.get("household_id"):
            households.add((event.county_code, p["household_id"]))
        elif event.type == CASE_STEP_COMPLETED and p.get("step") == "household_visit":
            visited_cases.append((event.county_code, p["case_id"]))
    if visited_cases:
        rows = await session.execute(
            _HOUSEHOLDS_OF_CASES,
            {"counties": [c for c, _ in visited_cases], "cases": [i for _, i in visited_cases]},
        )
        households.update((county, household) for county, household in rows.tuples())
    await recount_counties(session, counties=counties)
    await refresh_households(session, households={h for h in households if h[0] not in counties})
