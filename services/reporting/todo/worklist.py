"""The staff to-do list (待办事项, issue 19 item 5): per village inside a region,
what needs doing today, read from the tables directly in one statement.

Sections, each the first `limit` items per village (most urgent first) with
the village's total:

- `overdue_cases`: undecided cases past their deadline (the cases list's
  `state=overdue`), oldest deadline first;
- `due_soon_cases`: undecided cases whose deadline is today or within the
  policy's `identification.due_soon_days` (`state=due_soon`);
- `gaps`: today's assistance gaps (shared/gaps.py, the rule
  `GET /assistance/v1/gaps` lists), oldest first; a poverty-alleviated
  household's `visit_overdue` gap has no object (`item_id` null);
- `pending_requests`: rollback and removal requests still `pending`
  (object_requests), oldest first;
- `overdue_problems`: problems of the ledger still `open` past their
  rectification date (`due_on` before today), oldest first.

Ids and codes only: no household id, name or ID number leaves this module.
A village is listed only when it has something to do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import fetch_all
from shared.gaps import gap_params, gaps_sql
from shared.policy import get_policy
from shared.regions import scope_like_pattern, scope_range

SECTIONS = ("overdue_cases", "due_soon_cases", "gaps", "pending_requests", "overdue_problems")


def _in_scope(alias: str) -> str:
    # The county first (every table is partitioned or indexed by it), then a
    # range of region codes rather than LIKE, which the indexes bound.
    return (
        f"{alias}.county_code = CAST(:county AS text)"
        f" AND {alias}.region_code >= CAST(:scope_from AS text)"
        f" AND {alias}.region_code < CAST(:scope_to AS text)"
    )


# `gaps` comes from the shared head (k holds today). Each section's rows share
# one shape; `on_date` is what the section sorts by (deadline, since,
# requested_on, due_on). Windows rank and count per (section, village), so the
# answer is bounded by villages x sections x :limit whatever the backlog.
_WORKLIST = text(
    gaps_sql()
    + f""",
items AS (
    SELECT CAST('overdue_cases' AS text) AS section, c.region_code, c.case_id AS item_id,
           CAST(NULL AS uuid) AS object_id, CAST(c.source AS text) AS code,
           c.deadline AS on_date
    FROM cases c CROSS JOIN k
    WHERE {_in_scope("c")} AND c.state = 'open' AND c.decided_on IS NULL
      AND c.deadline < k.today
    UNION ALL
    SELECT 'due_soon_cases', c.region_code, c.case_id, NULL, c.source, c.deadline
    FROM cases c CROSS JOIN k
    WHERE {_in_scope("c")} AND c.state = 'open' AND c.decided_on IS NULL
      AND c.deadline BETWEEN k.today AND CAST(:due_soon_until AS date)
    UNION ALL
    SELECT 'gaps', g.region_code, g.object_id, g.object_id, g.kind, g.since
    FROM gaps g
    UNION ALL
    SELECT 'pending_requests', r.region_code, r.request_id, r.object_id, r.kind, r.requested_on
    FROM object_requests r
    WHERE {_in_scope("r")} AND r.status = 'pending'
    UNION ALL
    SELECT 'overdue_problems', p.region_code, p.problem_id, NULL, p.type, p.due_on
    FROM problems p CROSS JOIN k
    WHERE {_in_scope("p")} AND p.status = 'open' AND p.due_on < k.today
), ranked AS (
    SELECT i.*,
           row_number() OVER (PARTITION BY i.section, i.region_code
                              ORDER BY i.on_date, i.item_id NULLS FIRST, i.code) AS rank,
           count(*) OVER (PARTITION BY i.section, i.region_code) AS total
    FROM items i
)
SELECT x.section, x.region_code, v.name AS region_name, x.item_id, x.object_id, x.code,
       x.on_date, x.total
FROM ranked x LEFT JOIN regions v ON v.code = x.region_code
WHERE x.rank <= :limit
ORDER BY x.region_code, x.section, x.rank
"""
)


_REGION_NAME = text("SELECT name FROM regions WHERE code = CAST(:code AS text)")


@dataclass(frozen=True, slots=True)
class TodoItemRow:
    """One item of a section of a village; `total` is that section's count there."""

    section: str
    region_code: str
    region_name: str | None
    item_id: uuid.UUID | None
    object_id: uuid.UUID | None
    code: str
    on_date: date
    total: int


async def todo_items(
    session: AsyncSession, *, region_code: str, today: date, limit: int
) -> list[TodoItemRow]:
    """The first `limit` items of every section of every village inside
    `region_code` on `today`, by village, section and urgency."""
    scope_from, scope_to = scope_range(region_code)
    due_soon_until = today + timedelta(days=get_policy().identification.due_soon_days)
    params = gap_params(today=today, scope=scope_like_pattern(region_code)) | {
        "county": region_code[:6],
        "scope_from": scope_from,
        "scope_to": scope_to,
        "due_soon_until": due_soon_until,
        "limit": limit,
    }
    return await fetch_all(session, _WORKLIST, params, into=TodoItemRow)


def _item(row: TodoItemRow, *, today: date) -> dict[str, Any]:
    """One row as its section's item, with the link to its JSON."""
    if row.section in ("overdue_cases", "due_soon_cases"):
        return {
            "case_id": row.item_id,
            "source": row.code,
            "deadline": row.on_date,
            "days_left": (row.on_date - today).days,
            "href": f"/identification/v1/cases/{row.item_id}",
        }
    if row.section == "gaps":
        href = (
            f"/identification/v1/monitoring_objects/{row.object_id}"
            if row.object_id is not None
            else f"/assistance/v1/gaps?{urlencode({'region': row.region_code, 'kind': row.code})}"
        )
        return {"object_id": row.object_id, "kind": row.code, "since": row.on_date, "href": href}
    if row.section == "pending_requests":
        return {
            "request_id": row.item_id,
            "object_id": row.object_id,
            "kind": row.code,
            "requested_on": row.on_date,
            "href": f"/identification/v1/requests/{row.item_id}",
        }
    return {
        "problem_id": row.item_id,
        "type": row.code,
        "due_on": row.on_date,
        "days_overdue": (today - row.on_date).days,
        "href": f"/identification/v1/problems/{row.item_id}",
    }


async def worklist(
    session: AsyncSession, *, region_code: str, today: date, limit: int
) -> dict[str, Any]:
    """The to-do list of `region_code` on `today` (the `Todo` shape): per village
    with something to do, each section's total and first `limit` items."""
    rows = await todo_items(session, region_code=region_code, today=today, limit=limit)
    villages: dict[str, dict[str, Any]] = {}
    for row in rows:
        village = villages.get(row.region_code)
        if village is None:
            village = villages[row.region_code] = {
                "region_code": row.region_code,
                "region_name": row.region_name,
                "totals": dict.fromkeys(SECTIONS, 0),
            } | {section: {"total": 0, "items": []} for section in SECTIONS}
        village["totals"][row.section] = village[row.section]["total"] = row.total
        village[row.section]["items"].append(_item(row, today=today))
    totals = {s: sum(v["totals"][s] for v in villages.values()) for s in SECTIONS}
    name = await session.scalar(_REGION_NAME, {"code": region_code})
    return {
        "region": region_code,
        "region_name": name,
        "today": today,
        "limit": limit,
        "totals": totals,
        "villages": list(villages.values()),
    }
