"""Overdue problems of the ledger (问题台账, SPEC §11): a problem still open
after its rectification deadline (`due_on`, a date in the deployment's time
zone) is overdue. The daily gap scan records when it found it (`overdue_at`)
and announces it with `problem.overdue`, once per problem.

Responses compute `overdue` live; this scan is what tells the other services
(and the people they notify) that a deadline was missed. Assistance owns no
problem: it reads and marks the shared `problems` table, never the
identification service's code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.assistance.gaps.detection import scan_gaps
from shared.clock import local_date
from shared.event_types import PROBLEM_OVERDUE
from shared.events import notify

SCAN_ACTOR = "system:gap-scan"

# One statement: mark, announce, count. Exactly once per problem, even when two
# scans run at once: at READ COMMITTED the second UPDATE waits for the first
# one's row locks, then re-checks `overdue_at IS NULL` on the committed row and
# skips it. The payload is the contract of shared/event_types.py (no free text:
# description, responsible and action may name people).
_SCAN = text(
    "WITH marked AS ("
    "  UPDATE problems p SET overdue_at = :now"
    "  WHERE p.status = 'open' AND p.due_on < :today AND p.overdue_at IS NULL"
    "  RETURNING p.problem_id, p.county_code, p.campaign_id, p.region_code, p.household_id,"
    "    p.type, p.found_on, p.due_on, p.status, p.rectified_on"
    "), emitted AS ("
    "  INSERT INTO events (county_code, type, aggregate_type, aggregate_id, actor, payload)"
    "  SELECT m.county_code, :type, 'problem', m.problem_id::text, :actor,"
    "         jsonb_build_object('problem_id', m.problem_id::text,"
    "                            'campaign_id', m.campaign_id::text,"
    "                            'county_code', m.county_code, 'region_code', m.region_code,"
    "                            'household_id', m.household_id, 'type', m.type,"
    "                            'found_on', m.found_on, 'due_on', m.due_on,"
    "                            'status', m.status, 'rectified_on', m.rectified_on)"
    "  FROM marked m"
    "  RETURNING 1"
    ")"
    " SELECT (SELECT count(*) FROM emitted) AS marked,"
    "  (SELECT count(*) FROM problems p WHERE p.status = 'open' AND p.due_on < :today)"
    "    AS overdue"
)


async def scan_problem_deadlines(session: AsyncSession, *, now: datetime) -> dict[str, int]:
    """Mark every open problem past its `due_on` at `now` and emit one
    `problem.overdue` per problem marked (never commits).

    Idempotent: a marked problem is never marked or announced again. Returns
    `{"overdue": open problems past due, "marked": newly marked ones}`.
    """
    row = (
        await session.execute(
            _SCAN,
            {"now": now, "today": local_date(now), "type": PROBLEM_OVERDUE, "actor": SCAN_ACTOR},
        )
    ).one()
    if row.marked:
        await notify(session)
    return {"overdue": int(row.overdue), "marked": int(row.marked)}


async def scan_gaps_and_problems(session: AsyncSession, *, now: datetime) -> dict[str, Any]:
    """The `gap-scan` job: the assistance gaps (`scan_gaps`), then the ledger's
    overdue problems, in the same transaction and at the same `now`."""
    gaps = await scan_gaps(session, now=now)
    return {**gaps, "problems": await scan_problem_deadlines(session, now=now)}
