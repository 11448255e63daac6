"""Every reporting figure (统计, SPEC §6), each defined once, in SQL.

A statement per figure group (warnings, cases, monitoring objects, measures)
reads the rows whose `region_code` lies inside a region and groups them by the
first `digits` of that code: the region's own prefix length gives one group
(the overview), a longer one a group per child region (`/regions`). The same
SQL thus answers both, and a town's overview equals its row under its county.

Definitions (the period is `date_from`..`date_to`, both included):

- warnings, by `received_on` in the period: `received` (every status),
  `matched`, `unmatched`, `below_threshold`, `dismissed` (by status, so they
  add up to `received`), `late` (the record-timeliness flag); `by_department`
  and `by_type` count received warnings.
- cases: `opened` (opened_on in the period), `decided` (decided_on in the
  period), `decided_within_15_days` (of those, decided_on <= deadline),
  `within_15_days_rate` (their share of `decided`; null when none was
  decided), `median_days_to_decision` (decided_on - opened_on over the cases
  decided in the period; null when none). Stock, as of today: `open`
  (undecided), `overdue` (undecided, deadline before today), `due_soon`
  (undecided, deadline today or within the policy's due-soon days).
- monitoring objects: stock `by_type` (objects not removed) and `by_status`
  (every object); in the period: `newly_included` by type (included_on, any
  status now) and `epidemic` (those with the `epidemic` risk type),
  `look_backs` (look-back assessments of the region's objects), `rollbacks`
  (rolled_back_on; only an object's latest rollback is kept), `removals`.
- measures (stock): `by_category` (not cancelled), `by_status` (all);
  `development_coverage_rate`: of the objects at risk (risk_not_eliminated,
  not flagged whole_household_no_labour) with a member whose labour capacity
  is not `none` (`labour_capable_objects`), the share with a development
  measure that is not cancelled (`labour_capable_with_development`); null when
  there is no such object. The assistance gap `no_development_measure` is the
  complement. It is computed by the objects' statement, which reads them.
- feeds (no place; as of now): the periodic feeds of the catalog by state, as
  the ingest service computes them (a rolling due time of last push + cadence).

Rates are fractions from 0 to 1, rounded to four decimals. Figures recorded
at a region above the grouping level (an unmatched warning filed at the
county itself) count for the region and for none of its children.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.catalog import (
    DEPARTMENTS,
    MEASURE_CATEGORIES,
    MEASURE_STATUSES,
    MONITORING_TYPES,
    OBJECT_STATUSES,
    WARNING_TYPES,
)
from shared.feeds import FEED_STATES, feed_states
from shared.policy import get_policy
from shared.regions import scope_like_pattern

_WARNING_COUNTS = ("received", "matched", "unmatched", "below_threshold", "dismissed", "late")


@dataclass(frozen=True, slots=True)
class Period:
    """`date_from`..`date_to`, both days included."""

    date_from: date
    date_to: date

    @classmethod
    def year_to_date(cls, today: date) -> Period:
        """The default period: the current calendar year up to today."""
        return cls(date(today.year, 1, 1), today)


@dataclass(frozen=True, slots=True)
class Grouping:
    """The rows inside `region_code`, grouped by the first `digits` of their region code."""

    region_code: str
    digits: int

    def params(self) -> dict[str, Any]:
        return {"scope": scope_like_pattern(self.region_code), "digits": self.digits}


def _rate(part: str, whole: str) -> str:
    """SQL for part / whole as a fraction rounded to 4 places; null when whole is 0."""
    return f"CAST(round(CAST({part} AS numeric) / NULLIF({whole}, 0), 4) AS float8)"


_PERIOD = "BETWEEN CAST(:date_from AS date) AND CAST(:date_to AS date)"

# One row per group, per (group, department) and per (group, type).
_WARNINGS = f"""
SELECT w.g, w.department, w.warning_type,
       GROUPING(w.department) = 0 AS per_department, GROUPING(w.warning_type) = 0 AS per_type,
       count(*) AS received,
       count(*) FILTER (WHERE w.status = 'matched') AS matched,
       count(*) FILTER (WHERE w.status = 'unmatched') AS unmatched,
       count(*) FILTER (WHERE w.status = 'below_threshold') AS below_threshold,
       count(*) FILTER (WHERE w.status = 'dismissed') AS dismissed,
       count(*) FILTER (WHERE w.late) AS late
