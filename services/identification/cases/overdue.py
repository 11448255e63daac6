"""The overdue scan (SPEC §7): a case not decided by the end of its deadline
day (in the deployment's time zone) is overdue; the scan records when it
found it (`overdue_at`) and announces it with `case.overdue`, once per case.

Lists and case views compute `overdue` live; the scan is what tells the
other services (and the people they notify) that a deadline was missed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import local_date
from shared.event_types import CASE_OVERDUE
from shared.events import notify

SCAN_ACTOR = "system:overdue-scan"

# One statement: mark, announce, count. Exactly once per case, even when two
# scans run at once: at READ COMMITTED the second UPDATE waits for the first
# one's row locks, then re-checks `overdue_at IS NULL` on the committed row
# and skips it, so it neither marks nor announces that case again.
_SCAN = text(
    "WITH marked AS ("
    "  UPDATE cases c SET overdue_at = :now"
    "  WHERE c.state = 'open' AND c.decided_on IS NULL AND c.deadline < :today"
    "    AND c.overdue_at IS NULL"
    "  RETURNING c.case_id, c.county_code, c.household_id, c.region_code, c.deadline"
    "), emitted AS ("
    "  INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    "  SELECT m.county_code, :type, 'case', m.case_id::text, :actor,"
    "         jsonb_build_object('case_id', m.case_id::text, 'deadline', m.deadline,"
    "                            'household_id', m.household_id,"
    "                            'county_code', m.county_code, 'region_code', m.region_code)"
    "  FROM marked m"
    "  RETURNING 1"
    ")"
    " SELECT (SELECT count(*) FROM emitted) AS marked,"
    "  (SELECT count(*) FROM cases c"
    "   WHERE c.state = 'open' AND c.decided_on IS NULL AND c.deadline < :today) AS overdue"
)


async def scan_overdue(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
    """Mark every undecided case past its deadline at `now` and emit one
    `case.overdue` per case marked (never commits).

    A deadline is a date: the decision is due by the end of that day in the
    deployment's time zone, so a case is overdue once the local date of `now`
    is after it. Idempotent: a marked case is never marked or announced again.
    Returns `{"overdue": undecided cases past their deadline, "marked": new ones}`.
    """
    row = (
        await session.execute(
            _SCAN,
            {"now": now, "today": local_date(now), "type": CASE_OVERDUE, "actor": SCAN_ACTOR},
        )
    ).one()
    if row.marked:
        await notify(session)
    return {"overdue": int(row.overdue), "marked": int(row.marked)}
