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
  `look_backs` (look-back assessments of the region's objects),
  `eliminated_naturally` (natural eliminations 自然消除 by eliminated_on; an
  elimination since rolled back no longer counts), `rollbacks`
  (rolled_back_on; only an object's latest rollback is kept), `removals`.
  `persons`: the same `by_type`, `by_status` and `newly_included` in persons,
  the members of those objects' households today (a household's members
  count once per object of it); the persons of `rollbacks` and `removals`
  are kept too, for the progress table. `by_risk_type` (stock): objects at risk
  (risk_not_eliminated) per risk type; an object with two counts under both.
- measures (stock): `by_category` (not cancelled), `by_status` (all);
  `development_coverage_rate`: of the objects at risk (risk_not_eliminated,
  not flagged whole_household_no_labour) with a member whose labour capacity
  is not `none` (`labour_capable_objects`), the share with a development
  measure that is not cancelled (`labour_capable_with_development`); null when
  there is no such object. The assistance gap `no_development_measure` is the
  complement. It is computed by the objects' statement, which reads them.
- feeds (no place; as of now): the periodic feeds of the catalog by state, as
  the ingest service computes them (a rolling due time of last push + cadence).

The counts come from the summary tables (services/reporting/summaries.py),
which count these same rows per region of every level, and per day, month and
year, and are kept current from the event stream; their SQL is where each
count above is taken from the rows. A request reads its groups' own grain,
and the fewest day, month and year rows that add up to its period
(services/reporting/buckets.py).

Rates are fractions from 0 to 1, rounded to four decimals. Figures recorded
at a region above the grouping level (an unmatched warning filed at the
county itself) count for the region and for none of its children.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.buckets import GROUP, SUMMARY_ROWS, bucket_params, dated_rows
from shared.catalog import (
    DEPARTMENTS,
    MEASURE_CATEGORIES,
    MEASURE_STATUSES,
    MONITORING_TYPES,
    OBJECT_STATUSES,
    RISK_TYPES,
    WARNING_TYPES,
)
from shared.feeds import FEED_STATES, feed_states
from shared.policy import get_policy
from shared.regions import LEVEL_DIGITS, pad, prefix_range, region_level, region_prefix

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
    """The rows inside `region_code`, grouped by the first `digits` of their region
    code; only the groups of `codes` (full region codes of `digits`' level, or
    codes of other places to group at that grain) are read."""

    region_code: str
    digits: int
    codes: tuple[str, ...]

    @classmethod
    def of_region(cls, region_code: str) -> Grouping:
        """One group: the region itself."""
        return cls(region_code, LEVEL_DIGITS[region_level(region_code)], (region_code,))


def _rate(part: int, whole: int) -> float | None:
    """part / whole as a fraction rounded to 4 places (half up); None when whole is 0."""
    if not whole:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


_WARNINGS = f"""
SELECT {GROUP} AS g, s.warning_type, GROUPING(s.warning_type) = 0 AS per_type,
       sum(s.n) AS received,
       COALESCE(sum(s.n) FILTER (WHERE s.status = 'matched'), 0) AS matched,
       COALESCE(sum(s.n) FILTER (WHERE s.status = 'unmatched'), 0) AS unmatched,
       COALESCE(sum(s.n) FILTER (WHERE s.status = 'below_threshold'), 0) AS below_threshold,
       COALESCE(sum(s.n) FILTER (WHERE s.status = 'dismissed'), 0) AS dismissed,
       COALESCE(sum(s.n) FILTER (WHERE s.late), 0) AS late
FROM {dated_rows("summary_warnings", "s.region_code, s.warning_type, s.status, s.late")}
GROUP BY GROUPING SETS ((1), (1, s.warning_type))
"""

# `medians` (g, median_days) of a `histogram` (g, days, n) CTE: the median of
# each group's values as percentile_cont(0.5) gives it, the mean of the values
# at the two middle positions (one value for an odd count).
MEDIANS = """running AS (
    SELECT g, days, sum(n) OVER (PARTITION BY g ORDER BY days) AS upto,
           sum(n) OVER (PARTITION BY g) AS total
    FROM histogram
), medians AS (
    SELECT g, (min(days) FILTER (WHERE upto > div(total - 1, 2))
               + min(days) FILTER (WHERE upto > div(total, 2))) / 2.0 AS median_days
    FROM running GROUP BY g
)"""

# Per group, with the median days to decision of its decided cases, worked out
# in SQL rather than in Python from histogram rows: a province's `/regions`
# would otherwise read some 4,000 of them.
_CASE_COLUMNS = "s.region_code, s.event, s.days_to_decision, s.within_deadline"
_DECISIONS = f"""
WITH counted AS (
    SELECT {GROUP} AS g, s.event, s.days_to_decision, s.within_deadline, s.n
    FROM {dated_rows("summary_cases", _CASE_COLUMNS)}
), figures AS (
    SELECT g,
           COALESCE(sum(n) FILTER (WHERE event = 'opened'), 0) AS opened,
           COALESCE(sum(n) FILTER (WHERE event = 'decided'), 0) AS decided,
           COALESCE(sum(n) FILTER (WHERE event = 'decided' AND within_deadline), 0)
               AS decided_within_15_days
    FROM counted GROUP BY g
), histogram AS (
    SELECT g, days_to_decision AS days, CAST(sum(n) AS bigint) AS n
    FROM counted WHERE event = 'decided'
    GROUP BY g, days_to_decision HAVING sum(n) > 0
), {MEDIANS}
SELECT f.g, f.opened, f.decided, f.decided_within_15_days, m.median_days
FROM figures f LEFT JOIN medians m USING (g)
"""

_OPEN_CASES = f"""
SELECT {GROUP} AS g, sum(s.n) AS open,
       COALESCE(sum(s.n) FILTER (WHERE s.deadline < CAST(:today AS date)), 0) AS overdue,
       COALESCE(sum(s.n) FILTER (WHERE s.deadline
                BETWEEN CAST(:today AS date) AND CAST(:due_soon_until AS date)), 0) AS due_soon
FROM summary_open_cases s
WHERE {SUMMARY_ROWS}
GROUP BY 1
"""

_OBJECTS = f"""
SELECT {GROUP} AS g, s.monitoring_type, s.status,
       GROUPING(s.monitoring_type) = 0 AS per_type, GROUPING(s.status) = 0 AS per_status,
       sum(s.n) AS objects, sum(s.persons) AS persons,
       COALESCE(sum(s.n) FILTER (WHERE s.status <> 'removed'), 0) AS current,
       COALESCE(sum(s.persons) FILTER (WHERE s.status <> 'removed'), 0) AS current_persons,
       COALESCE(sum(s.n) FILTER (WHERE s.labour_capable), 0) AS labour_capable_objects,
       COALESCE(sum(s.n) FILTER (WHERE s.labour_capable AND s.developed), 0)
           AS labour_capable_with_development
FROM summary_objects s
WHERE {SUMMARY_ROWS}
GROUP BY GROUPING SETS ((1), (1, s.monitoring_type), (1, s.status))
"""

_OBJECT_EVENTS = f"""
SELECT {GROUP} AS g, s.event, s.monitoring_type, sum(s.n) AS n, sum(s.persons) AS persons
FROM {
    dated_rows(
        "summary_object_events", "s.region_code, s.event, s.monitoring_type", ("n", "persons")
    )
}
GROUP BY 1, 2, 3
"""

_OBJECT_RISKS = f"""
SELECT {GROUP} AS g, s.risk_type, sum(s.n) AS n
FROM summary_object_risks s
WHERE {SUMMARY_ROWS}
GROUP BY 1, 2
"""

_MEASURES = f"""
SELECT {GROUP} AS g, s.category, s.status, GROUPING(s.category) = 0 AS per_category,
       COALESCE(sum(s.n) FILTER (WHERE s.status <> 'cancelled'), 0) AS active,
       sum(s.n) AS measures
FROM summary_measures s
WHERE {SUMMARY_ROWS}
GROUP BY GROUPING SETS ((1, s.category), (1, s.status))
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
            "persons": {
                "by_type": _zeros(MONITORING_TYPES),
                "by_status": _zeros(OBJECT_STATUSES),
                "newly_included": _zeros([*MONITORING_TYPES, "epidemic"]),
                # For the progress table; the overview's response leaves them out.
                "rollbacks": 0,
                "removals": 0,
            },
            "by_risk_type": _zeros(RISK_TYPES),
            "look_backs": 0,
            "eliminated_naturally": 0,
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


# The grains by level, coarsest first.
_GRAINS = sorted(LEVEL_DIGITS.items(), key=lambda grain: grain[1])


def _summary_params(grouping: Grouping, period: Period) -> dict[str, Any]:
    # The coarsest grain whose rows still tell the groups apart.
    grain, digits = next((g, d) for g, d in _GRAINS if grouping.digits <= d)
    county_from, county_to = prefix_range(
        region_prefix(grouping.region_code)[: LEVEL_DIGITS["county"]]
    )
    return {
        "digits": grouping.digits,
        "grain": grain,
        "codes": sorted({pad(code[:digits]) for code in grouping.codes}),
        "county_from": county_from,
        "county_to": county_to,
        **bucket_params(period.date_from, period.date_to),
    }


async def figures_by_group(
    session: AsyncSession, *, grouping: Grouping, period: Period, today: date
) -> defaultdict[str, dict[str, Any]]:
    """The place-bound figures of every group of `grouping` that has rows, keyed by
    the group's code prefix; any other key gives `empty_figures()`. Seven statements
    over the summaries (services/reporting/summaries.py)."""
    params = _summary_params(grouping, period)
    due_soon_days = get_policy().identification.due_soon_days
    groups: defaultdict[str, dict[str, Any]] = defaultdict(empty_figures)

    for warning_row in (await session.execute(text(_WARNINGS), params)).mappings():
        warnings = groups[warning_row["g"]]["warnings"]
        received = int(warning_row["received"])
        if warning_row["per_type"]:
            warnings["by_type"][warning_row["warning_type"]] = received
            department = WARNING_TYPES[warning_row["warning_type"]].department
            warnings["by_department"][department] += received
        else:
            warnings.update({key: int(warning_row[key]) for key in _WARNING_COUNTS})

    for row in await session.execute(text(_DECISIONS), params):
        cases = groups[row.g]["cases"]
        cases["opened"] = int(row.opened)
        cases["decided"] = int(row.decided)
        cases["decided_within_15_days"] = int(row.decided_within_15_days)
        cases["within_15_days_rate"] = _rate(row.decided_within_15_days, row.decided)
        if row.median_days is not None:
            cases["median_days_to_decision"] = float(row.median_days)

    stock = params | {"today": today, "due_soon_until": today + timedelta(days=due_soon_days)}
    for row in await session.execute(text(_OPEN_CASES), stock):
        cases = groups[row.g]["cases"]
        cases.update(open=int(row.open), overdue=int(row.overdue), due_soon=int(row.due_soon))

    for row in await session.execute(text(_OBJECTS), params):
        objects, measures = groups[row.g]["monitoring_objects"], groups[row.g]["measures"]
        if row.per_type:
            objects["by_type"][row.monitoring_type] = int(row.current)
            objects["persons"]["by_type"][row.monitoring_type] = int(row.current_persons)
        elif row.per_status:
            objects["by_status"][row.status] = int(row.objects)
            objects["persons"]["by_status"][row.status] = int(row.persons)
        else:
            capable, developed = (
                int(row.labour_capable_objects),
                int(row.labour_capable_with_development),
            )
            measures["labour_capable_objects"] = capable
            measures["labour_capable_with_development"] = developed
            measures["development_coverage_rate"] = _rate(developed, capable)

    for row in await session.execute(text(_OBJECT_EVENTS), params):
        objects = groups[row.g]["monitoring_objects"]
        n, persons = int(row.n), objects["persons"]["newly_included"]
        if row.event == "included":
            objects["newly_included"][row.monitoring_type] += n
            persons[row.monitoring_type] += int(row.persons)
        elif row.event == "included_epidemic":
            objects["newly_included"]["epidemic"] += n
            persons["epidemic"] += int(row.persons)
        else:
            key = {
                "eliminated_naturally": "eliminated_naturally",
                "rolled_back": "rollbacks",
                "removed": "removals",
                "look_back": "look_backs",
            }[row.event]
            objects[key] += n
            if key in ("rollbacks", "removals"):
                objects["persons"][key] += int(row.persons)

    for row in await session.execute(text(_OBJECT_RISKS), params):
        groups[row.g]["monitoring_objects"]["by_risk_type"][row.risk_type] = int(row.n)

    for row in await session.execute(text(_MEASURES), params):
        measures = groups[row.g]["measures"]
        if row.per_category:
            measures["by_category"][row.category] = int(row.active)
        else:
            measures["by_status"][row.status] = int(row.measures)
    return groups


async def feed_figures(session: AsyncSession, *, now: datetime) -> dict[str, int]:
    """The catalog's periodic feeds by state at `now` (as `/ingest/v1/feeds` shows them)."""
    counts = _zeros(FEED_STATES)
    for feed in await feed_states(session, now=now):
        counts[feed.state] += 1
    return counts
