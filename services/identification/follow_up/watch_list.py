"""跟踪关注 (follow-up, Zhanggong): a household whose latest case was decided
`not_included` or `not_eligible` stays on the follow-up list for the policy's
window (`[identification] follow_up_days`, 180 by default: decided on or after
today less the window), while it has no open case and no monitoring object at
risk. `last_visit_on` is the household's latest visit: a case's household
visit (入户核查), or its last visit by the one rule of shared/visits.py (a
monthly visit, 每月走访, or an assessment recorded by assistance).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from shared.pagination import newest_first_rows
from shared.regions import scope_like_pattern
from shared.visits import last_visit_sql


@dataclass(frozen=True, slots=True)
class FollowUpRow:
    """A household under follow-up (API.md `FollowUp`)."""

    household_id: str
    region_code: str
    case_id: uuid.UUID
    outcome: str
    decided_on: date
    last_visit_on: date | None


# The fields of FollowUpRow: the household's latest decided case and its
# last visit: its cases' household visits or the last visit of shared/visits.py.
_SELECT = f"""
SELECT c.household_id, h.region_code, c.case_id, c.outcome, c.decided_on,
       GREATEST(
           (SELECT max(s.done_on) FROM case_steps s
            JOIN cases v ON v.county_code = s.county_code AND v.case_id = s.case_id
            WHERE v.county_code = c.county_code AND v.household_id = c.household_id
              AND s.step = 'household_visit'),
           {last_visit_sql("c")}
       ) AS last_visit_on
FROM cases c
JOIN households h ON h.county_code = c.county_code AND h.household_id = c.household_id
"""

_WHERE = (
    "h.region_code LIKE :scope",
    "c.outcome IN ('not_included', 'not_eligible')",
    "c.decided_on >= :since",
    # The household's latest case: none opened after it, none open.
    """NOT EXISTS (
        SELECT 1 FROM cases later
        WHERE later.county_code = c.county_code AND later.household_id = c.household_id
          AND (later.state = 'open' OR (later.opened_on, later.created_at, later.case_id)
                                       > (c.opened_on, c.created_at, c.case_id)))""",
    """NOT EXISTS (
        SELECT 1 FROM monitoring_objects o
        WHERE o.county_code = c.county_code AND o.household_id = c.household_id
          AND o.status = 'risk_not_eliminated')""",
)


async def follow_up_list(
    session: AsyncSession,
    *,
    region_code: str,
    today: date,
    window_days: int,
    cursor: str | None,
    limit: int,
) -> tuple[list[FollowUpRow], str | None]:
    """The households under follow-up inside `region_code`, latest decision first."""
    return await newest_first_rows(
        session,
        into=FollowUpRow,
        select=_SELECT,
        where=_WHERE,
        params={
            "scope": scope_like_pattern(region_code),
            "since": today - timedelta(days=window_days),
        },
        order=(("c.decided_on", "decided_on", date), ("c.case_id", "case_id", uuid.UUID)),
        cursor=cursor,
        limit=limit,
    )
