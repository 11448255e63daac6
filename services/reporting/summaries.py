"""The summary tables the figures add up (shared/models/reporting.py), and the
`reporting.summaries` consumer that keeps them current.

Each summary row counts rows of a figure table that share every attribute a
figure needs (figures.py holds the definitions of the figures themselves), at
a grain per region level: `village` rows under the row's own region, `town`,
`county`, `city` and `province` rows under the code of the region of that
level holding it; dated summaries per `day`, `month` and `year` (day = the
first day of the month or year; services/reporting/buckets.py reads them).
A change anywhere writes an event in its transaction; the consumer reads each
event once (never skipping a late commit), so a summary is exact once the consumer has caught up:

- warnings are counted from their events alone (a push of a million records
  must not be recounted batch after batch): each adds one where it is counted,
  and one that leaves the unmatched queue also takes one away where it was;
- cases, monitoring objects, measures and registered persons are recounted
  per county from the tables (a county's rows are few), so their events only
  say which county.

Data written without events (a bulk load by SQL) is counted by `refresh_all`.
The red flags keep their own summaries (red_flags/summary.py), hooked in here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.red_flags import summary as red_flags
from services.reporting.summary_sql import IN_COUNTIES, Summary, recount_sql
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
from shared.regions import LEVEL_DIGITS, pad

# The summary tables the recounts generate SQL for (summary_sql.py).
WARNINGS = Summary("summary_warnings", ("warning_type", "status", "late"), dated=True)
CASES = Summary("summary_cases", ("event", "days_to_decision", "within_deadline"), dated=True)
OPEN_CASES = Summary("summary_open_cases", ("deadline",), dated=False)
# The objects' summaries add up their households' members (`persons`) beside them.
OBJECTS = Summary(
    "summary_objects",
    ("monitoring_type", "status", "labour_capable", "developed"),
    dated=False,
    sums=("n", "persons"),
)
OBJECT_EVENTS = Summary(
    "summary_object_events", ("event", "monitoring_type"), dated=True, sums=("n", "persons")
)
OBJECT_RISKS = Summary("summary_object_risks", ("risk_type",), dated=False)
MEASURES = Summary("summary_measures", ("category", "status"), dated=False)
SUMMARY_TABLES = (WARNINGS, CASES, OPEN_CASES, OBJECTS, OBJECT_EVENTS, OBJECT_RISKS, MEASURES)

# -- warnings: counted from their events -------------------------------------

# Every warning event adds one at its county, village, day, type, status and
# late flag; settling an unmatched warning also takes one away where it was
# counted as unmatched. Applied to every (grain, bucket) row at once.
_ADD_WARNINGS = text(
    """
INSERT INTO summary_warnings (county_code, day, grain, bucket, region_code, warning_type,
    status, late, n)
SELECT * FROM unnest(CAST(:counties AS text[]), CAST(:days AS date[]),
    CAST(:grains AS text[]), CAST(:buckets AS text[]), CAST(:regions AS text[]),
    CAST(:types AS text[]), CAST(:statuses AS text[]), CAST(:lates AS boolean[]),
    CAST(:ns AS bigint[]))
ON CONFLICT (county_code, day, grain, bucket, region_code, warning_type, status, late)
DO UPDATE SET n = summary_warnings.n + EXCLUDED.n
"""
)
# A row that the deltas took down to zero goes, as a recount would not write it.
_DROP_EMPTY_WARNINGS = text(
    """
DELETE FROM summary_warnings s
USING unnest(CAST(:counties AS text[]), CAST(:days AS date[]), CAST(:grains AS text[]),
    CAST(:buckets AS text[]), CAST(:regions AS text[]), CAST(:types AS text[]),
    CAST(:statuses AS text[]), CAST(:lates AS boolean[]))
    AS k(county_code, day, grain, bucket, region_code, warning_type, status, late)
