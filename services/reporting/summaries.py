"""The summary tables the figures add up (shared/models/reporting.py), and the
`reporting.summaries` consumer that keeps them current.

Each summary row counts rows of a figure table that share every attribute a
figure needs (figures.py holds the definitions of the figures themselves). A
change anywhere writes an event in its transaction; the consumer reads the
events (never skipping a late commit) and recounts what they touch from the
tables themselves, so a summary is exact once the consumer has caught up,
however the events interleave:

- warnings, per (county, day received): the warning events carry both;
- cases, monitoring objects and measures, per county (a county's rows are few).

Data written without events (a bulk load by SQL, a restore) is counted by
`refresh_counties`, which the `summary-refresh` job runs nightly for every
county as a safety net.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.event_types import (
    ASSESSMENT_RECORDED,
    CASE_DECIDED,
    CASE_OPENED,
    HOUSEHOLDS_LOADED,
    MEASURE_CANCELLED,
    MEASURE_COMPLETED,
    MEASURE_PLANNED,
    MEASURE_STARTED,
    MONITORING_OBJECT_FLAGS_CHANGED,
    MONITORING_OBJECT_INCLUDED,
    MONITORING_OBJECT_REMOVED,
    MONITORING_OBJECT_RISK_UPDATED,
    RISK_ELIMINATED,
    RISK_ROLLED_BACK,
    WARNING_EVENTS,
)
from shared.events import EventConsumer, EventRecord

# County-grain rows of dated summaries, per day and per month, from the village
# grain rows of the same counties (`{table}`, `{dims}`: the dated table and its
# attribute columns; `{where}` picks the village rows to add up).
_ROLL_UP_DATED = """
INSERT INTO {table} (county_code, grain, bucket, region_code, day, {dims}, n)
SELECT s.county_code, 'county', b.bucket, left(s.region_code, 6) || '000000',
       CASE b.bucket WHEN 'day' THEN s.day ELSE CAST(date_trunc('month', s.day) AS date) END,
       {dims_s}, sum(s.n)
FROM {table} s CROSS JOIN (VALUES ('day'), ('month')) AS b(bucket)
WHERE s.grain = 'village' AND {where}
GROUP BY 1, 3, 4, 5, {dims_s}
"""

_ROLL_UP_STOCK = """
INSERT INTO {table} (county_code, grain, region_code, {dims}, n)
SELECT s.county_code, 'county', left(s.region_code, 6) || '000000', {dims_s}, sum(s.n)
FROM {table} s
WHERE s.grain = 'village' AND s.county_code = ANY(CAST(:counties AS text[]))
GROUP BY 1, 3, {dims_s}
"""


def _dims(columns: str) -> dict[str, str]:
    names = [c.strip() for c in columns.split(",")]
    return {"dims": ", ".join(names), "dims_s": ", ".join(f"s.{c}" for c in names)}


_WARNING_DIMS = _dims("warning_type, status, late")
_CASE_DIMS = _dims("event, days_to_decision, within_deadline")
_OBJECT_EVENT_DIMS = _dims("event, monitoring_type")

# -- warnings, per (county, day) ---------------------------------------------

# The (county, day) pairs to recount, and the months they lie in.
_DIRTY_DAYS = """
CREATE TEMPORARY TABLE IF NOT EXISTS summary_dirty_days (
    county_code text COLLATE "C", day date) ON COMMIT DELETE ROWS
"""
_FILL_DIRTY_DAYS = """
INSERT INTO summary_dirty_days
SELECT DISTINCT county_code, day
FROM unnest(CAST(:counties AS text[]), CAST(:days AS date[])) AS d(county_code, day)
"""
_FILL_ALL_DAYS = """
INSERT INTO summary_dirty_days
SELECT DISTINCT county_code, received_on FROM warnings
WHERE county_code = ANY(CAST(:counties AS text[]))
UNION
SELECT county_code, day FROM summary_warnings
WHERE county_code = ANY(CAST(:counties AS text[])) AND grain = 'village'
"""
_DELETE_WARNING_DAYS = """
DELETE FROM summary_warnings s USING summary_dirty_days d
WHERE s.county_code = d.county_code AND s.bucket = 'day' AND s.day = d.day
"""
_DELETE_WARNING_MONTHS = """
DELETE FROM summary_warnings s
USING (SELECT DISTINCT county_code, CAST(date_trunc('month', day) AS date) AS month
       FROM summary_dirty_days) d
