"""Feeds (SPEC §3, feed cadence): which department pushed which periodic type
when, and which pushes are late (迟报/漏报).

Feeds are rolling: a feed is due `cadence_days` after its last push (a zero
report counts), `due_soon` when `due_soon_days` or fewer remain, `late` once
the due time has passed. A feed never pushed has no due time: it is
`never_pushed`, and the scan says nothing about it. Event types are not feeds;
their records are checked one by one (`late` on the warning) and counted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.warning_ingest.records import (
    DETAILS_MAX_BYTES,
    NAME_MAX,
    REQUIRED_FIELDS,
    SOURCE_RECORD_ID_MAX,
)
from shared.audit import NATIONAL
from shared.catalog import DEPARTMENTS, WARNING_TYPES, types_of
from shared.event_types import FEED_LATE
from shared.events import notify
from shared.feeds import FeedStateCode, feed_arrays, feed_states, periodic_feeds
from shared.policy import get_policy

LATE_RECORDS_WINDOW = timedelta(days=30)
SCAN_ACTOR = "system:feed-scan"


@dataclass(frozen=True, slots=True)
class FeedStatus:
    department: str
    department_label: str
    warning_type: str
    warning_type_label: str
    population: str
    cadence_days: int | None
    last_push_at: datetime | None
    next_due_at: datetime | None
    state: FeedStateCode
    late_records_30d: int


@dataclass(frozen=True, slots=True)
class LateRecordCount:
    department: str
    warning_type: str
    late_records_30d: int


@dataclass(frozen=True, slots=True)
class FeedReport:
    items: list[FeedStatus]
    late_records: list[LateRecordCount]


_LATE_RECORDS = text(
    "SELECT department, warning_type, count(*) AS n FROM warnings"
    " WHERE late AND received_at > :since"
    " AND (CAST(:department AS text) IS NULL OR department = CAST(:department AS text))"
    " GROUP BY department, warning_type"
)


async def feed_report(
    session: AsyncSession, *, now: datetime, department: str | None = None
) -> FeedReport:
    """Every periodic feed's state at `now` (of one department if given), with
    the late records of the last 30 days per department and event-dated type."""
    states = await feed_states(session, now=now, department=department)
    late = await _late_counts(session, since=now - LATE_RECORDS_WINDOW, department=department)
    per_department: dict[str, int] = {}
    for (dept, _), n in late.items():
        per_department[dept] = per_department.get(dept, 0) + n
    items = [
        FeedStatus(
            department=s.feed.department,
            department_label=DEPARTMENTS[s.feed.department],
            warning_type=s.feed.warning_type,
            warning_type_label=WARNING_TYPES[s.feed.warning_type].label,
            population=s.feed.population,
            cadence_days=s.feed.cadence_days,
            last_push_at=s.last_push_at,
            next_due_at=s.next_due_at,
            state=s.state,
            late_records_30d=per_department.get(s.feed.department, 0),
        )
        for s in states
    ]
    return FeedReport(items=items, late_records=_late_rows(late, department))


async def _late_counts(
    session: AsyncSession, *, since: datetime, department: str | None
) -> dict[tuple[str, str], int]:
    rows = await session.execute(_LATE_RECORDS, {"since": since, "department": department})
    return {(r.department, r.warning_type): int(r.n) for r in rows}


def _late_rows(late: dict[tuple[str, str], int], department: str | None) -> list[LateRecordCount]:
    """One row per event-dated type in catalog order, zeros included, so that a
    dashboard sees the same rows every time."""
    return [
        LateRecordCount(t.department, t.code, late.get((t.department, t.code), 0))
        for dept in DEPARTMENTS
        if department in (None, dept)
        for t in WARNING_TYPES.values()
        if t.department == dept and t.event_dated
    ]


# Set-based, in one statement: the feeds past due, a notice per missed due time
# (the primary key makes a second run a no-op), and an event per new notice.
# A feed is (department, warning_type, population): a per-population type's
# populations are due apart (shared/feeds.py).
# The due time is last push + cadence * 24 hours, as in feed_state: absolute
# hours, not calendar days, so the session's time zone cannot shift it.
_SCAN = text(
    "WITH feeds AS ("
    "  SELECT f.department, f.warning_type, f.population, p.last_push_at,"
    "         p.last_push_at + f.cadence_days * interval '24 hours' AS due_at"
    "  FROM unnest(CAST(:departments AS text[]), CAST(:types AS text[]),"
    "              CAST(:populations AS text[]), CAST(:cadences AS int[]))"
    "       AS f(department, warning_type, population, cadence_days)"
    "  CROSS JOIN LATERAL ("
    "    SELECT max(fp.pushed_at) AS last_push_at FROM feed_pushes fp"
    "    WHERE fp.department = f.department AND fp.warning_type = f.warning_type"
    "      AND fp.population = f.population"
    "  ) p"
    "), late AS (SELECT * FROM feeds WHERE due_at < :now),"
    " noticed AS ("
    "  INSERT INTO feed_late_notices (department, warning_type, population, due_at, noticed_at)"
    "  SELECT department, warning_type, population, due_at, :now FROM late"
    "  ON CONFLICT DO NOTHING RETURNING department, warning_type, population, due_at"
    "), emitted AS ("
    "  INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    "  SELECT :county, :type, 'feed', n.department || ':' || n.warning_type"
    "         || CASE WHEN n.population = 'all' THEN '' ELSE ':' || n.population END, :actor,"
    "         jsonb_build_object('department', n.department, 'warning_type', n.warning_type,"
    "                            'population', n.population,"
    "                            'due_at', n.due_at, 'last_push_at', l.last_push_at)"
    "  FROM noticed n JOIN late l USING (department, warning_type, population)"
    "  RETURNING 1"
    ")"
    " SELECT (SELECT count(*) FROM late) AS late_feeds, (SELECT count(*) FROM emitted) AS noticed"
)


async def scan_feeds(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
    """Emit `feed.late` once per missed due time of every periodic feed (never commits).

    Idempotent: a second run at the same or a later time finds the notices and
    emits nothing, until a new push sets a new due time and that one passes.
    Returns `{"late_feeds": feeds past due now, "noticed": events emitted}`.
    """
    feeds = [f for f in periodic_feeds() if f.cadence_days is not None]
    row = (
        await session.execute(
            _SCAN,
            {
                **feed_arrays(feeds),
                "now": now,
                "county": NATIONAL,  # feeds belong to no place
                "type": FEED_LATE,
                "actor": SCAN_ACTOR,
            },
        )
    ).one()
    if row.noticed:
        await notify(session)
    return {"late_feeds": int(row.late_feeds), "noticed": int(row.noticed)}


# ------------------------------------------------- the catalog, as pushed to


def required_fields(warning_type: str) -> list[str]:
    """The record fields a push of `warning_type` must carry (records.check_record)."""
    return [*REQUIRED_FIELDS, *WARNING_TYPES[warning_type].requires]


def _warning_type_entry(code: str) -> dict[str, Any]:
    kind = WARNING_TYPES[code]
    feeds = get_policy().feeds
    required = required_fields(code)
    cadence = feeds.cadence_days.get(code) if kind.kind == "periodic" else None
    by_population = feeds.population_cadence_days.get(code)
    if by_population is not None:
        # Each population is a feed due apart (shared/feeds.py): the one cadence
        # shown is the most demanding a department must meet, the shortest.
        cadence = min(by_population.values())
        by_population = dict(by_population)
    return {
        "code": code,
        "label": kind.label,
        "kind": kind.kind,
        "cadence_days": cadence,
        "cadence_days_by_population": by_population,
        "late_after_days": feeds.late_record_days if kind.event_dated else None,
        "required_fields": required,
        "optional_fields": [f for f in RECORD_FIELDS if f not in required],
    }


def catalog() -> dict[str, Any]:
    """Departments in catalog order, each with its warning types, and the record fields."""
    return {
        "departments": [
            {
                "code": dept,
                "label": label,
                "warning_types": [_warning_type_entry(t.code) for t in types_of(dept)],
            }
            for dept, label in DEPARTMENTS.items()
        ],
        "record_fields": RECORD_FIELD_SPECS,
    }


# What records.check_record enforces, written out for the departments' developers.
RECORD_FIELD_SPECS: list[dict[str, Any]] = [
    {
        "name": "source_record_id",
        "type": "string",
        "required": "always",
        "min_length": 1,
        "max_length": SOURCE_RECORD_ID_MAX,
        "description": "The department's id of the record, unique per department; "
        "pushing it again changes nothing (duplicate)",
    },
    {
        "name": "warning_type",
        "type": "string",
        "required": "always",
        "description": "A warning type code of this catalog, one of the pushing department's",
    },
    {
        "name": "id_number",
        "type": "string",
        "required": "always",
        "pattern": "^[0-9]{17}[0-9Xx]$",
        "description": "Resident ID number (GB 11643, valid check character); "
        "stored hashed and sealed, shown masked",
    },
    {
        "name": "name",
        "type": "string",
        "required": "always",
        "min_length": 1,
        "max_length": NAME_MAX,
        "description": "The person's name; a name unlike the registry's is accepted and flagged",
    },
    {
        "name": "region_code",
        "type": "string",
        "required": "never",
        "pattern": "^[0-9]{12}$",
        "description": "12-digit division code of where the person lives",
    },
    {
        "name": "event_date",
        "type": "date",
        "required": "event_types",
        "description": "YYYY-MM-DD, not after today; required for event types, "
        "optional on periodic ones",
    },
    {
        "name": "amount_yuan",
        "type": "number",
        "required": "high_medical_expense",
        "minimum": 0,
        "description": "Yuan, at most two decimals; for high_medical_expense the person's "
        "cumulative out-of-pocket medical expense of the year",
    },
    {
        "name": "details",
        "type": "object",
        "required": "never",
        "max_bytes": DETAILS_MAX_BYTES,
        "description": "Any further facts as a JSON object (a JSON string column in CSV)",
    },
]
RECORD_FIELDS = [spec["name"] for spec in RECORD_FIELD_SPECS]