WHERE s.n = 0 AND s.county_code = k.county_code AND s.day = k.day AND s.grain = k.grain
  AND s.bucket = k.bucket AND s.region_code = k.region_code
  AND s.warning_type = k.warning_type AND s.status = k.status AND s.late = k.late
"""
)

_WarningKey = tuple[str, str, date, str, str, bool]  # county, region, day, type, status, late


def warning_deltas(events: Iterable[EventRecord]) -> dict[_WarningKey, int]:
    """What each warning event adds and takes away, per village and day."""
    deltas: defaultdict[_WarningKey, int] = defaultdict(int)
    for event in events:
        p = event.payload
        day = date.fromisoformat(p["received_on"])
        counted = (p["county_code"], p["region_code"], day, p["warning_type"])
        deltas[(*counted, p["status"], bool(p["late"]))] += 1
        previous = p.get("previous")
        if previous:
            before = (previous["county_code"], previous["region_code"], day, p["warning_type"])
            deltas[(*before, previous["status"], bool(p["late"]))] -= 1
    return {key: n for key, n in deltas.items() if n}


async def add_warning_deltas(session: AsyncSession, deltas: dict[_WarningKey, int]) -> None:
    """Apply `deltas` to every grain and bucket in one statement."""
    rows: defaultdict[tuple[object, ...], int] = defaultdict(int)
    for (county, region, day, warning_type, status, late), n in deltas.items():
        buckets = (
            ("day", day),
            ("month", day.replace(day=1)),
            ("year", day.replace(month=1, day=1)),
        )
        for grain, digits in LEVEL_DIGITS.items():
            place = pad(region[:digits])
            # Above the county, rows are keyed by the region's own code (see ABOVE_COUNTY).
            key = county if digits >= LEVEL_DIGITS["county"] else place[:6]
            for bucket, when in buckets:
                rows[(key, when, grain, bucket, place, warning_type, status, late)] += n
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    names = ("counties", "days", "grains", "buckets", "regions", "types", "statuses", "lates")
    params = {name: list(column) for name, column in zip(names, columns, strict=True)}
    await session.execute(_ADD_WARNINGS, params | {"ns": list(rows.values())})
    if any(n < 0 for n in rows.values()):
        await session.execute(_DROP_EMPTY_WARNINGS, params)


_COUNT_WARNINGS = f"""
INSERT INTO summary_warnings (county_code, grain, bucket, region_code, day, warning_type,
    status, late, n)
SELECT county_code, 'village', 'day', region_code, received_on, warning_type, status, late,
       count(*)
FROM warnings WHERE {IN_COUNTIES}
GROUP BY county_code, region_code, received_on, warning_type, status, late
"""

_RECOUNT_WARNINGS = tuple(text(sql) for sql in recount_sql(WARNINGS, _COUNT_WARNINGS))


# -- cases, monitoring objects, measures: per county --------------------------

_COUNT_CASES = f"""
INSERT INTO summary_cases (county_code, grain, bucket, region_code, day, event,
    days_to_decision, within_deadline, n)
SELECT county_code, 'village', 'day', region_code, opened_on, 'opened', 0, false, count(*)
FROM cases WHERE {IN_COUNTIES}
GROUP BY county_code, region_code, opened_on
UNION ALL
SELECT county_code, 'village', 'day', region_code, decided_on, 'decided',
       decided_on - opened_on, decided_on <= deadline, count(*)