WHERE s.county_code = d.county_code AND s.bucket = 'month' AND s.day = d.month
"""
# A county's warnings lie under its code (their region is the household's, the
# record's, or the county itself), so the region index finds them; the
# `received_at` window lets the index skip other days without reading rows.
_COUNT_WARNING_DAYS = """
INSERT INTO summary_warnings (county_code, grain, bucket, region_code, day, warning_type,
    status, late, n)
SELECT d.county_code, 'village', 'day', w.region_code, d.day, w.warning_type, w.status,
       w.late, count(*)
FROM summary_dirty_days d
JOIN LATERAL (
    SELECT region_code, warning_type, status, late FROM warnings w
    WHERE w.region_code >= d.county_code AND w.region_code < d.county_code || ';'
      AND w.received_at >= d.day - 1 AND w.received_at < d.day + 2
      AND w.received_on = d.day AND w.county_code = d.county_code
) w ON true
GROUP BY d.county_code, w.region_code, d.day, w.warning_type, w.status, w.late
"""
_ROLL_UP_WARNING_DAYS = _ROLL_UP_DATED.format(
    table="summary_warnings",
    where="(s.county_code, s.day) IN (SELECT county_code, day FROM summary_dirty_days)",
    **_WARNING_DIMS,
).replace("CROSS JOIN (VALUES ('day'), ('month'))", "CROSS JOIN (VALUES ('day'))")
_ROLL_UP_WARNING_MONTHS = """
INSERT INTO summary_warnings (county_code, grain, bucket, region_code, day, warning_type,
    status, late, n)
SELECT s.county_code, 'county', 'month', s.region_code, CAST(date_trunc('month', s.day) AS date),
       s.warning_type, s.status, s.late, sum(s.n)
FROM summary_warnings s
JOIN (SELECT DISTINCT county_code, CAST(date_trunc('month', day) AS date) AS month
      FROM summary_dirty_days) d
  ON s.county_code = d.county_code AND s.day >= d.month
     AND s.day < CAST(d.month + interval '1 month' AS date)
WHERE s.grain = 'county' AND s.bucket = 'day'
GROUP BY 1, 4, 5, 6, 7, 8
"""


async def _refresh_warning_days(session: AsyncSession) -> None:
    """Recount the warnings of the pairs in `summary_dirty_days`."""
    for statement in (
        _DELETE_WARNING_DAYS,
        _DELETE_WARNING_MONTHS,
        _COUNT_WARNING_DAYS,
        _ROLL_UP_WARNING_DAYS,
        _ROLL_UP_WARNING_MONTHS,
    ):
        await session.execute(text(statement))


# -- cases, monitoring objects, measures: per county --------------------------

_IN_COUNTIES = "county_code = ANY(CAST(:counties AS text[]))"

_COUNT_CASES = f"""
INSERT INTO summary_cases (county_code, grain, bucket, region_code, day, event,
    days_to_decision, within_deadline, n)
SELECT county_code, 'village', 'day', region_code, opened_on, 'opened', 0, false, count(*)
FROM cases WHERE {_IN_COUNTIES}
GROUP BY county_code, region_code, opened_on
UNION ALL
SELECT county_code, 'village', 'day', region_code, decided_on, 'decided',
       decided_on - opened_on, decided_on <= deadline, count(*)