FROM (
    SELECT left(region_code, CAST(:digits AS integer)) AS g, department, warning_type,
           status, late
    FROM warnings
    WHERE region_code LIKE CAST(:scope AS text) AND received_on {_PERIOD}
) w
GROUP BY GROUPING SETS ((w.g), (w.g, w.department), (w.g, w.warning_type))
"""

# A decision sets `decided_on` and `state = 'decided'` together; undecided
# names both, as the identification service's lists do.
_CASES = f"""
SELECT c.g, c.opened, c.decided, c.decided_within_15_days,
       {_rate("c.decided_within_15_days", "c.decided")} AS within_15_days_rate,
       c.open, c.overdue, c.due_soon, c.median_days_to_decision
FROM (
    SELECT x.g,
           count(*) FILTER (WHERE x.opened_on {_PERIOD}) AS opened,
           count(*) FILTER (WHERE x.decided_in_period) AS decided,
           count(*) FILTER (WHERE x.decided_in_period AND x.decided_on <= x.deadline)
               AS decided_within_15_days,
           count(*) FILTER (WHERE x.undecided) AS open,
           count(*) FILTER (WHERE x.undecided AND x.deadline < CAST(:today AS date)) AS overdue,
           count(*) FILTER (WHERE x.undecided AND x.deadline
                            BETWEEN CAST(:today AS date) AND CAST(:due_soon_until AS date))
               AS due_soon,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY x.decided_on - x.opened_on)
               FILTER (WHERE x.decided_in_period) AS median_days_to_decision
    FROM (
        SELECT left(region_code, CAST(:digits AS integer)) AS g, opened_on, deadline,
               decided_on, COALESCE(decided_on {_PERIOD}, false) AS decided_in_period,
               state = 'open' AND decided_on IS NULL AS undecided
        FROM cases
        WHERE region_code LIKE CAST(:scope AS text)
    ) x
    GROUP BY x.g
) c
"""

# One row per group, per (group, type) and per (group, status); each object's
# look-backs and labour/development flags are read once, by index.
_OBJECTS = f"""
SELECT o.g, o.monitoring_type, o.status,
       GROUPING(o.monitoring_type) = 0 AS per_type, GROUPING(o.status) = 0 AS per_status,
       count(*) AS objects,
       count(*) FILTER (WHERE o.status <> 'removed') AS current,
       count(*) FILTER (WHERE o.included_on {_PERIOD}) AS newly_included,
       count(*) FILTER (WHERE o.included_on {_PERIOD} AND 'epidemic' = ANY(o.risk_types))
           AS epidemic,
       count(*) FILTER (WHERE o.rolled_back_on {_PERIOD}) AS rollbacks,
       count(*) FILTER (WHERE o.removed_on {_PERIOD}) AS removals,
       COALESCE(sum(o.look_backs), 0) AS look_backs,
       count(*) FILTER (WHERE o.labour_capable) AS labour_capable_objects,
       count(*) FILTER (WHERE o.labour_capable AND o.developed)
           AS labour_capable_with_development,
       {
    _rate(
        "count(*) FILTER (WHERE o.labour_capable AND o.developed)",
        "count(*) FILTER (WHERE o.labour_capable)",
    )
} AS development_coverage_rate
FROM (
    SELECT left(x.region_code, CAST(:digits AS integer)) AS g, x.monitoring_type, x.status,
           x.risk_types, x.included_on, x.rolled_back_on, x.removed_on,
           (SELECT count(*) FROM assessments a
            WHERE a.county_code = x.county_code AND a.object_id = x.object_id
              AND a.kind = 'look_back' AND a.assessed_on {_PERIOD}) AS look_backs,
           CASE WHEN x.status = 'risk_not_eliminated' AND NOT x.whole_household_no_labour
                THEN EXISTS (SELECT 1 FROM members p
                             WHERE p.county_code = x.county_code
                               AND p.household_id = x.household_id
                               AND p.labour_capacity <> 'none')
                ELSE false END AS labour_capable,
           EXISTS (SELECT 1 FROM measures m
                   WHERE m.county_code = x.county_code AND m.object_id = x.object_id
                     AND m.development AND m.status <> 'cancelled') AS developed
    FROM monitoring_objects x
    WHERE x.region_code LIKE CAST(:scope AS text)
) o
GROUP BY GROUPING SETS ((o.g), (o.g, o.monitoring_type), (o.g, o.status))
"""

_MEASURES = """
SELECT m.g, m.category, m.status, GROUPING(m.category) = 0 AS per_category,
       count(*) FILTER (WHERE m.status <> 'cancelled') AS active, count(*) AS measures
