"""The pending-case list (待认定): cases inside a region, most urgent first, in
keyset pages on (deadline, case_id).

One statement per page, built so that PostgreSQL reads a page off an index
in deadline order instead of sorting every case of the region:

- Open cases (`state` open, overdue or due_soon, or a `step`) of a county, a
  town or a village come off the partial index `ix_cases_open_deadline
  (county_code, deadline, case_id) WHERE state = 'open'`, a town's or a
  village's filtered on the way; a village's may come off
  `ix_cases_region_deadline` instead, whichever the planner finds cheaper.
- A village's cases come off `ix_cases_region_deadline (region_code,
  deadline, case_id)` in order, whatever the filters.
- Every case of a county or a town (no filter, the default list): no index
  holds them in deadline order across villages, and sorting them all gets
  slower every year as decided cases accumulate. Each village's first page
  comes off the region index instead (index-only), and the pages are merged:
  villages x page size index entries, however long the county's history.
- Decided cases, or a `source` without a state, of a county or a town: read
  off the region index and sorted, a cost that grows with the county's
  decided cases (a partial index on (county_code, deadline, case_id) WHERE
  state = 'decided' would serve them in order).

`overdue`, `due_soon` and `step` concern undecided cases only, which are the
open ones: a decision sets `decided_on` and `state = 'decided'` together. The
filters name both, so that the partial index of open cases applies.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.identification.cases.lookup import CASE_COLUMNS, CaseRow
from shared.catalog import CASE_SOURCES, CASE_STEPS
from shared.db import fetch_all
from shared.errors import invalid
from shared.pagination import decode_cursor, page_of
from shared.policy import get_policy
from shared.regions import region_level, scope_like_pattern

STATES = ("open", "decided", "overdue", "due_soon")

_UNDECIDED = "c.state = 'open' AND c.decided_on IS NULL"

# What each `state` keeps; :today is the deployment's date.
_STATE_CLAUSES = {
    "open": "c.state = 'open'",
    "decided": "c.state = 'decided'",
    "overdue": f"{_UNDECIDED} AND c.deadline < :today",
    "due_soon": f"{_UNDECIDED} AND c.deadline BETWEEN :today AND :due_soon_until",
}

_ORDERED = """
SELECT {columns} FROM cases c WHERE {where}
ORDER BY c.deadline, c.case_id LIMIT :limit
"""

# The villages with cases inside the scope, one index probe each (a loose
# index scan); then each one's first page in deadline order, off the region
# index alone (a region code starts with its county code), merged.
_MERGED_BY_REGION = """
WITH RECURSIVE regions AS (
    SELECT (SELECT min(region_code) FROM cases WHERE region_code LIKE :scope) AS code
    UNION ALL
    SELECT (SELECT min(n.region_code) FROM cases n
            WHERE n.region_code > r.code AND n.region_code LIKE :scope)
    FROM regions r WHERE r.code IS NOT NULL
), page AS (
    SELECT p.case_id, p.deadline, left(r.code, 6) AS county_code FROM regions r
    CROSS JOIN LATERAL (
        SELECT c.case_id, c.deadline FROM cases c
        WHERE c.region_code = r.code AND {where}
        ORDER BY c.deadline, c.case_id LIMIT :limit
    ) p
    ORDER BY p.deadline, p.case_id LIMIT :limit
)
SELECT {columns} FROM page
JOIN cases c ON c.case_id = page.case_id AND c.county_code = page.county_code
ORDER BY c.deadline, c.case_id
"""


def _check_code(field: str, value: str | None, allowed: Any) -> None:
    if value is not None and value not in allowed:
        raise invalid(field, "invalid_code", f"{field} must be one of {', '.join(allowed)}")


def _check_filters(*, state: str | None, step: str | None, source: str | None) -> None:
    _check_code("state", state, STATES)
    _check_code("step", step, list(CASE_STEPS))
    _check_code("source", source, list(CASE_SOURCES))


def case_filters(
    *, region_code: str, today: date, state: str | None, step: str | None, source: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The list's filters as WHERE clauses on `cases c` and their parameters,
    for a whole region (the ledger); 422 `invalid_code` as the list."""
    _check_filters(state=state, step=step, source=source)
    clauses, params = _filters(today=today, state=state, step=step, source=source, cursor=None)
    clauses += ["c.county_code = :county", "c.region_code LIKE :scope"]
    params |= {"county": region_code[:6], "scope": scope_like_pattern(region_code)}
    return clauses, params


def _filters(
    *, today: date, state: str | None, step: str | None, source: str | None, cursor: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The WHERE clauses and parameters of the filters and the cursor."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if state is not None:
        clauses.append(_STATE_CLAUSES[state])
        params["today"] = today
        due_soon_days = get_policy().identification.due_soon_days
        params["due_soon_until"] = today + timedelta(days=due_soon_days)
    if step is not None:
        clauses.append("c.state = 'open' AND NOT (CAST(:step AS varchar) = ANY(c.steps_done))")
        params["step"] = step
    if source is not None:
        clauses.append("c.source = :source")
        params["source"] = source
    if cursor is not None:
        deadline, case_id = decode_cursor(cursor, (date, uuid.UUID))
        clauses.append("(c.deadline, c.case_id) > (:after_deadline, :after_id)")
        params |= {"after_deadline": deadline, "after_id": case_id}
    return clauses, params


def _statement(
    region_code: str, *, open_only: bool, unfiltered: bool, filters: list[str]
) -> tuple[str, dict[str, Any]]:
    """The page's statement for the scope `region_code`, and its scope parameters.

    `open_only`: the filters keep open cases only; `unfiltered`: no filter
    but the cursor (which `filters` then holds alone, if given).
    """
    level = region_level(region_code)
    where = list(filters)
    params: dict[str, Any] = {}
    if level == "village":
        # Equality, not LIKE: the region index then yields the village's cases in order.
        where += ["c.county_code = :county", "c.region_code = :region"]
        params = {"county": region_code[:6], "region": region_code}
    elif unfiltered:
        merged = _MERGED_BY_REGION.format(
            columns=CASE_COLUMNS, where=" AND ".join(where or ["true"])
        )
        return merged, {"scope": scope_like_pattern(region_code)}
    else:
        if level in ("county", "town"):
            where.append("c.county_code = :county")
            params["county"] = region_code[:6]
        if level != "county" or not open_only:
            where.append("c.region_code LIKE :scope")
            params["scope"] = scope_like_pattern(region_code)
    return _ORDERED.format(columns=CASE_COLUMNS, where=" AND ".join(where)), params


async def list_cases(
    session: AsyncSession,
    *,
    region_code: str,
    today: date,
    state: str | None = None,
    step: str | None = None,
    source: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[CaseRow], str | None]:
    """Cases inside `region_code`, deadline first, as CaseRows, and
    the next page's cursor.

    `state`: open, decided, overdue (undecided, `today` past the deadline) or
    due_soon (undecided, the deadline today or within the policy's due-soon
    days); `step`: open cases that have not done that step yet; `source`: the
    clue's source. 422 `invalid_code` for a value outside its list.
    """
    _check_filters(state=state, step=step, source=source)
    filters, params = _filters(today=today, state=state, step=step, source=source, cursor=cursor)
    statement, scope_params = _statement(
        region_code,
        open_only=state in ("open", "overdue", "due_soon") or step is not None,
        unfiltered=state is None and step is None and source is None,
        filters=filters,
    )
    rows = await fetch_all(
        session, text(statement), {**params, **scope_params, "limit": limit + 1}, into=CaseRow
    )
    return page_of(rows, limit, lambda row: [row.deadline, row.case_id])