FROM cases WHERE {_IN_COUNTIES} AND decided_on IS NOT NULL
GROUP BY county_code, region_code, decided_on, decided_on - opened_on, decided_on <= deadline
"""

# Undecided as the identification lists name it: still open, no decision date.
_COUNT_OPEN_CASES = f"""
INSERT INTO summary_open_cases (county_code, grain, region_code, deadline, n)
SELECT county_code, 'village', region_code, deadline, count(*)
FROM cases WHERE {_IN_COUNTIES} AND state = 'open' AND decided_on IS NULL
GROUP BY county_code, region_code, deadline
"""

# Labour-capable: at risk, not flagged as a household without labour, with a
# member able to work at least partly; developed: a development measure that
# is not cancelled (the measures' definitions in figures.py).
_COUNT_OBJECTS = f"""
INSERT INTO summary_objects (county_code, grain, region_code, monitoring_type, status,
    labour_capable, developed, n)
SELECT x.county_code, 'village', x.region_code, x.monitoring_type, x.status,
       CASE WHEN x.status = 'risk_not_eliminated' AND NOT x.whole_household_no_labour
            THEN EXISTS (SELECT 1 FROM members p
                         WHERE p.county_code = x.county_code AND p.household_id = x.household_id
                           AND p.labour_capacity <> 'none')
            ELSE false END,
       EXISTS (SELECT 1 FROM measures m
               WHERE m.county_code = x.county_code AND m.object_id = x.object_id
                 AND m.development AND m.status <> 'cancelled'),
       count(*)
FROM monitoring_objects x WHERE x.{_IN_COUNTIES}
GROUP BY 1, 3, 4, 5, 6, 7
"""

_COUNT_OBJECT_EVENTS = f"""
INSERT INTO summary_object_events (county_code, grain, bucket, region_code, day, event,
    monitoring_type, n)
SELECT x.county_code, 'village', 'day', x.region_code, e.day, e.event, x.monitoring_type,
       count(*)
FROM monitoring_objects x
CROSS JOIN LATERAL (VALUES
    ('included', x.included_on),
    ('included_epidemic', CASE WHEN 'epidemic' = ANY(x.risk_types) THEN x.included_on END),
    ('rolled_back', x.rolled_back_on),
    ('removed', x.removed_on)) AS e(event, day)
WHERE x.{_IN_COUNTIES} AND e.day IS NOT NULL
GROUP BY 1, 4, 5, 6, 7
UNION ALL
SELECT x.county_code, 'village', 'day', x.region_code, a.assessed_on, 'look_back',
       x.monitoring_type, count(*)