FROM (
    SELECT left(region_code, CAST(:digits AS integer)) AS g, category, status
    FROM measures
    WHERE region_code LIKE CAST(:scope AS text)
) m
GROUP BY GROUPING SETS ((m.g, m.category), (m.g, m.status))
"""


def _zeros(codes: Any) -> dict[str, int]:
    return dict.fromkeys(codes, 0)


def empty_figures() -> dict[str, Any]:
    """A region's figures when it has no rows: every count 0, every catalog code listed."""
    return {
        "warnings": {
            "received": 0,
            "matched": 0,
            "unmatched": 0,
            "below_threshold": 0,
            "dismissed": 0,
            "late": 0,
            "by_department": _zeros(DEPARTMENTS),
            "by_type": _zeros(WARNING_TYPES),
        },
        "cases": {
            "opened": 0,
            "decided": 0,
            "decided_within_15_days": 0,
            "within_15_days_rate": None,
            "open": 0,
            "overdue": 0,
            "due_soon": 0,
            "median_days_to_decision": None,
        },
        "monitoring_objects": {
            "by_type": _zeros(MONITORING_TYPES),
            "by_status": _zeros(OBJECT_STATUSES),
            "newly_included": _zeros([*MONITORING_TYPES, "epidemic"]),
            "look_backs": 0,
            "rollbacks": 0,
            "removals": 0,
        },
        "measures": {
            "by_category": _zeros(MEASURE_CATEGORIES),
            "by_status": _zeros(MEASURE_STATUSES),
            "labour_capable_objects": 0,
            "labour_capable_with_development": 0,
            "development_coverage_rate": None,
        },
    }


async def figures_by_group(
    session: AsyncSession, *, grouping: Grouping, period: Period, today: date
) -> defaultdict[str, dict[str, Any]]:
    """The place-bound figures of every group of `grouping` that has rows, keyed by
    the group's code prefix; any other key gives `empty_figures()`. Four statements."""
    params = grouping.params() | {"date_from": period.date_from, "date_to": period.date_to}
    due_soon_days = get_policy().identification.due_soon_days
    groups: defaultdict[str, dict[str, Any]] = defaultdict(empty_figures)

    for warning_row in (await session.execute(text(_WARNINGS), params)).mappings():
        figures = groups[warning_row["g"]]["warnings"]
        if warning_row["per_department"]:
            figures["by_department"][warning_row["department"]] = warning_row["received"]
        elif warning_row["per_type"]:
            figures["by_type"][warning_row["warning_type"]] = warning_row["received"]
        else:
            figures.update({key: warning_row[key] for key in _WARNING_COUNTS})

    case_params = params | {"today": today, "due_soon_until": today + timedelta(days=due_soon_days)}
    for case_row in (await session.execute(text(_CASES), case_params)).mappings():
        groups[case_row["g"]]["cases"] = {k: v for k, v in case_row.items() if k != "g"}

    for row in await session.execute(text(_OBJECTS), params):
        objects, measures = groups[row.g]["monitoring_objects"], groups[row.g]["measures"]
        if row.per_type:
            objects["by_type"][row.monitoring_type] = row.current
            objects["newly_included"][row.monitoring_type] = row.newly_included
        elif row.per_status:
            objects["by_status"][row.status] = row.objects
        else:
            objects["newly_included"]["epidemic"] = row.epidemic
            objects["look_backs"] = int(row.look_backs)
            objects["rollbacks"] = row.rollbacks
            objects["removals"] = row.removals
            measures["labour_capable_objects"] = row.labour_capable_objects
            measures["labour_capable_with_development"] = row.labour_capable_with_development
            measures["development_coverage_rate"] = row.development_coverage_rate

    for row in await session.execute(text(_MEASURES), grouping.params()):
        measures = groups[row.g]["measures"]
        if row.per_category:
            measures["by_category"][row.category] = row.active
        else:
            measures["by_status"][row.status] = row.measures
    return groups


async def feed_figures(session: AsyncSession, *, now: datetime) -> dict[str, int]:
    """The catalog's periodic feeds by state at `now` (as `/ingest/v1/feeds` shows them)."""
    counts = _zeros(FEED_STATES)
    for feed in await feed_states(session, now=now):
        counts[feed.state] += 1
    return counts