FROM cases WHERE {IN_COUNTIES} AND decided_on IS NOT NULL
GROUP BY county_code, region_code, decided_on, decided_on - opened_on, decided_on <= deadline
"""

# Undecided as the identification lists name it: still open, no decision date.
_COUNT_OPEN_CASES = f"""
INSERT INTO summary_open_cases (county_code, grain, region_code, deadline, n)
SELECT county_code, 'village', region_code, deadline, count(*)
FROM cases WHERE {IN_COUNTIES} AND state = 'open' AND decided_on IS NULL
GROUP BY county_code, region_code, deadline
"""

# The members of object x's household today (its `hp.persons`).
_HOUSEHOLD_PERSONS = """CROSS JOIN LATERAL (SELECT count(*) AS persons FROM members p
                    WHERE p.county_code = x.county_code AND p.household_id = x.household_id) hp"""

# Labour-capable: at risk, not flagged as a household without labour, with a
# member able to work at least partly; developed: a development measure that
# is not cancelled (the measures' definitions in figures.py).
_COUNT_OBJECTS = f"""
INSERT INTO summary_objects (county_code, grain, region_code, monitoring_type, status,
    labour_capable, developed, n, persons)
SELECT x.county_code, 'village', x.region_code, x.monitoring_type, x.status,
       CASE WHEN x.status = 'risk_not_eliminated' AND NOT x.whole_household_no_labour
            THEN EXISTS (SELECT 1 FROM members p
                         WHERE p.county_code = x.county_code AND p.household_id = x.household_id
                           AND p.labour_capacity <> 'none')
            ELSE false END,
       EXISTS (SELECT 1 FROM measures m
               WHERE m.county_code = x.county_code AND m.object_id = x.object_id
                 AND m.development AND m.status <> 'cancelled'),
       count(*), sum(hp.persons)
FROM monitoring_objects x {_HOUSEHOLD_PERSONS}
WHERE x.{IN_COUNTIES}
GROUP BY 1, 3, 4, 5, 6, 7
"""

_COUNT_OBJECT_EVENTS = f"""
INSERT INTO summary_object_events (county_code, grain, bucket, region_code, day, event,
    monitoring_type, n, persons)
SELECT x.county_code, 'village', 'day', x.region_code, e.day, e.event, x.monitoring_type,
       count(*), sum(hp.persons)
FROM monitoring_objects x {_HOUSEHOLD_PERSONS}
CROSS JOIN LATERAL (VALUES
    ('included', x.included_on),
    ('included_epidemic', CASE WHEN 'epidemic' = ANY(x.risk_types) THEN x.included_on END),
    ('eliminated_naturally', CASE WHEN x.eliminated_naturally THEN x.eliminated_on END),
    ('rolled_back', x.rolled_back_on),
    ('removed', x.removed_on)) AS e(event, day)
WHERE x.{IN_COUNTIES} AND e.day IS NOT NULL
GROUP BY 1, 4, 5, 6, 7
UNION ALL
SELECT x.county_code, 'village', 'day', x.region_code, a.assessed_on, 'look_back',
       x.monitoring_type, count(*), 0  -- look-backs are counted, not their persons