FROM assessments a
JOIN monitoring_objects x ON x.county_code = a.county_code AND x.object_id = a.object_id
WHERE a.{_IN_COUNTIES} AND a.kind = 'look_back'
GROUP BY 1, 4, 5, 7
"""

_COUNT_MEASURES = f"""
INSERT INTO summary_measures (county_code, grain, region_code, category, status, n)
SELECT county_code, 'village', region_code, category, status, count(*)
FROM measures WHERE {_IN_COUNTIES}
GROUP BY 1, 3, 4, 5
"""


def _recount(
    tables: Iterable[str], counts: Iterable[str], roll_ups: Iterable[str]
) -> tuple[str, ...]:
    deletes = [f"DELETE FROM {table} WHERE {_IN_COUNTIES}" for table in tables]
    return (*deletes, *counts, *roll_ups)


_FAMILIES: dict[str, tuple[str, ...]] = {
    "cases": _recount(
        ("summary_cases", "summary_open_cases"),
        (_COUNT_CASES, _COUNT_OPEN_CASES),
        (
            _ROLL_UP_DATED.format(
                table="summary_cases",
                where=_IN_COUNTIES.replace("county_code", "s.county_code", 1),
                **_CASE_DIMS,
            ),
            _ROLL_UP_STOCK.format(table="summary_open_cases", **_dims("deadline")),
        ),
    ),
    "objects": _recount(
        ("summary_objects", "summary_object_events"),
        (_COUNT_OBJECTS, _COUNT_OBJECT_EVENTS),
        (
            _ROLL_UP_STOCK.format(
                table="summary_objects",
                **_dims("monitoring_type, status, labour_capable, developed"),
            ),
            _ROLL_UP_DATED.format(
                table="summary_object_events",
                where=_IN_COUNTIES.replace("county_code", "s.county_code", 1),
                **_OBJECT_EVENT_DIMS,
            ),
        ),
    ),
    "measures": _recount(
        ("summary_measures",),
        (_COUNT_MEASURES,),
        (_ROLL_UP_STOCK.format(table="summary_measures", **_dims("category, status")),),
    ),
}

# What each event can change. Measures change the objects' `developed`; a
# registry load changes members' labour capacity.
_MEASURE_EVENTS = {MEASURE_PLANNED, MEASURE_STARTED, MEASURE_COMPLETED, MEASURE_CANCELLED}
_FAMILIES_OF: dict[str, tuple[str, ...]] = {
    CASE_OPENED: ("cases",),
    CASE_DECIDED: ("cases",),
    MONITORING_OBJECT_INCLUDED: ("objects",),
    MONITORING_OBJECT_RISK_UPDATED: ("objects",),
    MONITORING_OBJECT_REMOVED: ("objects",),
    MONITORING_OBJECT_FLAGS_CHANGED: ("objects",),
    RISK_ELIMINATED: ("objects",),
    RISK_ROLLED_BACK: ("objects",),
    ASSESSMENT_RECORDED: ("objects",),
    HOUSEHOLDS_LOADED: ("objects",),
    **dict.fromkeys(_MEASURE_EVENTS, ("objects", "measures")),
}


async def refresh(
    session: AsyncSession,
    *,
    warning_days: Iterable[tuple[str, date]] = (),
    counties: dict[str, set[str]] | None = None,
) -> None:
    """Recount the warnings of the (county, day) pairs `warning_days`, and each
    family of `counties` (family -> county codes). Set-based: a few statements
    per family, whatever the number of counties."""
    pairs = sorted(set(warning_days))
    if pairs:
        await session.execute(text(_DIRTY_DAYS))
        await session.execute(
            text(_FILL_DIRTY_DAYS),
            {"counties": [c for c, _ in pairs], "days": [d for _, d in pairs]},
        )
        await _refresh_warning_days(session)
        await session.execute(text("DELETE FROM summary_dirty_days"))
    for family, codes in (counties or {}).items():
        if codes:
            for statement in _FAMILIES[family]:
                await session.execute(text(statement), {"counties": sorted(codes)})


async def refresh_counties(session: AsyncSession, *, counties: Iterable[str]) -> None:
    """Recount every summary of `counties` from the tables."""
    codes = sorted(set(counties))
    if not codes:
        return
    await session.execute(text(_DIRTY_DAYS))
    await session.execute(text(_FILL_ALL_DAYS), {"counties": codes})
    await _refresh_warning_days(session)
    await session.execute(text("DELETE FROM summary_dirty_days"))
    await refresh(session, counties={family: set(codes) for family in _FAMILIES})


_ALL_COUNTIES = """
SELECT county_code FROM households UNION SELECT county_code FROM warnings
UNION SELECT county_code FROM cases UNION SELECT county_code FROM monitoring_objects
UNION SELECT county_code FROM summary_warnings UNION SELECT county_code FROM summary_cases
UNION SELECT county_code FROM summary_objects
"""


async def refresh_all(session: AsyncSession, *, now: datetime | None = None) -> None:
    """Recount every county (the nightly `summary-refresh` job; after a bulk load)."""
    await refresh_counties(session, counties=await session.scalars(text(_ALL_COUNTIES)))


async def _on_events(session: AsyncSession, events: list[EventRecord]) -> None:
    warning_days: set[tuple[str, date]] = set()
    counties: defaultdict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.type in WARNING_EVENTS:
            warning_days.add((event.county_code, date.fromisoformat(event.payload["received_on"])))
        for family in _FAMILIES_OF.get(event.type, ()):
            counties[family].add(event.county_code)
    await refresh(session, warning_days=warning_days, counties=counties)


SUMMARIES = EventConsumer(
    "reporting.summaries",
    _on_events,
    types=frozenset(WARNING_EVENTS | set(_FAMILIES_OF)),
    batch_size=20_000,
)
