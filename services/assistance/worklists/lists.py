"""Worklists (工作清单) of monitoring objects that wait on a county decision:

- `ready_to_eliminate` (Shandong: 达到风险消除条件的…是否及时标注): objects
  `risk_not_eliminated` that meet every elimination criterion today, judged by
  the elimination's own statement (services.assistance.objects.criteria), the
  measure criterion included (a natural elimination is the county's call);
- `rollback_candidates` (Meixian, Zhanggong: 风险消除不稳定和整户无劳动力的…
  全部进行回退): objects `risk_eliminated` flagged `whole_household_no_labour`,
  or whose latest assessment after the elimination is below that assessment's
  year's line (`income_below_line`) or finds a guarantee
  (`three_guarantees_not_secure`) or the drinking water
  (`drinking_water_not_secure`) not secure.

Both are keyset pages inside a region, oldest first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.assistance.objects.criteria import (
    LINES_CTE,
    criteria_params,
    criteria_sql,
    line_on,
    line_params,
    meets_every_criterion,
)
from shared.db import fetch_all
from shared.pagination import decode_cursor, page_of
from shared.policy import Policy
from shared.regions import scope_like_pattern


@dataclass(frozen=True, slots=True)
class ReadyRow:
    """An object ready to eliminate (API.md `Ready`)."""

    object_id: uuid.UUID
    household_id: str
    region_code: str
    included_on: date


@dataclass(frozen=True, slots=True)
class RollbackCandidateRow:
    """An eliminated object with a reason to roll back (API.md `RollbackCandidate`)."""

    object_id: uuid.UUID
    household_id: str
    region_code: str
    eliminated_on: date
    reasons: list[str]  # codes, in the order of the module's list


def _after(cursor: str | None, column: str, params: dict[str, Any]) -> str:
    """The keyset clause on (`column`, object_id) after `cursor`, or none."""
    if cursor is None:
        return ""
    day, object_id = decode_cursor(cursor, (date, uuid.UUID))
    params |= {"after_day": day, "after_id": object_id}
    return f" AND ({column}, o.object_id) > (:after_day, :after_id)"


async def ready_to_eliminate(
    session: AsyncSession,
    *,
    region_code: str,
    policy: Policy,
    today: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[ReadyRow], str | None]:
    """Objects inside `region_code` that `elimination` would accept today
    (natural aside), by inclusion date and object id."""
    params = criteria_params(policy, decided_on=today) | {
        "scope": scope_like_pattern(region_code),
        "limit": limit + 1,
    }
    where = "o.status = 'risk_not_eliminated' AND o.region_code LIKE :scope"
    where += _after(cursor, "o.included_on", params)
    # The fields of ReadyRow; built per request, as the scope and cursor vary.
    sql = criteria_sql(where) + (
        "SELECT c.object_id, c.household_id, c.region_code, c.included_on FROM criteria c"
        f" WHERE {meets_every_criterion()} ORDER BY c.included_on, c.object_id LIMIT :limit"
    )
    rows = await fetch_all(session, text(sql), params, into=ReadyRow)
    return page_of(rows, limit, lambda row: [row.included_on, row.object_id])


# The fields of RollbackCandidateRow: each object's latest assessment after its
# elimination, judged against the line of that assessment's year.
_ROLLBACK_CANDIDATES = """
WITH {lines}, judged AS (
    SELECT o.object_id, o.household_id, o.region_code, o.eliminated_on,
           o.whole_household_no_labour, later.assessment_id IS NOT NULL AS assessed,
           later.income_per_capita_yuan > {line} AS above_line,
           later.housing_secure AND later.education_secure AND later.medical_secure
               AS guarantees_secure,
           later.drinking_water_secure AS water_secure
    FROM monitoring_objects o
    LEFT JOIN LATERAL (
        SELECT a.* FROM assessments a
        WHERE a.county_code = o.county_code AND a.object_id = o.object_id
          AND a.assessed_on > o.eliminated_on
        ORDER BY a.assessed_on DESC, a.recorded_at DESC, a.assessment_id DESC LIMIT 1
    ) later ON true
    WHERE o.status = 'risk_eliminated' AND o.region_code LIKE :scope {after}
), reasoned AS (
    SELECT j.object_id, j.household_id, j.region_code, j.eliminated_on,
           array_remove(ARRAY[
               CASE WHEN j.whole_household_no_labour THEN 'whole_household_no_labour' END,
               CASE WHEN j.assessed AND NOT j.above_line THEN 'income_below_line' END,
               CASE WHEN j.assessed AND NOT j.guarantees_secure
                    THEN 'three_guarantees_not_secure' END,
               CASE WHEN j.assessed AND NOT j.water_secure THEN 'drinking_water_not_secure' END
           ], NULL) AS reasons
    FROM judged j
)
SELECT r.* FROM reasoned r WHERE cardinality(r.reasons) > 0
ORDER BY r.eliminated_on, r.object_id LIMIT :limit
"""


async def rollback_candidates(
    session: AsyncSession,
    *,
    region_code: str,
    policy: Policy,
    cursor: str | None,
    limit: int,
) -> tuple[list[RollbackCandidateRow], str | None]:
    """Eliminated objects inside `region_code` with a reason to roll back, by
    elimination date and object id; `reasons` in the order of the codes above."""
    params = line_params(policy) | {"scope": scope_like_pattern(region_code), "limit": limit + 1}
    sql = _ROLLBACK_CANDIDATES.format(
        lines=LINES_CTE,
        line=line_on("later.assessed_on"),
        after=_after(cursor, "o.eliminated_on", params),
    )
    rows = await fetch_all(session, text(sql), params, into=RollbackCandidateRow)
    return page_of(rows, limit, lambda row: [row.eliminated_on, row.object_id])