FROM assessments a
JOIN monitoring_objects x ON x.county_code = a.county_code AND x.object_id = a.object_id
WHERE a.{IN_COUNTIES} AND a.kind = 'look_back'
GROUP BY 1, 4, 5, 7
"""

# Objects at risk per risk type (each of an object's types once).
_COUNT_OBJECT_RISKS = f"""
INSERT INTO summary_object_risks (county_code, grain, region_code, risk_type, n)
SELECT x.county_code, 'village', x.region_code, r.risk_type, count(*)
FROM monitoring_objects x
CROSS JOIN LATERAL (SELECT DISTINCT unnest(x.risk_types)) AS r(risk_type)
WHERE x.{IN_COUNTIES} AND x.status = 'risk_not_eliminated'
GROUP BY 1, 3, 4
"""

_COUNT_MEASURES = f"""
INSERT INTO summary_measures (county_code, grain, region_code, category, status, n)
SELECT county_code, 'village', region_code, category, status, count(*)
FROM measures WHERE {IN_COUNTIES}
GROUP BY 1, 3, 4, 5
"""


# Persons per village, for the red flags (a county's members are many, its
# villages few).
_COUNT_PERSONS = f"""
INSERT INTO summary_persons (county_code, region_code, n)
SELECT h.county_code, h.region_code, count(*)
FROM households h
JOIN members m ON m.county_code = h.county_code AND m.household_id = h.household_id
WHERE h.{IN_COUNTIES}
GROUP BY 1, 2
"""


# Each family's statements recount it for the counties in `:counties`.
_FAMILIES: dict[str, tuple[TextClause, ...]] = {
    family: tuple(text(sql) for sql in statements)
    for family, statements in {
        "cases": (
            *recount_sql(CASES, _COUNT_CASES),
            *recount_sql(OPEN_CASES, _COUNT_OPEN_CASES),
        ),
        "objects": (
            *recount_sql(OBJECTS, _COUNT_OBJECTS),
            *recount_sql(OBJECT_EVENTS, _COUNT_OBJECT_EVENTS),
            *recount_sql(OBJECT_RISKS, _COUNT_OBJECT_RISKS),
        ),
        "measures": recount_sql(MEASURES, _COUNT_MEASURES),
        "persons": (f"DELETE FROM summary_persons WHERE {IN_COUNTIES}", _COUNT_PERSONS),
    }.items()
}


def recount_statements() -> dict[str, tuple[TextClause, ...]]:
    """Every recount statement, by family, warnings first (as `refresh_all`
    runs them); each binds only `:counties`."""
    return {"warnings": _RECOUNT_WARNINGS, **_FAMILIES}


# What each event can change. Measures change the objects' `developed`; a
# registry load changes members (their labour capacity, their number).
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
    HOUSEHOLDS_LOADED: ("objects", "persons"),
    **dict.fromkeys(_MEASURE_EVENTS, ("objects", "measures")),
}


async def recount(session: AsyncSession, *, families: dict[str, set[str]]) -> None:
    """Recount each family (`cases`, `objects`, `measures`, `persons`) for its counties from
    the tables. Set-based: a few statements per family, whatever the counties."""
    for family, counties in families.items():
        if counties:
            for statement in _FAMILIES[family]:
                await session.execute(statement, {"counties": sorted(counties)})


# Every county with rows to count, or with summary rows that may be stale.
_ALL_COUNTIES = text(
    """
SELECT county_code FROM households UNION SELECT county_code FROM warnings
UNION SELECT county_code FROM cases UNION SELECT county_code FROM monitoring_objects
UNION SELECT county_code FROM summary_warnings WHERE grain = 'village'
UNION SELECT county_code FROM summary_cases WHERE grain = 'village'
UNION SELECT county_code FROM summary_objects WHERE grain = 'village'
"""
)


async def refresh_all(session: AsyncSession) -> None:
    """Recount every summary of every county from the tables: after rows were
    written without events (a bulk load by SQL). Warnings are otherwise counted
    from their events, so run it while the consumer is stopped, or it may count
    a warning twice; the other families are recounted and are always safe."""
    counties = set(await session.scalars(_ALL_COUNTIES))
    if not counties:
        return
    for statement in _RECOUNT_WARNINGS:
        await session.execute(statement, {"counties": sorted(counties)})
    await recount(session, families={family: set(counties) for family in _FAMILIES})
    await red_flags.recount_counties(session, counties=counties)


async def _on_events(session: AsyncSession, events: list[EventRecord]) -> None:
    families: defaultdict[str, set[str]] = defaultdict(set)
    for event in events:
        for family in _FAMILIES_OF.get(event.type, ()):
            families[family].add(event.county_code)
    await add_warning_deltas(session, warning_deltas(e for e in events if e.type in WARNING_EVENTS))
    await recount(session, families=families)
    await red_flags.on_events(session, events)


SUMMARIES = EventConsumer(
    "reporting.summaries",
    _on_events,
    types=frozenset(WARNING_EVENTS | set(_FAMILIES_OF) | red_flags.RED_FLAG_EVENTS),
    batch_size=20_000,
)
